// Package console serves shopscore's web console: the single-page app
// built from this folder's TypeScript sources into dist/ (committed, so
// building the server needs Go alone) and embedded in the binary.
//
// The handler answers GET and HEAD only. A file of dist/ is served as is
// (hashed assets cached for a year); any other path without a file
// extension is a client route and gets index.html. Paths that belong to
// the server (Connect and gRPC procedures, /blob/, /reports/,
// /.well-known/) are never answered with the app: they are 404 here, so
// mounting the console at "/" of the server's mux never hides them.
package console

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Options configure the console's handler.
type Options struct {
	// ImageOrigins are origins besides the server's own that photo
	// download URLs may point at (an S3 endpoint: "https://s3.example.com").
	ImageOrigins []string
}

// serverPrefixes are the server's own path spaces besides the procedures.
var serverPrefixes = []string{"/blob/", "/reports/", "/exports/", "/.well-known/"}

// Handler returns the console's HTTP handler. It fails only when the
// binary was built without the console's build output (dist/index.html):
// run `make console` and build again.
func Handler(opts Options) (http.Handler, error) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, fmt.Errorf("console: the build has no dist/index.html (run make console): %w", err)
	}
	return &handler{files: files, index: index, csp: ContentSecurityPolicy(opts)}, nil
}

// ContentSecurityPolicy is the policy every console response carries: no
// inline scripts or styles, calls only to this server, no framing.
func ContentSecurityPolicy(opts Options) string {
	img := append([]string{"'self'", "blob:", "data:"}, opts.ImageOrigins...)
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src " + strings.Join(img, " "),
		"connect-src 'self'",
		"font-src 'self'",
		"manifest-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

type handler struct {
	files fs.FS
	index []byte
	csp   string
}

// isServerPath tells the paths the console must never answer with the app.
func isServerPath(p string) bool {
	for _, prefix := range serverPrefixes {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	// "/shopscore.v1.ReviewService/ListVisits", "/grpc.health.v1.Health/Check":
	// a procedure's first segment is a dotted service name.
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return strings.Contains(first, ".") && strings.Contains(p[1:], "/")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	p := path.Clean("/" + r.URL.Path)
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || isServerPath(p) {
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if name != "" && name != "index.html" {
		if f, err := fs.Stat(h.files, name); err == nil && !f.IsDir() {
			if strings.HasPrefix(name, "assets/") {
				hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				hdr.Set("Cache-Control", "no-cache")
			}
			http.ServeFileFS(w, r, h.files, name)
			return
		}
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
	}
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
}
