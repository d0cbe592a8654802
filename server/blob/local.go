package blob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// MinSecretLen is the shortest secret NewLocal accepts for signing URLs.
const MinSecretLen = 32

// Local keeps objects as files under a directory, at <dir>/<key>, each with
// a small hidden metadata file beside it, and is the http.Handler that
// serves its signed URLs: PUT uploads and GET (or HEAD) downloads.
//
// The server mounts it under a path prefix, for example
// mux.Handle("/blob/", local), and gives NewLocal a function returning the
// absolute URL of that prefix ("https://host/blob/"). The handler reads
// everything it needs from the signed query (key, size, sha256, type,
// expires, sig), so it ignores the path and needs no http.StripPrefix.
//
// An upload is streamed to a temporary file while it is hashed, with
// memory that does not grow with the photo; it is refused with 403 for an
// expired or bad signature, 400 for a wrong Content-Type, a short body or a
// SHA-256 mismatch (nothing is kept), and 413 for a body longer than the
// signed size. A good upload is synced and renamed into place, so a reader
// sees the whole object or none; uploading the same bytes again succeeds.
type Local struct {
	// ErrorLog receives the handler's internal errors (the client only
	// gets a generic 500); nil means slog.Default(). Set it before the
	// handler serves.
	ErrorLog *slog.Logger

	dir     string
	secret  []byte
	baseURL func() string
	now     func() time.Time
}

// The query parameters of a signed URL, and which of them each method signs.
const (
	paramKey     = "key"
	paramSize    = "size"
	paramSHA256  = "sha256"
	paramType    = "type"
	paramExpires = "expires"
	paramSig     = "sig"
)

var (
	putParams = []string{paramKey, paramSize, paramSHA256, paramType, paramExpires}
	getParams = []string{paramKey, paramExpires}
)

// tmpDirName is the directory under the store's root that holds uploads in
// progress. Keys never have a segment starting with '.', so it cannot
// collide with an object.
const tmpDirName = ".tmp"

// staleTemp is how long a temporary file may go unwritten before NewLocal
// deletes it as the leftover of a crash.
const staleTemp = time.Hour

// defaultContentType is reported for an object whose metadata is lost.
const defaultContentType = "application/octet-stream"

// NewLocal returns a Local store of the files under dir, creating it if
// needed. secret (at least MinSecretLen bytes, which the server keeps in
// its data directory) signs the URLs; baseURL returns the absolute URL at
// which the server mounts the store's handler. It removes the temporary
// files that crashed uploads left behind.
func NewLocal(dir string, secret []byte, baseURL func() string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local store needs a directory")
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("blob: local store secret has %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if baseURL == nil {
		return nil, errors.New("blob: local store needs a base URL function")
	}
	l := &Local{
		dir:     dir,
		secret:  append([]byte(nil), secret...),
		baseURL: baseURL,
		now:     time.Now,
	}
	if err := os.MkdirAll(l.tmpDir(), 0o750); err != nil {
		return nil, fmt.Errorf("blob: create local store: %w", err)
	}
	if err := l.removeStaleTemps(); err != nil {
		return nil, err
	}
	return l, nil
}

// PresignPut implements Bucket. The URL is signed with HMAC-SHA256 over the
// key, size, SHA-256, content type and expiry; the slot's headers are
// Content-Type and Content-Length.
func (l *Local) PresignPut(ctx context.Context, key string, size int64, sha256Hex, contentType string, ttl time.Duration) (UploadSlot, error) {
	sum, err := validPut(key, size, sha256Hex, contentType, ttl)
	if err != nil {
		return UploadSlot{}, err
	}
	exp := l.now().Add(ttl).Unix()
	u, err := l.signedURL(http.MethodPut, url.Values{
		paramKey:     {key},
		paramSize:    {strconv.FormatInt(size, 10)},
		paramSHA256:  {hex.EncodeToString(sum)},
		paramType:    {contentType},
		paramExpires: {strconv.FormatInt(exp, 10)},
	})
	if err != nil {
		return UploadSlot{}, err
	}
	return UploadSlot{
		URL:    u,
		Method: http.MethodPut,
		Headers: map[string]string{
			"Content-Type":   contentType,
			"Content-Length": strconv.FormatInt(size, 10),
		},
		ExpiresAt: time.Unix(exp, 0),
	}, nil
}

// PresignGet implements Bucket.
func (l *Local) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	if err := validTTL(ttl); err != nil {
		return "", err
	}
	return l.signedURL(http.MethodGet, url.Values{
		paramKey:     {key},
		paramExpires: {strconv.FormatInt(l.now().Add(ttl).Unix(), 10)},
	})
}

