package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/sync/protocol"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/server/storage"
)

// evidenceService implements shopscore.v1.EvidenceService (docs/DESIGN.md §4):
// photo bytes go straight between the device and the blob store through
// short-lived signed URLs, and the server verifies what the store holds.
type evidenceService struct{ s *Server }

// blobPrefix is the path under which the server serves the local blob
// store's signed URLs.
const blobPrefix = "/blob/"

// UploadSlotTTL is how long an upload URL stays valid.
const UploadSlotTTL = 15 * time.Minute

// blobSecretLen is the length of the local store's signing secret.
const blobSecretLen = 32

// blobSecret is the local store's URL signing secret: derived from the
// key-encryption key, so that every server with that key accepts the
// URLs another signed, and nothing more is kept on one server's disk.
// A blob.secret file older builds made is no longer read.
func (s *Server) blobSecret() []byte { return s.kek.Derive(blobSecretLabel, blobSecretLen) }

// openBlobStore sets up the evidence store: the configured one, or the
// local store under the data folder with its signing secret.
func (s *Server) openBlobStore() error {
	if u := s.cfg.PublicURL; u != "" { // checked by Config.validate
		s.publicURL.Store(&u)
	}
	if s.cfg.Blob != nil {
		s.blob = s.cfg.Blob
		if l, ok := s.cfg.Blob.(*blob.Local); ok {
			s.local = l
		}
		return nil
	}
	if old := filepath.Join(s.cfg.DataDir, "blob.secret"); fileExists(old) {
		s.log.Info("the local evidence store's URLs are now signed with a secret derived from the key-encryption key; blob.secret is not read and may be deleted", "file", old)
	}
	local, err := blob.NewLocal(filepath.Join(s.cfg.DataDir, "blobs"), s.blobSecret(), func() string { return s.baseURL() + blobPrefix })
	if err != nil {
		return err
	}
	local.ErrorLog = s.log
	s.blob, s.local = local, local
	return nil
}

// baseURL returns the URL devices reach the server at, "" before Serve
// when none is configured.
func (s *Server) baseURL() string {
	if p := s.publicURL.Load(); p != nil {
		return *p
	}
	return ""
}

// listenerURL returns the http URL of a listening address; an unspecified
// host (0.0.0.0, ::) becomes localhost.
func listenerURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// photoSlot checks the fields naming a photo slot. Errors: EINVALID.
func photoSlot(visitID, questionID string, index int32) error {
	switch {
	case visitID == "":
		return audit.Errorf(audit.EINVALID, "visit_id is required")
	case questionID == "":
		return audit.Errorf(audit.EINVALID, "question_id is required")
	case index < 0:
		return audit.Errorf(audit.EINVALID, "index must be >= 0")
	}
	return nil
}

// CreateUploadSlot returns an upload URL, valid for UploadSlotTTL and bound
// to the size, type and SHA-256 of a photo that one of the caller's pushed
// visits references in this slot; or already_verified when the same bytes
// are stored and verified already (then the slot counts as verified at
// once, and no upload is needed). Errors: InvalidArgument (a malformed
// request, or a photo other than the one the visit references in this
// slot), NotFound (no such visit of the caller's, or no such slot in it),
// ResourceExhausted (too many slots asked for in a short time).
func (e *evidenceService) CreateUploadSlot(ctx context.Context, req *connect.Request[v1.CreateUploadSlotRequest]) (*connect.Response[v1.CreateUploadSlotResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	if err := photoSlot(m.GetVisitId(), m.GetQuestionId(), m.GetIndex()); err != nil {
		return nil, err
	}
	if _, err := blob.Key(m.GetSha256()); err != nil {
		return nil, err
	}
	if m.GetSizeBytes() <= 0 || m.GetContentType() == "" {
		return nil, audit.Errorf(audit.EINVALID, "size_bytes must be positive and content_type set")
	}
	if !e.s.slotLimiter.Allow(p.UserID) {
		return nil, audit.Errorf(audit.EEXHAUSTED, "too many upload slots requested; retry in a few seconds")
	}
	ph, err := e.s.st.Photos().Find(ctx, p.UserID, m.GetVisitId(), m.GetQuestionId(), int(m.GetIndex()))
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(ph.SHA256, m.GetSha256()) || ph.Size != m.GetSizeBytes() || ph.ContentType != m.GetContentType() {
		return nil, audit.Errorf(audit.EINVALID, "visit %s references in %s[%d] a photo of %d bytes (%s) with SHA-256 %s, not the one asked for",
			ph.VisitID, ph.QuestionID, ph.Index, ph.Size, ph.ContentType, ph.SHA256)
	}
	verified := ph.Verified
	if !verified {
		if verified, err = e.s.app.LinkVerifiedPhoto(ctx, ph.SHA256); err != nil {
			return nil, err
		}
	}
	if verified {
		return connect.NewResponse(&v1.CreateUploadSlotResponse{AlreadyVerified: true}), nil
	}
	key, err := blob.Key(ph.SHA256)
	if err != nil {
		return nil, err
	}
	slot, err := e.s.blob.PresignPut(ctx, key, ph.Size, ph.SHA256, ph.ContentType, UploadSlotTTL)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.CreateUploadSlotResponse{
		Url: slot.URL, Method: slot.Method, Headers: slot.Headers, ExpireTime: timestamppb.New(slot.ExpiresAt),
	}), nil
}

