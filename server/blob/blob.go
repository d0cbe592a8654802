// Package blob stores photo evidence by content address, and hands out the
// short-lived signed URLs through which the field client uploads and
// downloads the bytes, so that they never pass through the RPC layer
// (docs/DESIGN.md §4).
//
// Two kinds implement Bucket: Local keeps files in a directory and serves
// HMAC-signed URLs itself (it is an http.Handler the server mounts), and S3
// presigns URLs of any S3-compatible service with minio-go. Whatever a bucket
// promises to check, the server never trusts it: Verify stats and re-hashes
// every stored object, and deletes it on a mismatch.
//
// Errors meant for a caller are domain errors from package audit
// (EINVALID, ENOTFOUND, EDATALOSS); any other error is internal.
package blob

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Limits of the presigned URLs, the same for every bucket. S3 refuses a
// presigned URL that lives longer than seven days or less than a second.
const (
	MinTTL = time.Second
	MaxTTL = 7 * 24 * time.Hour
)

// maxKeyLen bounds a key; S3 allows 1024 bytes.
const maxKeyLen = 1024

// UploadSlot is where and how a client uploads one object: an HTTP request
// with Method to URL carrying exactly Headers (Content-Length among them, which
// most HTTP clients set from the body) before ExpiresAt.
type UploadSlot struct {
	URL       string
	Method    string
	Headers   map[string]string
	ExpiresAt time.Time
}

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ContentType string
}

// Bucket keeps objects by key and signs URLs to upload and download them.
//
// Keys are slash-separated paths of segments made of ASCII letters, digits,
// '.', '_' and '-', none of them empty or starting with '.'; Key derives the
// key of a photo from its hash. An invalid key, size, hash, content type or
// TTL is an audit.EINVALID error.
type Bucket interface {
	// PresignPut returns a short-lived upload URL bound to the key, the
	// exact size, the content type and (where the backend can) the SHA-256
	// of the bytes. The ttl must be within [MinTTL, MaxTTL].
	PresignPut(ctx context.Context, key string, size int64, sha256Hex, contentType string, ttl time.Duration) (UploadSlot, error)
	// PresignGet returns a short-lived download URL of the key.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Stat describes a stored object; a missing one is audit.ENOTFOUND.
	Stat(ctx context.Context, key string) (Object, error)
	// Open returns the bytes of a stored object; a missing one is
	// audit.ENOTFOUND. The caller closes the reader.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
}

// Key derives the content address of a photo from the hex SHA-256 of its
// bytes: "sha256/ab/cd/<hex>", in lower case. A malformed hash is an
// audit.EINVALID error.
func Key(sha256Hex string) (string, error) {
	sum, err := parseSHA256(sha256Hex)
	if err != nil {
		return "", err
	}
	h := hex.EncodeToString(sum)
	return "sha256/" + h[0:2] + "/" + h[2:4] + "/" + h, nil
}

// Verify checks that the object stored under key has exactly size bytes
// whose SHA-256 is sha256Hex: it stats the object, then reads and hashes it
// as a stream. On a mismatch it deletes the object and returns an
// audit.EDATALOSS error (joined with the delete's error should that fail).
// A missing object is audit.ENOTFOUND, malformed arguments audit.EINVALID;
// a failure to read is returned as it is and deletes nothing. Verify is the
// one check for every bucket: none is trusted to have checked on upload.
func Verify(ctx context.Context, s Bucket, key string, size int64, sha256Hex string) error {
	_, err := VerifyHead(ctx, s, key, size, sha256Hex, 0)
	return err
}

