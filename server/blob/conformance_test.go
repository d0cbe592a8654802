package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/blob"
)

// This file is the one conformance suite of blob.Bucket. Every store runs
// each test* function below from its own TestLocal_*, TestS3_* functions.

// harness is a store under test and a way around it.
type harness struct {
	store blob.Bucket
	// putRaw stores data under key behind the store's back, with no check
	// at all, as a faulty disk or anyone holding the storage credentials
	// could.
	putRaw func(t *testing.T, key string, data []byte)
}

const (
	jpeg = "image/jpeg"
	ttl  = time.Minute
)

// photo is test evidence: bytes, their hash and their content address.
type photo struct {
	data []byte
	sha  string
	key  string
}

// newPhoto returns n pseudo-random bytes unique to the test and seed, and
// deletes their object from h's store when the test ends.
func newPhoto(t *testing.T, h harness, n int, seed uint64) photo {
	t.Helper()
	var s [32]byte
	copy(s[:], t.Name())
	s[31] ^= byte(seed)
	s[30] ^= byte(seed >> 8)
	data := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(data)
	p := photoOf(t, data)
	t.Cleanup(func() { _ = h.store.Delete(context.Background(), p.key) })
	return p
}

// photoOf returns the photo of data.
func photoOf(t *testing.T, data []byte) photo {
	t.Helper()
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	key, err := blob.Key(sha)
	require.NoError(t, err)
	return photo{data: data, sha: sha, key: key}
}

// presign returns an upload slot for p.
func presign(t *testing.T, h harness, p photo, ttl time.Duration) blob.UploadSlot {
	t.Helper()
	slot, err := h.store.PresignPut(t.Context(), p.key, int64(len(p.data)), p.sha, jpeg, ttl)
	require.NoError(t, err)
	return slot
}

// upload sends body to the slot with a plain net/http client, with the
// slot's headers (Content-Length as the request's length), then lets edit
// change the request, and returns the response status.
func upload(t *testing.T, slot blob.UploadSlot, body []byte, edit func(*http.Request)) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), slot.Method, slot.URL, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range slot.Headers {
		if strings.EqualFold(k, "Content-Length") {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			req.ContentLength = n
			continue
		}
		req.Header.Set(k, v)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Logf("upload answered %s: %.300s", resp.Status, msg)
	}
	return resp.StatusCode
}

// put uploads p through a fresh slot and requires success.
func put(t *testing.T, h harness, p photo) {
	t.Helper()
	require.Equal(t, http.StatusOK, upload(t, presign(t, h, p, ttl), p.data, nil))
}

// download GETs url and returns the response and its body.
func download(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// waitPast sleeps until the presigned URL expiring at exp is surely dead.
func waitPast(exp time.Time) {
	time.Sleep(time.Until(exp) + 1100*time.Millisecond)
}

// requireCode requires err to be a domain error with code.
func requireCode(t *testing.T, code audit.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, audit.ErrorCode(err), "error: %v", err)
}

// requireRefused requires an upload status to be a client error, and the
// photo not to be stored.
func requireRefused(t *testing.T, h harness, p photo, status int) {
	t.Helper()
	require.GreaterOrEqual(t, status, 400, "status %d", status)
	require.Less(t, status, 500, "status %d", status)
	_, err := h.store.Stat(t.Context(), p.key)
	requireCode(t, audit.ENOTFOUND, err)
}

// requireStored requires the store to hold exactly p, verified.
func requireStored(t *testing.T, h harness, p photo) {
	t.Helper()
	ctx := t.Context()
	obj, err := h.store.Stat(ctx, p.key)
	require.NoError(t, err)
	assert.Equal(t, blob.Object{Key: p.key, Size: int64(len(p.data)), ContentType: jpeg}, obj)
	rc, err := h.store.Open(ctx, p.key)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	require.True(t, bytes.Equal(p.data, got), "stored bytes differ")
	require.NoError(t, blob.Verify(ctx, h.store, p.key, int64(len(p.data)), p.sha))
}