// FinalizeUpload verifies the bytes the blob store holds for a photo slot
// of one of the caller's visits (their size and SHA-256, re-read and
// re-hashed on the server as a stream), records them verified, and answers
// the visit's receipt: complete once no photo is missing. Every slot of
// the same bytes, in any visit, counts as verified from then on.
// Finalizing a verified slot again answers the receipt. Errors:
// InvalidArgument, NotFound (no such visit of the caller's or slot in it,
// or nothing uploaded for it), DataLoss (the stored bytes do not match:
// they were deleted, upload again).
func (e *evidenceService) FinalizeUpload(ctx context.Context, req *connect.Request[v1.FinalizeUploadRequest]) (*connect.Response[v1.FinalizeUploadResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	if err := photoSlot(m.GetVisitId(), m.GetQuestionId(), m.GetIndex()); err != nil {
		return nil, err
	}
	ph, err := e.s.st.Photos().Find(ctx, p.UserID, m.GetVisitId(), m.GetQuestionId(), int(m.GetIndex()))
	if err != nil {
		return nil, err
	}
	if !ph.Verified {
		if err := e.s.verifyPhoto(ctx, ph.SHA256, ph.Size, ph.ContentType); err != nil {
			switch audit.ErrorCode(err) {
			case audit.ENOTFOUND:
				return nil, audit.Errorf(audit.ENOTFOUND, "photo %s[%d] of visit %s has not been uploaded: ask for an upload slot and upload it", ph.QuestionID, ph.Index, ph.VisitID)
			case audit.EDATALOSS:
				e.s.log.WarnContext(ctx, "evidence mismatch deleted", "visit", ph.VisitID, "question", ph.QuestionID, "index", ph.Index, "err", err)
				return nil, audit.Errorf(audit.EDATALOSS, "the bytes uploaded for photo %s[%d] of visit %s do not match its size or SHA-256 and were deleted: upload the photo again", ph.QuestionID, ph.Index, ph.VisitID)
			}
			return nil, err
		}
	}
	r, err := e.s.st.Visits().Receipt(ctx, p.UserID, ph.VisitID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&v1.FinalizeUploadResponse{Receipt: protocol.ReceiptToProto(r)}), nil
}

// verifyPhoto verifies the stored bytes of sha and records them verified,
// unless they are verified already. The verification of one hash runs
// alone, on every server of the database (Photos.LockHash), so that
// deleting a mismatched object never removes good bytes another call has
// just verified. Errors: ENOTFOUND (nothing stored), EDATALOSS (mismatch;
// the object is deleted).
func (s *Server) verifyPhoto(ctx context.Context, sha string, size int64, contentType string) error {
	key, err := blob.Key(sha)
	if err != nil {
		return err
	}
	unlock, err := s.st.Photos().LockHash(ctx, strings.ToLower(sha))
	if err != nil {
		return err
	}
	defer unlock()
	if done, err := s.app.LinkVerifiedPhoto(ctx, sha); err != nil || done {
		return err
	}
	head, err := blob.VerifyHead(ctx, s.blob, key, size, sha, exifWindow)
	if err != nil {
		return err
	}
	return s.app.RecordVerifiedPhoto(ctx, storage.VerifiedBlob{SHA256: sha, Size: size, ContentType: contentType, Exif: parseExif(head)})
}

// fileExists reports whether path names something.
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