// VerifyHead is Verify that also returns the first head bytes of the
// verified object (fewer when it is smaller), read in the same pass, so that
// a caller that wants to look inside (at a photo's EXIF, say) does not read
// the object a second time. It returns the same errors as Verify, and no
// bytes unless the object verified.
func VerifyHead(ctx context.Context, s Bucket, key string, size int64, sha256Hex string, head int) ([]byte, error) {
	want, err := parseSHA256(sha256Hex)
	if err != nil {
		return nil, err
	}
	if err := validKey(key); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, audit.Errorf(audit.EINVALID, "size %d is negative", size)
	}
	obj, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if obj.Size != size {
		return nil, discard(ctx, s, key, audit.Errorf(audit.EDATALOSS, "photo %s has %d bytes, want %d", key, obj.Size, size))
	}
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	h := sha256.New()
	first := &headWriter{max: head}
	// Read one byte more than expected to notice an object that grew
	// between Stat and Open, without reading an unbounded stream.
	n, err := io.CopyN(io.MultiWriter(h, first), ctxReader{ctx: ctx, r: rc}, size+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("blob: verify %s: read: %w", key, err)
	}
	if n != size {
		return nil, discard(ctx, s, key, audit.Errorf(audit.EDATALOSS, "photo %s has %d bytes, want %d", key, n, size))
	}
	if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
		return nil, discard(ctx, s, key, audit.Errorf(audit.EDATALOSS, "photo %s does not match its SHA-256", key))
	}
	return first.buf, nil
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	max int
	buf []byte
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// discard deletes the mismatched object under key and returns cause, joined
// with the delete's error if there is one.
func discard(ctx context.Context, s Bucket, key string, cause error) error {
	if err := s.Delete(ctx, key); err != nil {
		return errors.Join(cause, fmt.Errorf("blob: delete mismatched %s: %w", key, err))
	}
	return cause
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// parseSHA256 decodes a hex SHA-256 digest in either case.
func parseSHA256(s string) ([]byte, error) {
	if len(s) != 2*sha256.Size {
		return nil, audit.Errorf(audit.EINVALID, "sha256 must be %d hex digits", 2*sha256.Size)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, audit.Errorf(audit.EINVALID, "sha256 must be %d hex digits", 2*sha256.Size)
	}
	return b, nil
}

// validKey checks the key syntax every bucket accepts (see Bucket).
func validKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return audit.Errorf(audit.EINVALID, "key must have 1 to %d bytes", maxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg[0] == '.' {
			return audit.Errorf(audit.EINVALID, "key %q has an empty segment or one starting with '.'", key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return audit.Errorf(audit.EINVALID, "key %q has a character other than letters, digits, '.', '_', '-' and '/'", key)
			}
		}
	}
	return nil
}

// validTTL checks the lifetime of a presigned URL.
func validTTL(ttl time.Duration) error {
	if ttl < MinTTL || ttl > MaxTTL {
		return audit.Errorf(audit.EINVALID, "URL lifetime %v is outside [%v, %v]", ttl, MinTTL, MaxTTL)
	}
	return nil
}

// validContentType checks that ct is a single media type such as
// "image/jpeg", safe to put in a header.
func validContentType(ct string) error {
	if ct == "" || len(ct) > 255 {
		return audit.Errorf(audit.EINVALID, "content type must have 1 to 255 bytes")
	}
	for i := 0; i < len(ct); i++ {
		if ct[i] < 0x20 || ct[i] > 0x7e {
			return audit.Errorf(audit.EINVALID, "content type %q has a control or non-ASCII character", ct)
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return audit.Errorf(audit.EINVALID, "content type %q is not a media type", ct)
	}
	return nil
}

// validPut checks the arguments of PresignPut shared by every bucket.
func validPut(key string, size int64, sha256Hex, contentType string, ttl time.Duration) ([]byte, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, audit.Errorf(audit.EINVALID, "size %d must be positive", size)
	}
	sum, err := parseSHA256(sha256Hex)
	if err != nil {
		return nil, err
	}
	if err := validContentType(contentType); err != nil {
		return nil, err
	}
	if err := validTTL(ttl); err != nil {
		return nil, err
	}
	return sum, nil
}