func testPresignPut(t *testing.T, h harness) {
	t.Run("OK", func(t *testing.T) {
		p := newPhoto(t, h, 10_000, 1)
		before := time.Now()
		slot := presign(t, h, p, ttl)
		assert.Equal(t, http.MethodPut, slot.Method)
		assert.Equal(t, jpeg, slot.Headers["Content-Type"])
		assert.Equal(t, "10000", slot.Headers["Content-Length"])
		assert.False(t, slot.ExpiresAt.After(before.Add(ttl)), "expires %v, after %v", slot.ExpiresAt, before.Add(ttl))
		assert.True(t, slot.ExpiresAt.After(before.Add(ttl-2*time.Second)), "expires %v, too early", slot.ExpiresAt)
		require.Equal(t, http.StatusOK, upload(t, slot, p.data, nil))
		requireStored(t, h, p)
	})
	t.Run("LargePhoto", func(t *testing.T) {
		p := newPhoto(t, h, 3<<20, 1)
		put(t, h, p)
		requireStored(t, h, p)
	})
	t.Run("SamePhotoTwice", func(t *testing.T) {
		p := newPhoto(t, h, 20_000, 1)
		slot := presign(t, h, p, ttl)
		require.Equal(t, http.StatusOK, upload(t, slot, p.data, nil))
		require.Equal(t, http.StatusOK, upload(t, slot, p.data, nil), "same slot again")
		put(t, h, p)
		requireStored(t, h, p)
	})
	t.Run("SamePhotoAfterRefusal", func(t *testing.T) {
		p := newPhoto(t, h, 20_000, 1)
		wrong := bytes.Clone(p.data)
		wrong[0] ^= 0xff
		slot := presign(t, h, p, ttl)
		requireRefused(t, h, p, upload(t, slot, wrong, nil))
		require.Equal(t, http.StatusOK, upload(t, slot, p.data, nil))
		requireStored(t, h, p)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		slot := presign(t, h, p, time.Second)
		waitPast(slot.ExpiresAt)
		status := upload(t, slot, p.data, nil)
		assert.Equal(t, http.StatusForbidden, status)
		requireRefused(t, h, p, status)
	})
	t.Run("ErrWrongContentType", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		status := upload(t, presign(t, h, p, ttl), p.data, func(r *http.Request) { r.Header.Set("Content-Type", "image/png") })
		requireRefused(t, h, p, status)
	})
	t.Run("ErrNoContentType", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		status := upload(t, presign(t, h, p, ttl), p.data, func(r *http.Request) { r.Header.Del("Content-Type") })
		requireRefused(t, h, p, status)
	})
	t.Run("ErrShorterBody", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		short := p.data[:len(p.data)-1]
		status := upload(t, presign(t, h, p, ttl), short, func(r *http.Request) { r.ContentLength = int64(len(short)) })
		requireRefused(t, h, p, status)
	})
	t.Run("ErrLongerBody", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		long := append(bytes.Clone(p.data), 0)
		status := upload(t, presign(t, h, p, ttl), long, func(r *http.Request) { r.ContentLength = int64(len(long)) })
		requireRefused(t, h, p, status)
	})
	t.Run("ErrWrongBytes", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		wrong := bytes.Clone(p.data)
		wrong[500] ^= 1
		requireRefused(t, h, p, upload(t, presign(t, h, p, ttl), wrong, nil))
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		for name, c := range map[string]struct {
			key, sha, ct string
			size         int64
			ttl          time.Duration
		}{
			"EmptyKey":        {"", p.sha, jpeg, 1000, ttl},
			"DotDotKey":       {"sha256/../x", p.sha, jpeg, 1000, ttl},
			"HiddenKey":       {".meta", p.sha, jpeg, 1000, ttl},
			"AbsoluteKey":     {"/etc/passwd", p.sha, jpeg, 1000, ttl},
			"SpaceKey":        {"a b", p.sha, jpeg, 1000, ttl},
			"ZeroSize":        {p.key, p.sha, jpeg, 0, ttl},
			"NegativeSize":    {p.key, p.sha, jpeg, -1, ttl},
			"ShortHash":       {p.key, p.sha[:10], jpeg, 1000, ttl},
			"NotHex":          {p.key, strings.Repeat("g", 64), jpeg, 1000, ttl},
			"NoContentType":   {p.key, p.sha, "", 1000, ttl},
			"NotMediaType":    {p.key, p.sha, "jpeg", 1000, ttl},
			"HeaderInjection": {p.key, p.sha, "image/jpeg\r\nX-Evil: 1", 1000, ttl},
			"ShortTTL":        {p.key, p.sha, jpeg, 1000, 500 * time.Millisecond},
			"LongTTL":         {p.key, p.sha, jpeg, 1000, 8 * 24 * time.Hour},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := h.store.PresignPut(t.Context(), c.key, c.size, c.sha, c.ct, c.ttl)
				requireCode(t, audit.EINVALID, err)
			})
		}
	})
}

