package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// TestClientAddr: behind a trusted load balancer the client's address is
// the rightmost untrusted hop of X-Forwarded-For; from any other peer, or
// without trusted proxies, the header a client may forge is ignored.
func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 127.0.0.1 ,::1")
	require.NoError(t, err)
	seen := func(proxies string, remote string, xff ...string) string {
		t.Helper()
		p, err := ParseTrustedProxies(proxies)
		require.NoError(t, err)
		var got string
		h := clientAddr(p, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
		r := httptest.NewRequest("POST", "/", nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		return got
	}
	const ours = "10.0.0.0/8, 127.0.0.1 ,::1"
	assert.Len(t, trusted, 3)
	for name, tc := range map[string]struct {
		proxies, remote string
		xff             []string
		want            string
	}{
		"no trusted proxies: the header is ignored":   {"", "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9:4000"},
		"an untrusted peer: the header is ignored":    {ours, "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9:4000"},
		"through the balancer":                        {ours, "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1:4000"},
		"a forged hop left of the real client":        {ours, "10.1.2.3:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1:4000"},
		"two proxies: the first untrusted from right": {ours, "127.0.0.1:4000", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1:4000"},
		"headers on several lines":                    {ours, "10.1.2.3:4000", []string{"1.1.1.1", "198.51.100.7"}, "198.51.100.7:4000"},
		"IPv6 peer and client":                        {ours, "[::1]:4000", []string{"2001:db8::5"}, "[2001:db8::5]:4000"},
		"no header: the balancer's own":               {ours, "10.1.2.3:4000", nil, "10.1.2.3:4000"},
		"a malformed hop: the balancer's own":         {ours, "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3:4000"},
		"only trusted hops: the balancer's own":       {ours, "10.1.2.3:4000", []string{"10.4.4.4"}, "10.1.2.3:4000"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, seen(tc.proxies, tc.remote, tc.xff...))
		})
	}
	_, err = ParseTrustedProxies("10.0.0.0/8,lb.internal")
	require.Error(t, err)
	assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), `"lb.internal"`)
}
