package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/blob/blobtest"
)

// evidenceStore is the blob store behind a test server, and a way around
// it: putRaw stores bytes under a key with no check at all (as a faulty
// disk or anyone with the storage credentials could), exists says whether
// a key holds an object.
type evidenceStore struct {
	putRaw func(t *testing.T, key string, data []byte)
	exists func(t *testing.T, key string) bool
}

// submitNext pushes the visit as the device's next mutation and returns
// its receipt.
func (f *field) submitNext(tb testing.TB, rec *recorded) *v1.VisitReceipt {
	tb.Helper()
	f.seq++
	resp := f.mustPush(tb, submit(f.seq, rec.visit))
	r := resp.Results[0]
	require.Contains(tb, []v1.MutationStatus{v1.MutationStatus_MUTATION_STATUS_APPLIED, v1.MutationStatus_MUTATION_STATUS_REPLAYED}, r.Status, "result %v", r)
	return r.Receipt
}

// pushedVisit records and pushes a store visit on a new assignment,
// failing the given questions (the checklist's rules then demand photos).
func (f *field) pushedVisit(tb testing.TB, fail ...string) (*recorded, *v1.VisitReceipt) {
	tb.Helper()
	a := f.assign(tb, "MSK-01", "store-visit", f.shopperID)
	rec := record(tb, f.pulledUpsert(tb, a.Id).Checklist, a.Id, a.StoreId, fail...)
	return rec, f.submitNext(tb, rec)
}

func (f *field) slot(tb testing.TB, visitID string, p audit.Photo) (*v1.CreateUploadSlotResponse, error) {
	tb.Helper()
	return call(tb, f.c.Evidence.CreateUploadSlot, f.token, &v1.CreateUploadSlotRequest{
		VisitId: visitID, QuestionId: p.QuestionID, Index: int32(p.Index), Sha256: p.SHA256, SizeBytes: p.Size, ContentType: p.ContentType,
	})
}

func (f *field) finalize(tb testing.TB, visitID string, p audit.Photo) (*v1.VisitReceipt, error) {
	tb.Helper()
	resp, err := call(tb, f.c.Evidence.FinalizeUpload, f.token, &v1.FinalizeUploadRequest{VisitId: visitID, QuestionId: p.QuestionID, Index: int32(p.Index)})
	if err != nil {
		return nil, err
	}
	return resp.Receipt, nil
}