func testPresignGet(t *testing.T, h harness) {
	t.Run("OK", func(t *testing.T) {
		p := newPhoto(t, h, 50_000, 1)
		put(t, h, p)
		url, err := h.store.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		resp, body := download(t, url)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, jpeg, resp.Header.Get("Content-Type"))
		assert.True(t, bytes.Equal(p.data, body), "downloaded bytes differ")
	})
	t.Run("LargePhoto", func(t *testing.T) {
		p := newPhoto(t, h, 3<<20, 1)
		put(t, h, p)
		url, err := h.store.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		resp, body := download(t, url)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.True(t, bytes.Equal(p.data, body), "downloaded bytes differ")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		url, err := h.store.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		resp, _ := download(t, url)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		p := newPhoto(t, h, 1000, 1)
		put(t, h, p)
		url, err := h.store.PresignGet(t.Context(), p.key, time.Second)
		require.NoError(t, err)
		waitPast(time.Now().Add(time.Second))
		resp, body := download(t, url)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.False(t, bytes.Contains(body, p.data[:100]), "an expired URL served the photo")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := h.store.PresignGet(t.Context(), "../x", ttl)
		requireCode(t, audit.EINVALID, err)
		_, err = h.store.PresignGet(t.Context(), "sha256/x", 0)
		requireCode(t, audit.EINVALID, err)
	})
}

func testStat(t *testing.T, h harness) {
	t.Run("OK", func(t *testing.T) {
		p := newPhoto(t, h, 1234, 1)
		put(t, h, p)
		obj, err := h.store.Stat(t.Context(), p.key)
		require.NoError(t, err)
		assert.Equal(t, blob.Object{Key: p.key, Size: 1234, ContentType: jpeg}, obj)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		p := newPhoto(t, h, 1234, 1)
		_, err := h.store.Stat(t.Context(), p.key)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrNotFoundPrefix", func(t *testing.T) {
		p := newPhoto(t, h, 1234, 1)
		put(t, h, p)
		_, err := h.store.Stat(t.Context(), p.key[:len("sha256/ab")])
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := h.store.Stat(t.Context(), "a//b")
		requireCode(t, audit.EINVALID, err)
	})
}

func testOpen(t *testing.T, h harness) {
	t.Run("OK", func(t *testing.T) {
		p := newPhoto(t, h, 4321, 1)
		put(t, h, p)
		rc, err := h.store.Open(t.Context(), p.key)
		require.NoError(t, err)
		defer rc.Close()
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(p.data, got), "opened bytes differ")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		p := newPhoto(t, h, 4321, 1)
		_, err := h.store.Open(t.Context(), p.key)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := h.store.Open(t.Context(), "a/../b")
		requireCode(t, audit.EINVALID, err)
	})
}

