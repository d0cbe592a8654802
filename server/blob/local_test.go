package blob_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/blob"
)

// localFixture is a Local store in a temporary directory, mounted at
// /blob/ on a test HTTP server as the shopscore server mounts it.
type localFixture struct {
	harness
	local *blob.Local
	dir   string
	srv   *httptest.Server
}

// testSecret is a URL signing secret of the minimum length.
var testSecret = bytes.Repeat([]byte("s"), blob.MinSecretLen)

// mustOpenLocal returns a Local store served by a test server; both go
// away with the test.
func mustOpenLocal(tb testing.TB) localFixture {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "blobs")
	var srv *httptest.Server
	l, err := blob.NewLocal(dir, testSecret, func() string { return srv.URL + "/blob/" })
	require.NoError(tb, err)
	mux := http.NewServeMux()
	mux.Handle("/blob/", l)
	srv = httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	f := localFixture{local: l, dir: dir, srv: srv}
	f.store = l
	f.putRaw = func(t *testing.T, key string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(key))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
		require.NoError(t, os.WriteFile(p, data, 0o640))
	}
	return f
}

func TestLocal_PresignPut(t *testing.T) {
	f := mustOpenLocal(t)
	testPresignPut(t, f.harness)
	t.Run("ErrBaseURL", func(t *testing.T) {
		l, err := blob.NewLocal(t.TempDir(), testSecret, func() string { return "/blob/" })
		require.NoError(t, err)
		p := newPhoto(t, f.harness, 100, 1)
		_, err = l.PresignPut(t.Context(), p.key, 100, p.sha, jpeg, ttl)
		require.Error(t, err)
		assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err))
	})
}

func TestLocal_PresignGet(t *testing.T) { testPresignGet(t, mustOpenLocal(t).harness) }
func TestLocal_Stat(t *testing.T)       { testStat(t, mustOpenLocal(t).harness) }
func TestLocal_Open(t *testing.T)       { testOpen(t, mustOpenLocal(t).harness) }
func TestLocal_Delete(t *testing.T)     { testDelete(t, mustOpenLocal(t).harness) }

func TestLocal_Verify(t *testing.T) {
	f := mustOpenLocal(t)
	testVerify(t, f.harness)
	t.Run("ConstantMemory", func(t *testing.T) {
		const size = 32 << 20
		data := make([]byte, size)
		_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
		p := photoOf(t, data)
		f.putRaw(t, p.key, data)
		data = nil
		allocated := allocatedBy(func() {
			require.NoError(t, blob.Verify(t.Context(), f.store, p.key, size, p.sha))
		})
		assert.Less(t, allocated, uint64(4<<20), "Verify of %d bytes allocated %d bytes", size, allocated)
	})
}

func TestNewLocal(t *testing.T) {
	base := func() string { return "http://127.0.0.1/blob/" }
	t.Run("OK", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "blobs")
		_, err := blob.NewLocal(dir, testSecret, base)
		require.NoError(t, err)
		assert.DirExists(t, dir)
	})
	t.Run("ErrShortSecret", func(t *testing.T) {
		_, err := blob.NewLocal(t.TempDir(), testSecret[1:], base)
		require.Error(t, err)
	})
	t.Run("ErrNoDir", func(t *testing.T) {
		_, err := blob.NewLocal("", testSecret, base)
		require.Error(t, err)
	})
	t.Run("ErrNoBaseURL", func(t *testing.T) {
		_, err := blob.NewLocal(t.TempDir(), testSecret, nil)
		require.Error(t, err)
	})
	t.Run("RemovesStaleTemps", func(t *testing.T) {
		dir := t.TempDir()
		_, err := blob.NewLocal(dir, testSecret, base)
		require.NoError(t, err)
		stale := filepath.Join(dir, ".tmp", "put-stale")
		fresh := filepath.Join(dir, ".tmp", "put-fresh")
		require.NoError(t, os.WriteFile(stale, []byte("x"), 0o640))
		require.NoError(t, os.WriteFile(fresh, []byte("x"), 0o640))
		old := time.Now().Add(-2 * time.Hour)
		require.NoError(t, os.Chtimes(stale, old, old))
		_, err = blob.NewLocal(dir, testSecret, base)
		require.NoError(t, err)
		assert.NoFileExists(t, stale)
		assert.FileExists(t, fresh)
	})
}