// upload sends body to an upload slot as a device would, and returns the
// HTTP status.
func upload(tb testing.TB, slot *v1.CreateUploadSlotResponse, body []byte) int {
	tb.Helper()
	req, err := http.NewRequest(slot.Method, slot.Url, bytes.NewReader(body))
	require.NoError(tb, err)
	for k, v := range slot.Headers {
		if k == "Content-Length" {
			require.Equal(tb, strconv.Itoa(len(body)), v, "the slot is bound to the size")
			continue // net/http sets it from the body
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// mustUpload gets a slot for the photo, uploads its bytes unless the
// server has them, and finalizes it; it returns the visit's receipt.
func (f *field) mustUpload(tb testing.TB, rec *recorded, p audit.Photo) *v1.VisitReceipt {
	tb.Helper()
	slot, err := f.slot(tb, rec.visit.ID, p)
	require.NoError(tb, err)
	if !slot.AlreadyVerified {
		require.Equal(tb, http.StatusOK, upload(tb, slot, rec.photos[p.SHA256]))
	}
	r, err := f.finalize(tb, rec.visit.ID, p)
	require.NoError(tb, err)
	return r
}

func photoKey(tb testing.TB, sha string) string {
	tb.Helper()
	key, err := blob.Key(sha)
	require.NoError(tb, err)
	return key
}

// receiptOf pulls from the start and returns the visit's receipt.
func (f *field) receiptOf(tb testing.TB, visitID string) *v1.VisitReceipt {
	tb.Helper()
	changes, _, _ := pullAll(tb, f.c, f.token, "", 500)
	var out *v1.VisitReceipt
	for _, c := range changes {
		if r := c.GetVisitReceipt(); r.GetVisitId() == visitID {
			out = r
		}
	}
	require.NotNil(tb, out, "receipt of %s not pulled", visitID)
	return out
}

// testEvidence is the evidence flow against whichever blob store ts uses.
func testEvidence(t *testing.T, ts *TestServer, store evidenceStore) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			f := newField(t, ts, c)

			t.Run("OK", func(t *testing.T) {
				rec, receipt := f.pushedVisit(t, "tags_correct")
				require.Len(t, rec.visit.Photos, 2, "the photo question and the failed answer's evidence")
				require.Len(t, receipt.MissingPhotos, 2)
				for i, p := range rec.visit.Photos {
					m := receipt.MissingPhotos[i]
					assert.Equal(t, []any{p.QuestionID, int32(p.Index), p.SHA256}, []any{m.QuestionId, m.Index, m.Sha256})
				}
				for i, ph := range rec.visit.Photos {
					slot, err := f.slot(t, rec.visit.ID, ph)
					require.NoError(t, err)
					require.False(t, slot.AlreadyVerified)
					assert.Equal(t, http.MethodPut, slot.Method)
					assert.Equal(t, "image/jpeg", slot.Headers["Content-Type"])
					assert.WithinDuration(t, time.Now().Add(server.UploadSlotTTL), slot.ExpireTime.AsTime(), time.Minute)
					require.Equal(t, http.StatusOK, upload(t, slot, rec.photos[ph.SHA256]))
					r, err := f.finalize(t, rec.visit.ID, ph)
					require.NoError(t, err)
					if i < len(rec.visit.Photos)-1 {
						assert.Equal(t, v1.VisitState_VISIT_STATE_SUBMITTED, r.State, "a photo is still missing")
						assert.Len(t, r.MissingPhotos, len(rec.visit.Photos)-1-i)
					} else {
						assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State)
						assert.Empty(t, r.MissingPhotos)
					}
				}
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, f.receiptOf(t, rec.visit.ID).State)

				// Finalizing again is harmless; pushing again replays.
				r, err := f.finalize(t, rec.visit.ID, rec.visit.Photos[0])
				require.NoError(t, err)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, f.submitNext(t, rec).State)
			})
			t.Run("WrongBytes", func(t *testing.T) {
				rec, _ := f.pushedVisit(t)
				require.Len(t, rec.visit.Photos, 1)
				ph := rec.visit.Photos[0]
				wrong, _ := testPhoto(int(ph.Size))
				slot, err := f.slot(t, rec.visit.ID, ph)
				require.NoError(t, err)
				status := upload(t, slot, wrong)
				_, err = f.finalize(t, rec.visit.ID, ph)
				if status == http.StatusOK {
					requireCode(t, connect.CodeDataLoss, err) // the store did not check; the server did
				} else {
					requireCode(t, connect.CodeNotFound, err) // the store refused the bytes
				}
				assert.False(t, store.exists(t, photoKey(t, ph.SHA256)))

				// Bytes that reach the storage behind its back are caught too.
				store.putRaw(t, photoKey(t, ph.SHA256), wrong)
				_, err = f.finalize(t, rec.visit.ID, ph)
				requireCode(t, connect.CodeDataLoss, err)
				assert.False(t, store.exists(t, photoKey(t, ph.SHA256)), "the mismatch is deleted")
				r := f.receiptOf(t, rec.visit.ID)
				assert.Equal(t, v1.VisitState_VISIT_STATE_SUBMITTED, r.State, "the visit stays incomplete")
				assert.Len(t, r.MissingPhotos, 1)

				// The right bytes complete it.
				r = f.mustUpload(t, rec, ph)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State)
			})
			t.Run("SamePhotoTwice", func(t *testing.T) {
				a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
				up := f.pulledUpsert(t, a.Id)
				rec := record(t, up.Checklist, a.Id, a.StoreId)
				first := rec.visit.Photos[0]
				// The same picture is evidence for another answer too.
				rec.addPhoto(0, rec.photos[first.SHA256], first.SHA256)
				second := rec.visit.Photos[1]
				receipt := f.submitNext(t, rec)
				require.Len(t, receipt.MissingPhotos, 2)

				r := f.mustUpload(t, rec, first)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State, "one upload verifies both slots")
				slot, err := f.slot(t, rec.visit.ID, second)
				require.NoError(t, err)
				assert.True(t, slot.AlreadyVerified)
				assert.Empty(t, slot.Url)

				// Another visit with the same picture needs no upload, and
				// is flagged for reusing it.
				again := record(t, up.Checklist, a.Id, a.StoreId)
				i := answerIndex(again, first.QuestionID)
				again.visit.Answers[i].PhotoHashes, again.visit.Photos = nil, nil
				again.addPhoto(i, rec.photos[first.SHA256], first.SHA256)
				r = f.submitNext(t, again)
				assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State)
				assert.Empty(t, r.MissingPhotos)
				assert.Contains(t, r.Flags, "photo_reused")
			})
			t.Run("ErrSlot", func(t *testing.T) {
				rec, _ := f.pushedVisit(t)
				ph := rec.visit.Photos[0]
				_, otherToken := f.newShopper(t)

				_, err := call(t, c.Evidence.CreateUploadSlot, otherToken, &v1.CreateUploadSlotRequest{
					VisitId: rec.visit.ID, QuestionId: ph.QuestionID, Index: int32(ph.Index), Sha256: ph.SHA256, SizeBytes: ph.Size, ContentType: ph.ContentType,
				})
				requireCode(t, connect.CodeNotFound, err) // not his visit
				_, err = call(t, c.Evidence.FinalizeUpload, otherToken, &v1.FinalizeUploadRequest{VisitId: rec.visit.ID, QuestionId: ph.QuestionID, Index: int32(ph.Index)})
				requireCode(t, connect.CodeNotFound, err)

				for name, x := range map[string]struct {
					mutate func(*audit.Photo) string
					code   connect.Code
				}{
					"no such visit": {func(p *audit.Photo) string { return "no-such-visit" }, connect.CodeNotFound},
					"no such slot":  {func(p *audit.Photo) string { p.Index = 5; return rec.visit.ID }, connect.CodeNotFound},
					"other bytes": {func(p *audit.Photo) string {
						_, p.SHA256 = testPhoto(10)
						return rec.visit.ID
					}, connect.CodeInvalidArgument},
					"other size":    {func(p *audit.Photo) string { p.Size++; return rec.visit.ID }, connect.CodeInvalidArgument},
					"other type":    {func(p *audit.Photo) string { p.ContentType = "image/png"; return rec.visit.ID }, connect.CodeInvalidArgument},
					"bad hash":      {func(p *audit.Photo) string { p.SHA256 = "abc"; return rec.visit.ID }, connect.CodeInvalidArgument},
					"no question":   {func(p *audit.Photo) string { p.QuestionID = ""; return rec.visit.ID }, connect.CodeInvalidArgument},
					"negative slot": {func(p *audit.Photo) string { p.Index = -1; return rec.visit.ID }, connect.CodeInvalidArgument},
				} {
					t.Run(name, func(t *testing.T) {
						p := ph
						id := x.mutate(&p)
						_, err := f.slot(t, id, p)
						requireCode(t, x.code, err)
					})
				}
				_, err = f.finalize(t, rec.visit.ID, ph)
				requireCode(t, connect.CodeNotFound, err) // nothing uploaded yet
			})
		})
	}
}