func testDelete(t *testing.T, h harness) {
	t.Run("OK", func(t *testing.T) {
		p := newPhoto(t, h, 999, 1)
		put(t, h, p)
		require.NoError(t, h.store.Delete(t.Context(), p.key))
		_, err := h.store.Stat(t.Context(), p.key)
		requireCode(t, audit.ENOTFOUND, err)
		// The same photo can come back afterwards.
		put(t, h, p)
		requireStored(t, h, p)
	})
	t.Run("Missing", func(t *testing.T) {
		p := newPhoto(t, h, 999, 1)
		require.NoError(t, h.store.Delete(t.Context(), p.key))
		require.NoError(t, h.store.Delete(t.Context(), p.key))
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		requireCode(t, audit.EINVALID, h.store.Delete(t.Context(), ""))
	})
}

func testVerify(t *testing.T, h harness) {
	t.Run("OK", func(t *testing.T) {
		p := newPhoto(t, h, 77_777, 1)
		put(t, h, p)
		require.NoError(t, blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), p.sha))
		require.NoError(t, blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), strings.ToUpper(p.sha)))
		requireStored(t, h, p)
	})
	t.Run("LargePhoto", func(t *testing.T) {
		p := newPhoto(t, h, 3<<20, 1)
		put(t, h, p)
		require.NoError(t, blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), p.sha))
	})
	t.Run("Head", func(t *testing.T) {
		p := newPhoto(t, h, 300_000, 3)
		put(t, h, p)
		head, err := blob.VerifyHead(t.Context(), h.store, p.key, int64(len(p.data)), p.sha, 256<<10)
		require.NoError(t, err)
		assert.Equal(t, p.data[:256<<10], head, "the head comes from the same pass")
		small := newPhoto(t, h, 1000, 4)
		put(t, h, small)
		head, err = blob.VerifyHead(t.Context(), h.store, small.key, int64(len(small.data)), small.sha, 256<<10)
		require.NoError(t, err)
		assert.Equal(t, small.data, head, "a smaller object is returned whole")
		head, err = blob.VerifyHead(t.Context(), h.store, p.key, int64(len(p.data)), small.sha, 256<<10)
		requireCode(t, audit.EDATALOSS, err)
		assert.Nil(t, head, "no bytes of an object that did not verify")
	})
	t.Run("ErrDataLossBytes", func(t *testing.T) {
		p := newPhoto(t, h, 5000, 1)
		wrong := bytes.Clone(p.data)
		wrong[4999] ^= 0x80
		h.putRaw(t, p.key, wrong)
		err := blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), p.sha)
		requireCode(t, audit.EDATALOSS, err)
		_, err = h.store.Stat(t.Context(), p.key)
		requireCode(t, audit.ENOTFOUND, err)
		// The device uploads again, and this time it is good.
		put(t, h, p)
		requireStored(t, h, p)
	})
	t.Run("ErrDataLossSize", func(t *testing.T) {
		p := newPhoto(t, h, 5000, 1)
		h.putRaw(t, p.key, p.data[:4000])
		err := blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), p.sha)
		requireCode(t, audit.EDATALOSS, err)
		_, err = h.store.Stat(t.Context(), p.key)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrDataLossHash", func(t *testing.T) {
		p := newPhoto(t, h, 5000, 1)
		other := newPhoto(t, h, 5000, 2)
		put(t, h, p)
		err := blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), other.sha)
		requireCode(t, audit.EDATALOSS, err)
		_, err = h.store.Stat(t.Context(), p.key)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		p := newPhoto(t, h, 5000, 1)
		err := blob.Verify(t.Context(), h.store, p.key, int64(len(p.data)), p.sha)
		requireCode(t, audit.ENOTFOUND, err)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		p := newPhoto(t, h, 5000, 1)
		requireCode(t, audit.EINVALID, blob.Verify(t.Context(), h.store, p.key, 5000, "xyz"))
		requireCode(t, audit.EINVALID, blob.Verify(t.Context(), h.store, p.key, -1, p.sha))
		requireCode(t, audit.EINVALID, blob.Verify(t.Context(), h.store, "", 5000, p.sha))
	})
}
