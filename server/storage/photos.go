package storage

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Photos keeps the photo evidence of visits and which bytes are verified.
type Photos interface {
	// Find returns the photo slot (questionID, index) of the visit of
	// shopperID. Errors: ENOTFOUND (no such visit of the shopper's, or no
	// such slot in it).
	Find(ctx context.Context, shopperID, visitID, questionID string, index int) (*VisitPhoto, error)
	// Verified reports whether the bytes with hex SHA-256 sha are verified.
	Verified(ctx context.Context, sha string) (bool, error)
	// Reused returns those of hashes that a photo of another visit than
	// visitID references, the visit it corrects (correctsID) and the
	// visits correcting it aside, each once.
	Reused(ctx context.Context, visitID, correctsID string, hashes []string) ([]string, error)
	// Exif returns what the server read from the verified bytes among
	// hashes, by hash.
	Exif(ctx context.Context, hashes []string) (map[string]Exif, error)
	// Missing returns how many photo slots of the visit are not verified
	// yet.
	Missing(ctx context.Context, visitID string) (int, error)
	// RecordVerified records that the server verified bytes b; recording
	// them again changes nothing.
	RecordVerified(ctx context.Context, b VerifiedBlob) error
	// MarkVerified marks every unverified slot of the bytes sha verified,
	// at the transaction's time, and returns the visits of those slots,
	// each once, in the order first met.
	MarkVerified(ctx context.Context, sha string) ([]string, error)
	// LockHash waits until no other caller, on any server of the
	// database, holds the lock of the bytes sha, takes it, and returns
	// the function that gives it back (call it once). The verification of
	// uploaded bytes holds it from its first check to its record, so that
	// deleting a mismatched upload never removes good bytes another
	// server has just verified. On a Storage it belongs to no
	// transaction; on a Tx it may last until the transaction ends. Only
	// ctx ending, or the database failing, stops the wait.
	LockHash(ctx context.Context, sha string) (unlock func(), err error)
}

// VisitPhoto is one photo slot of a stored visit: the bytes it must be,
// and whether the server has verified them.
type VisitPhoto struct {
	VisitID     string
	QuestionID  string
	Index       int
	SHA256      string // lower-case hex
	Size        int64
	ContentType string
	Verified    bool
}

// Exif is what the server read from a photo's EXIF: the time it was taken
// (zero when absent or without a time zone) and where (nil when absent).
type Exif struct {
	Time  time.Time
	Point *audit.GeoPoint
}

// VerifiedBlob is photo bytes the server verified in the blob store.
type VerifiedBlob struct {
	SHA256      string // lower-case hex
	Size        int64
	ContentType string
	Exif        Exif
}