func TestEvidenceService_Local(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	dir := filepath.Join(ts.DataDir, "blobs")
	testEvidence(t, ts, evidenceStore{
		putRaw: func(t *testing.T, key string, data []byte) {
			path := filepath.Join(dir, filepath.FromSlash(key))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
			require.NoError(t, os.WriteFile(path, data, 0o640))
		},
		exists: func(t *testing.T, key string) bool {
			_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(key)))
			return err == nil
		},
	})

	t.Run("Secret", func(t *testing.T) {
		// Derived from the key-encryption key, nothing of its own on disk.
		_, err := os.Stat(filepath.Join(ts.DataDir, "blob.secret"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("URLs", func(t *testing.T) {
		c := clientsOf(ts, protocols[0].client, protocols[0].opts...)
		f := newField(t, ts, c)
		rec, _ := f.pushedVisit(t)
		slot, err := f.slot(t, rec.visit.ID, rec.visit.Photos[0])
		require.NoError(t, err)
		u, err := url.Parse(slot.Url)
		require.NoError(t, err)
		assert.Equal(t, ts.URL+"/blob/", u.Scheme+"://"+u.Host+u.Path, "derived from the listener")
		// A tampered URL is refused.
		q := u.Query()
		q.Set("size", "1")
		u.RawQuery = q.Encode()
		slot.Url = u.String()
		assert.Equal(t, http.StatusForbidden, upload(t, slot, rec.photos[rec.visit.Photos[0].SHA256]))
	})
	t.Run("MemoryDoesNotGrowWithPhotoSize", func(t *testing.T) {
		c := clientsOf(ts, protocols[0].client, protocols[0].opts...)
		f := newField(t, ts, c)
		a := f.assign(t, "MSK-01", "store-visit", f.shopperID)
		rec := record(t, f.pulledUpsert(t, a.Id).Checklist, a.Id, a.StoreId)
		const size = 24 << 20
		big := make([]byte, size)
		_, err := rand.Read(big)
		require.NoError(t, err)
		ph := &rec.visit.Photos[0]
		delete(rec.photos, ph.SHA256)
		ph.SHA256, ph.Size = sha256Hex(big), size
		rec.visit.Answers[answerIndex(rec, ph.QuestionID)].PhotoHashes[ph.Index] = ph.SHA256
		rec.photos[ph.SHA256] = big
		f.submitNext(t, rec)

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := f.mustUpload(t, rec, *ph)
		runtime.ReadMemStats(&after)
		assert.Equal(t, v1.VisitState_VISIT_STATE_COMPLETE, r.State)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("upload and verification of %d MiB allocated %.1f MiB in the process", size>>20, float64(allocated)/(1<<20))
		assert.Less(t, allocated, uint64(size/4), "the bytes are streamed, never held")
	})
}

func TestEvidenceService_RateLimit(t *testing.T) {
	ts := mustRunSyncServer(t, &server.Config{UploadSlotRate: server.Rate{Burst: 2, Every: time.Hour}})
	c := clientsOf(ts, protocols[0].client, protocols[0].opts...)
	f := newField(t, ts, c)
	rec, _ := f.pushedVisit(t)
	ph := rec.visit.Photos[0]
	for range 2 {
		_, err := f.slot(t, rec.visit.ID, ph)
		require.NoError(t, err)
	}
	_, err := f.slot(t, rec.visit.ID, ph)
	requireCode(t, connect.CodeResourceExhausted, err)
}

func TestEvidenceService_S3(t *testing.T) {
	cfg := blobtest.S3Config(t)
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	cfg.Bucket = "shopscore-evidence-test-" + hex.EncodeToString(b)
	store, err := blob.NewS3(context.Background(), cfg)
	require.NoError(t, err)

	endpoint, secure := cfg.Endpoint, false
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.Host != "" {
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: secure,
		Region: blob.DefaultS3Region, BucketLookup: minio.BucketLookupPath,
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		for obj := range client.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err == nil {
				client.RemoveObject(ctx, cfg.Bucket, obj.Key, minio.RemoveObjectOptions{})
			}
		}
		assert.NoError(t, client.RemoveBucket(ctx, cfg.Bucket))
	})

	ts := mustRunSyncServer(t, &server.Config{Blob: store})
	testEvidence(t, ts, evidenceStore{
		putRaw: func(t *testing.T, key string, data []byte) {
			_, err := client.PutObject(t.Context(), cfg.Bucket, key, bytes.NewReader(data), int64(len(data)),
				minio.PutObjectOptions{ContentType: "image/jpeg"})
			require.NoError(t, err)
		},
		exists: func(t *testing.T, key string) bool {
			_, err := client.StatObject(t.Context(), cfg.Bucket, key, minio.StatObjectOptions{})
			if err != nil {
				require.Equal(t, "NoSuchKey", minio.ToErrorResponse(err).Code, "stat %s: %v", key, err)
				return false
			}
			return true
		},
	})
	_, err = os.Stat(filepath.Join(ts.DataDir, "blobs"))
	assert.True(t, os.IsNotExist(err), "no local store when S3 is configured")
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func answerIndex(rec *recorded, questionID string) int {
	for i, a := range rec.visit.Answers {
		if a.QuestionID == questionID {
			return i
		}
	}
	return -1
}
