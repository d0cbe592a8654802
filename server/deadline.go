package server

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// bodyDeadline puts a deadline on reading each request's body, which the
// header timeout does not cover: a client that trickles a body is cut
// when the deadline passes, so slow clients cannot hold connections and
// handlers forever. A call's body must arrive within RequestBodyTimeout;
// an evidence upload to the local store (under /blob/) within
// RequestBodyTimeout plus its size at MinUploadRate. The deadline is
// lifted once the body has been read, so that a long streamed answer
// (a workbook download) is never cut by it.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		timeout := s.cfg.RequestBodyTimeout
		if strings.HasPrefix(r.URL.Path, blobPrefix) {
			size := r.ContentLength
			if size < 0 || size > audit.MaxPhotoBytes {
				size = audit.MaxPhotoBytes // the store refuses more anyway
			}
			timeout += time.Duration(float64(size) / float64(s.cfg.MinUploadRate) * float64(time.Second))
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			// Every connection the server makes supports deadlines; one
			// that does not (a test recorder) is served as it is.
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts its connection's read deadline at the end of the
// body: an HTTP/1 connection goes on reading in the background after it,
// and a deadline passing then would cancel the call. It is lifted only
// at the end: after a cut body, the server's discarding of the rest must
// stay under the deadline too.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(func() { b.rc.SetReadDeadline(time.Time{}) })
	}
	return n, err
}
