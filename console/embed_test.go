package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	h, err := Handler(Options{ImageOrigins: []string{"https://s3.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	t.Run("IndexAndClientRoutes", func(t *testing.T) {
		for _, p := range []string{"/", "/review", "/visits/0190-abc", "/admin/users?x=1"} {
			rec := get("GET", p)
			require.Equal(t, http.StatusOK, rec.Code, p)
			assert.Contains(t, rec.Body.String(), `<div id="root">`, p)
			assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"), p)
			assert.Contains(t, rec.Header().Get("Content-Type"), "text/html", p)
		}
	})
	t.Run("Headers", func(t *testing.T) {
		rec := get("GET", "/")
		csp := rec.Header().Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'")
		assert.Contains(t, csp, "connect-src 'self'")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.Contains(t, csp, "img-src 'self' blob: data: https://s3.example.com")
		assert.NotContains(t, csp, "unsafe-inline")
		assert.NotContains(t, csp, "unsafe-eval")
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	})
	t.Run("NoInlineScript", func(t *testing.T) {
		body := get("GET", "/").Body.String()
		for _, tag := range strings.Split(body, "<script")[1:] {
			assert.Contains(t, tag[:strings.Index(tag, ">")], "src=", "every script is a file")
		}
	})
	t.Run("Assets", func(t *testing.T) {
		entries, err := dist.ReadDir("dist/assets")
		require.NoError(t, err)
		require.NotEmpty(t, entries)
		rec := get("GET", "/assets/"+entries[0].Name())
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Header().Get("Cache-Control"), "immutable")
		assert.Equal(t, http.StatusNotFound, get("GET", "/assets/missing.js").Code)
		assert.Equal(t, http.StatusOK, get("HEAD", "/favicon.svg").Code)
	})
	t.Run("NeverShadowsTheServer", func(t *testing.T) {
		for _, p := range []string{
			"/shopscore.v1.ReviewService/ListVisits",
			"/shopscore.v1.Unknown/Call",
			"/grpc.health.v1.Health/Check",
			"/blob/abc",
			"/reports/audit.xlsx",
			"/.well-known/jwks.json",
		} {
			assert.Equal(t, http.StatusNotFound, get("GET", p).Code, p)
		}
		assert.Equal(t, http.StatusNotFound, get("POST", "/").Code)
		assert.Equal(t, http.StatusNotFound, get("POST", "/review").Code)
	})
}