// Stat implements Bucket.
func (l *Local) Stat(ctx context.Context, key string) (Object, error) {
	if err := validKey(key); err != nil {
		return Object{}, err
	}
	fi, err := os.Stat(l.objectPath(key))
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Object{}, l.pathError("stat", key, err)
	}
	return Object{Key: key, Size: fi.Size(), ContentType: l.contentType(key)}, nil
}

// Open implements Bucket.
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	f, err := l.openRegular(key)
	if err != nil {
		return nil, l.pathError("open", key, err)
	}
	return f, nil
}

// Delete implements Bucket.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	for _, p := range []string{l.objectPath(key), l.metaPath(key)} {
		if err := os.Remove(p); err != nil && !notExist(err) {
			return fmt.Errorf("blob: delete %s: %w", key, err)
		}
	}
	if err := syncDir(filepath.Dir(l.objectPath(key))); err != nil && !notExist(err) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// ServeHTTP serves the signed URLs: PUT uploads, GET and HEAD downloads.
func (l *Local) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut:
		l.servePut(w, r)
	case http.MethodGet, http.MethodHead:
		l.serveGet(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// upload errors, each answered with its own status.
var (
	errTooLarge = errors.New("body is longer than the signed size")
	errShort    = errors.New("body is shorter than the signed size")
	errDigest   = errors.New("body does not match the signed SHA-256")
)

// readError is a failure to read the request body (the client went away).
type readError struct{ err error }

func (e readError) Error() string { return "reading body: " + e.err.Error() }

func (l *Local) servePut(w http.ResponseWriter, r *http.Request) {
	q, ok := l.authorize(w, r, http.MethodPut, putParams)
	if !ok {
		return
	}
	key := q.Get(paramKey)
	size, err := strconv.ParseInt(q.Get(paramSize), 10, 64)
	if err != nil || size < 0 || validKey(key) != nil {
		http.Error(w, "bad signed URL", http.StatusForbidden)
		return
	}
	sum, err := parseSHA256(q.Get(paramSHA256))
	if err != nil {
		http.Error(w, "bad signed URL", http.StatusForbidden)
		return
	}
	ct := q.Get(paramType)
	if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != ct {
		http.Error(w, fmt.Sprintf("Content-Type must be %q", ct), http.StatusBadRequest)
		return
	}
	switch {
	case r.ContentLength > size:
		http.Error(w, errTooLarge.Error(), http.StatusRequestEntityTooLarge)
		return
	case r.ContentLength >= 0 && r.ContentLength < size:
		http.Error(w, errShort.Error(), http.StatusBadRequest)
		return
	}
	err = l.write(key, size, sum, ct, http.MaxBytesReader(w, r.Body, size))
	var re readError
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, errTooLarge):
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
	case errors.Is(err, errShort), errors.Is(err, errDigest), errors.As(err, &re):
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		l.logger().ErrorContext(r.Context(), "blob: upload failed", "key", key, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (l *Local) serveGet(w http.ResponseWriter, r *http.Request) {
	q, ok := l.authorize(w, r, http.MethodGet, getParams)
	if !ok {
		return
	}
	key := q.Get(paramKey)
	if validKey(key) != nil {
		http.Error(w, "bad signed URL", http.StatusForbidden)
		return
	}
	f, err := l.openRegular(key)
	if notExist(err) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		l.logger().ErrorContext(r.Context(), "blob: download failed", "key", key, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		l.logger().ErrorContext(r.Context(), "blob: download failed", "key", key, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", l.contentType(key))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// authorize checks the signature and expiry of the request's URL for
// method over the named parameters, and returns them. Otherwise it answers
// 403 and returns false.
func (l *Local) authorize(w http.ResponseWriter, r *http.Request, method string, names []string) (url.Values, bool) {
	q := r.URL.Query()
	signed := make(url.Values, len(names))
	for _, n := range names {
		if len(q[n]) != 1 {
			http.Error(w, "missing or repeated parameter "+n, http.StatusForbidden)
			return nil, false
		}
		signed[n] = q[n]
	}
	sig, err := hex.DecodeString(q.Get(paramSig))
	if err != nil || len(q[paramSig]) != 1 || !hmac.Equal(sig, l.mac(method, signed)) {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return nil, false
	}
	exp, err := strconv.ParseInt(signed.Get(paramExpires), 10, 64)
	if err != nil || l.now().Unix() > exp {
		http.Error(w, "URL expired", http.StatusForbidden)
		return nil, false
	}
	return signed, true
}

// mac signs the parameters of a URL for method.
func (l *Local) mac(method string, v url.Values) []byte {
	m := hmac.New(sha256.New, l.secret)
	io.WriteString(m, "shopscore-blob-url-v1\n"+method+"\n"+v.Encode())
	return m.Sum(nil)
}

// signedURL returns the base URL with v and its signature for method as
// the query.
func (l *Local) signedURL(method string, v url.Values) (string, error) {
	base := l.baseURL()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("blob: local store base URL %q is not an absolute http(s) URL", base)
	}
	q := make(url.Values, len(v)+1)
	for k, vs := range v {
		q[k] = vs
	}
	q.Set(paramSig, hex.EncodeToString(l.mac(method, v)))
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

// write streams body into a temporary file while hashing it, checks its
// size and SHA-256, then moves it (and its metadata) into place durably.
func (l *Local) write(key string, size int64, sum []byte, contentType string, body io.Reader) (err error) {
	tmp, err := os.CreateTemp(l.tmpDir(), "put-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	buf := make([]byte, 32<<10)
	var n int64
	for {
		m, rerr := body.Read(buf)
		if m > 0 {
			if _, err := tmp.Write(buf[:m]); err != nil {
				return err
			}
			h.Write(buf[:m])
			n += int64(m)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](rerr); ok {
				return errTooLarge
			}
			return readError{rerr}
		}
	}
	switch {
	case n > size:
		return errTooLarge
	case n < size:
		return errShort
	case !hmac.Equal(h.Sum(nil), sum):
		return errDigest
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	meta, err := json.Marshal(localMeta{ContentType: contentType})
	if err != nil {
		return err
	}
	metaTmp, err := l.writeTemp(meta)
	if err != nil {
		return err
	}
	dir := filepath.Dir(l.objectPath(key))
	if err := mkdirAllSync(l.dir, dir); err != nil {
		os.Remove(metaTmp)
		return err
	}
	if err := os.Rename(metaTmp, l.metaPath(key)); err != nil {
		os.Remove(metaTmp)
		return err
	}
	if err := os.Rename(tmp.Name(), l.objectPath(key)); err != nil {
		return err
	}
	return syncDir(dir)
}

// localMeta is the content of an object's metadata file.
type localMeta struct {
	ContentType string `json:"content_type"`
}

// writeTemp writes data to a synced temporary file and returns its path.
func (l *Local) writeTemp(data []byte) (string, error) {
	f, err := os.CreateTemp(l.tmpDir(), "meta-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// contentType returns the content type recorded for key.
func (l *Local) contentType(key string) string {
	data, err := os.ReadFile(l.metaPath(key))
	if err != nil {
		return defaultContentType
	}
	var m localMeta
	if err := json.Unmarshal(data, &m); err != nil || validContentType(m.ContentType) != nil {
		return defaultContentType
	}
	return m.ContentType
}

// openRegular opens the object file of key, refusing anything but a
// regular file as missing.
func (l *Local) openRegular(key string) (*os.File, error) {
	f, err := os.Open(l.objectPath(key))
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// pathError turns a missing file into audit.ENOTFOUND and wraps any other
// error.
func (l *Local) pathError(op, key string, err error) error {
	if notExist(err) {
		return audit.Errorf(audit.ENOTFOUND, "photo %s not found", key)
	}
	return fmt.Errorf("blob: %s %s: %w", op, key, err)
}

func (l *Local) objectPath(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

// metaPath is the hidden file beside the object that keeps its content
// type.
func (l *Local) metaPath(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(path.Dir(key)), "."+path.Base(key)+".meta")
}

func (l *Local) tmpDir() string { return filepath.Join(l.dir, tmpDirName) }

func (l *Local) logger() *slog.Logger {
	if l.ErrorLog != nil {
		return l.ErrorLog
	}
	return slog.Default()
}

// removeStaleTemps deletes temporary files not written for staleTemp.
func (l *Local) removeStaleTemps() error {
	entries, err := os.ReadDir(l.tmpDir())
	if err != nil {
		return fmt.Errorf("blob: clean local store: %w", err)
	}
	cutoff := l.now().Add(-staleTemp)
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.ModTime().After(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(l.tmpDir(), e.Name())); err != nil && !notExist(err) {
			return fmt.Errorf("blob: clean local store: %w", err)
		}
	}
	return nil
}

// notExist reports whether err means the file is missing, including a
// path through a regular file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// mkdirAllSync creates dir and its missing parents below root, syncing
// each parent so the new entries survive a crash.
func mkdirAllSync(root, dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("blob: %s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if dir != root && parent != dir {
		if err := mkdirAllSync(root, parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncDir flushes a directory's entries to stable storage.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