// editQuery returns rawURL with its query changed by edit.
func editQuery(t *testing.T, rawURL string, edit func(url.Values)) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	return u.String()
}

// regularFiles lists the regular files under dir.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	}))
	return files
}

// allocatedBy returns the bytes the process allocated while fn ran.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// unsized hides the length of a body, so the client sends it chunked.
type unsized struct{ r io.Reader }

func (u unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

func TestLocal_ServeHTTP(t *testing.T) {
	f := mustOpenLocal(t)
	h := f.harness

	t.Run("StoresFileAtKey", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		put(t, h, p)
		got, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(p.key)))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(p.data, got))
		assert.Empty(t, regularFiles(t, filepath.Join(f.dir, ".tmp")), "temporary files left")
	})
	t.Run("ChunkedUpload", func(t *testing.T) {
		p := newPhoto(t, h, 100_000, 1)
		status := upload(t, presign(t, h, p, ttl), nil, func(r *http.Request) {
			r.Body = io.NopCloser(unsized{bytes.NewReader(p.data)})
			r.ContentLength = -1
		})
		require.Equal(t, http.StatusOK, status)
		requireStored(t, h, p)
	})
	t.Run("ErrTamperedSignature", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		slot := presign(t, h, p, ttl)
		slot.URL = editQuery(t, slot.URL, func(q url.Values) {
			sig := []byte(q.Get("sig"))
			sig[0] ^= 1
			q.Set("sig", string(sig))
		})
		assert.Equal(t, http.StatusForbidden, upload(t, slot, p.data, nil))
	})
	t.Run("ErrTamperedParameters", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		other := newPhoto(t, h, 2000, 2)
		for name, edit := range map[string]func(url.Values){
			"Key":      func(q url.Values) { q.Set("key", other.key) },
			"Size":     func(q url.Values) { q.Set("size", "2001") },
			"SHA256":   func(q url.Values) { q.Set("sha256", other.sha) },
			"Type":     func(q url.Values) { q.Set("type", "image/png") },
			"Expires":  func(q url.Values) { q.Set("expires", "99999999999") },
			"NoSig":    func(q url.Values) { q.Del("sig") },
			"TwoKeys":  func(q url.Values) { q.Add("key", other.key) },
			"TwoSigs":  func(q url.Values) { q.Add("sig", q.Get("sig")) },
			"BadSig":   func(q url.Values) { q.Set("sig", "not-hex") },
			"NoExpiry": func(q url.Values) { q.Del("expires") },
		} {
			t.Run(name, func(t *testing.T) {
				slot := presign(t, h, p, ttl)
				slot.URL = editQuery(t, slot.URL, edit)
				if name == "Type" {
					slot.Headers["Content-Type"] = "image/png"
				}
				requireRefused(t, h, p, upload(t, slot, p.data, nil))
				requireRefused(t, h, other, upload(t, slot, other.data, nil))
			})
		}
	})
	t.Run("ErrGetURLForPut", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		u, err := f.local.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		slot := presign(t, h, p, ttl)
		slot.URL = u
		assert.Equal(t, http.StatusForbidden, upload(t, slot, p.data, nil))
	})
	t.Run("ErrPutURLForGet", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		put(t, h, p)
		resp, body := download(t, presign(t, h, p, ttl).URL)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.False(t, bytes.Contains(body, p.data[:100]))
	})
	t.Run("ErrWrongContentType", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		status := upload(t, presign(t, h, p, ttl), p.data, func(r *http.Request) { r.Header.Set("Content-Type", "image/png") })
		assert.Equal(t, http.StatusBadRequest, status)
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		long := append(bytes.Clone(p.data), 1)
		status := upload(t, presign(t, h, p, ttl), long, func(r *http.Request) { r.ContentLength = int64(len(long)) })
		assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	})
	t.Run("ErrChunkedTooLarge", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		long := append(bytes.Clone(p.data), 1)
		status := upload(t, presign(t, h, p, ttl), nil, func(r *http.Request) {
			r.Body = io.NopCloser(unsized{bytes.NewReader(long)})
			r.ContentLength = -1
		})
		requireRefused(t, h, p, status)
		assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	})
	t.Run("ErrShort", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		status := upload(t, presign(t, h, p, ttl), p.data[:1999], func(r *http.Request) { r.ContentLength = 1999 })
		assert.Equal(t, http.StatusBadRequest, status)
	})
	t.Run("ErrChunkedShort", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		status := upload(t, presign(t, h, p, ttl), nil, func(r *http.Request) {
			r.Body = io.NopCloser(unsized{bytes.NewReader(p.data[:1999])})
			r.ContentLength = -1
		})
		requireRefused(t, h, p, status)
		assert.Equal(t, http.StatusBadRequest, status)
	})
	t.Run("ErrBodyEndsEarly", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		u, err := url.Parse(presign(t, h, p, ttl).URL)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPut, u.RequestURI(), unsized{bytes.NewReader(p.data[:1000])})
		req.ContentLength = 2000
		req.Header.Set("Content-Type", jpeg)
		rec := httptest.NewRecorder()
		f.local.ServeHTTP(rec, req)
		requireRefused(t, h, p, rec.Code)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
	t.Run("ErrHashMismatchKeepsNothing", func(t *testing.T) {
		g := mustOpenLocal(t)
		p := newPhoto(t, g.harness, 2000, 1)
		wrong := bytes.Clone(p.data)
		wrong[1000] ^= 1
		status := upload(t, presign(t, g.harness, p, ttl), wrong, nil)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Empty(t, regularFiles(t, g.dir), "files left after a refused upload")
	})
	t.Run("ErrMethodNotAllowed", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		status := upload(t, presign(t, h, p, ttl), p.data, func(r *http.Request) { r.Method = http.MethodPost })
		assert.Equal(t, http.StatusMethodNotAllowed, status)
	})
	t.Run("DownloadHeaders", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		put(t, h, p)
		u, err := f.local.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		resp, _ := download(t, u)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, jpeg, resp.Header.Get("Content-Type"))
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "2000", resp.Header.Get("Content-Length"))
	})
	t.Run("Head", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		put(t, h, p)
		u, err := f.local.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		resp, err := http.Head(u)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, int64(2000), resp.ContentLength)
	})
	t.Run("Range", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		put(t, h, p)
		u, err := f.local.PresignGet(t.Context(), p.key, ttl)
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		require.NoError(t, err)
		req.Header.Set("Range", "bytes=10-19")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
		assert.Equal(t, p.data[10:20], got)
	})
	t.Run("LostMetadata", func(t *testing.T) {
		p := newPhoto(t, h, 2000, 1)
		f.putRaw(t, p.key, p.data)
		obj, err := f.store.Stat(t.Context(), p.key)
		require.NoError(t, err)
		assert.Equal(t, "application/octet-stream", obj.ContentType)
	})
	t.Run("StreamsInConstantMemory", func(t *testing.T) {
		const size = 32 << 20
		body := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{7}), size) }
		sum := sha256.New()
		_, err := io.Copy(sum, body())
		require.NoError(t, err)
		sha := hex.EncodeToString(sum.Sum(nil))
		key, err := blob.Key(sha)
		require.NoError(t, err)
		slot, err := f.local.PresignPut(t.Context(), key, size, sha, jpeg, ttl)
		require.NoError(t, err)
		u, err := url.Parse(slot.URL)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPut, u.RequestURI(), body())
		req.ContentLength = size
		req.Header.Set("Content-Type", jpeg)
		rec := httptest.NewRecorder()
		allocated := allocatedBy(func() { f.local.ServeHTTP(rec, req) })
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Less(t, allocated, uint64(4<<20), "upload of %d bytes allocated %d bytes", size, allocated)
		require.NoError(t, blob.Verify(t.Context(), f.store, key, size, sha))
	})
}

func TestKey(t *testing.T) {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	for name, c := range map[string]struct {
		in, want string
		code     audit.Code
	}{
		"OK":           {in: sha, want: "sha256/9f/86/" + sha},
		"UpperCase":    {in: strings.ToUpper(sha), want: "sha256/9f/86/" + sha},
		"ErrEmpty":     {in: "", code: audit.EINVALID},
		"ErrShort":     {in: sha[:63], code: audit.EINVALID},
		"ErrLong":      {in: sha + "0", code: audit.EINVALID},
		"ErrNotHex":    {in: "zz" + sha[2:], code: audit.EINVALID},
		"ErrPathChars": {in: "../" + sha[3:], code: audit.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := blob.Key(c.in)
			if c.code != "" {
				requireCode(t, c.code, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}
