package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	strict = Policy{}
	dev    = Policy{AllowLoopback: true}
	lan    = Policy{AllowPrivate: true}
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url    string
		policy Policy
		ok     bool
	}{
		{"https://hooks.example.com/shopscore", strict, true},
		{"https://hooks.example.com:8443/x?y=1", strict, true},
		{"https://93.184.216.34/hook", strict, true},
		{"https://[2606:4700::1]/hook", strict, true},
		{"http://hooks.example.com/", strict, false},
		{"http://93.184.216.34/", dev, false},
		{"ftp://hooks.example.com/", dev, false},
		{"hooks.example.com/x", strict, false},
		{"https:///x", strict, false},
		{"https:opaque", strict, false},
		{"https://hooks.example.com/#frag", strict, false},
		{"https://hooks.example.com:0/", strict, false},
		{"://nothing", strict, false},

		{"http://127.0.0.1:8080/", dev, true},
		{"http://127.8.9.1/", dev, true},
		{"http://[::1]:8080/", dev, true},
		{"http://localhost:8080/", dev, true},
		{"https://hook.localhost/", dev, true},
		{"http://127.0.0.1:8080/", strict, false},
		{"https://127.0.0.1/", strict, false},
		{"https://[::1]/", strict, false},
		{"https://localhost/", strict, false},
		{"https://LOCALHOST./", strict, false},
		{"https://a.localhost/", strict, false},
		{"https://[::ffff:127.0.0.1]/", strict, false},

		{"https://10.1.2.3/", strict, false},
		{"https://172.16.0.1/", strict, false},
		{"https://172.31.255.255/", strict, false},
		{"https://172.32.0.1/", strict, true},
		{"https://192.168.1.1/", strict, false},
		{"https://100.64.0.1/", strict, false},
		{"https://[fd12:3456::1]/", strict, false},
		{"https://[::ffff:10.0.0.1]/", strict, false},
		{"https://[64:ff9b::a00:1]/", strict, false},
		{"https://[2002:c0a8:101::1]/", strict, false},
		{"https://10.1.2.3/", lan, true},
		{"https://192.168.1.1/", lan, true},
		{"https://[fd12:3456::1]/", lan, true},
		{"http://10.1.2.3/", lan, false},

		{"https://169.254.169.254/latest/meta-data/", strict, false},
		{"https://169.254.169.254/latest/meta-data/", Policy{AllowPrivate: true, AllowLoopback: true}, false},
		{"https://[fd00:ec2::254]/", lan, false},
		{"https://100.100.100.200/", lan, false},
		{"https://169.254.1.1/", lan, false},
		{"https://[fe80::1]/", lan, false},
		{"https://[fe80::1%25eth0]/", lan, false},
		{"https://0.0.0.0/", lan, false},
		{"https://0.1.2.3/", lan, false},
		{"https://[::]/", lan, false},
		{"https://224.0.0.1/", lan, false},
		{"https://[ff02::1]/", lan, false},
		{"https://255.255.255.255/", lan, false},
		{"https://240.0.0.1/", lan, false},
	} {
		_, err := tc.policy.CheckURL(tc.url)
		if tc.ok {
			assert.NoError(t, err, "%s under %+v", tc.url, tc.policy)
		} else if assert.Error(t, err, "%s under %+v", tc.url, tc.policy) {
			assert.ErrorIs(t, err, ErrForbidden, tc.url)
		}
	}
}

// TestControlRefusesBeforeConnect calls the dial-time hook the way
// net.Dialer does, with resolved addresses: each refusal happens before
// connect, so these addresses are never sent a packet.
func TestControlRefusesBeforeConnect(t *testing.T) {
	for _, tc := range []struct {
		network, address string
		policy           Policy
		plain, ok        bool
	}{
		{"tcp4", "93.184.216.34:443", strict, false, true},
		{"tcp6", "[2606:4700::1]:443", strict, false, true},
		{"tcp4", "10.0.0.1:443", strict, false, false},
		{"tcp4", "10.0.0.1:443", lan, false, true},
		{"tcp4", "192.168.0.10:443", strict, false, false},
		{"tcp6", "[fd00::1]:443", strict, false, false},
		{"tcp4", "169.254.169.254:80", lan, false, false},
		{"tcp6", "[fd00:ec2::254]:80", lan, false, false},
		{"tcp6", "[fe80::1%eth0]:443", lan, false, false},
		{"tcp6", "[::ffff:192.168.0.1]:443", strict, false, false},
		{"tcp4", "0.0.0.0:443", lan, false, false},
		{"tcp4", "127.0.0.1:443", strict, false, false},
		{"tcp6", "[::1]:443", strict, false, false},
		{"tcp4", "127.0.0.1:443", dev, false, true},
		{"tcp4", "127.0.0.1:80", dev, true, true},
		{"tcp6", "[::1]:80", dev, true, true},
		// http goes to loopback only, whatever the name resolved to.
		{"tcp4", "93.184.216.34:80", dev, true, false},
		{"tcp4", "10.0.0.1:80", Policy{AllowLoopback: true, AllowPrivate: true}, true, false},
		{"udp4", "93.184.216.34:443", strict, false, false},
		{"tcp4", "not-an-address:443", strict, false, false},
	} {
		control := tc.policy.Dialer(tc.plain).Control
		err := control(tc.network, tc.address, nil)
		if tc.ok {
			assert.NoError(t, err, "%s %s", tc.network, tc.address)
		} else if assert.Error(t, err, "%s %s", tc.network, tc.address) {
			assert.ErrorIs(t, err, ErrForbidden)
		}
	}
}

// onlyLoopback wraps a Control hook for tests: whatever the hook under
// test decides, nothing but loopback is ever connected to, and a hook that
// lets another address through fails the test instead.
func onlyLoopback(t *testing.T, control func(string, string, syscall.RawConn) error) func(string, string, syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		err := control(network, address, c)
		if ap, perr := netip.ParseAddrPort(address); perr != nil || !ap.Addr().Unmap().IsLoopback() {
			if err == nil {
				t.Errorf("the policy let %s through; the test refused it", address)
			}
			return errors.Join(err, errors.New("test: only loopback is dialled"))
		}
		return err
	}
}

// countingListener is a loopback TCP listener that counts connections.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// TestDialRefusesResolvedAddress dials a name: the URL check cannot see
// where it leads, the hook sees the resolved address and refuses it, and
// the listener there is never connected to. This is what stops a name
// that resolves (or is rebound) to a forbidden address.
func TestDialRefusesResolvedAddress(t *testing.T) {
	addr, accepted := countingListener(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)

	d := strict.Dialer(false)
	d.Control = onlyLoopback(t, d.Control)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = d.DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrForbidden)

	// The same dialer with loopback allowed connects, so the refusal
	// above was the policy's.
	ok := dev.Dialer(false)
	ok.Control = onlyLoopback(t, ok.Control)
	c, err := ok.DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
	require.NoError(t, err)
	c.Close()
	assert.Eventually(t, func() bool { return accepted.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int32(1), accepted.Load(), "only the allowed dial connected")

	// Forbidden addresses are refused in the hook, before connect: the
	// dial fails with the policy's error, not a network error.
	for _, target := range []string{"10.0.0.1:9", "169.254.169.254:80", "[fd00:ec2::254]:80", "192.168.1.1:443"} {
		_, err := d.DialContext(ctx, "tcp", target)
		assert.ErrorIs(t, err, ErrForbidden, target)
	}
}

// TestClientRefusesAndFollowsNoRedirect drives the delivery client: a
// refused URL reaches no server, and a redirect is answered as it is.
func TestClientRefusesAndFollowsNoRedirect(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
	}))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/elsewhere", http.StatusTemporaryRedirect))
	defer redirect.Close()

	client := dev.Client(nil)
	resp, err := client.Post(redirect.URL, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	assert.Equal(t, int32(0), targetHits.Load(), "the redirect was not followed")

	// Without loopback allowed, the same URL is refused before dialling.
	resp, err = strict.Client(nil).Post(target.URL, "application/json", strings.NewReader(`{}`))
	if resp != nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, int32(0), targetHits.Load())

	// An https server on loopback: the https transport's hook refuses it
	// under the strict policy and reaches it in development.
	var tlsHits atomic.Int32
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tlsHits.Add(1) }))
	defer secure.Close()
	tlsConfig := secure.Client().Transport.(*http.Transport).TLSClientConfig
	localURL := strings.Replace(secure.URL, "127.0.0.1", "localhost", 1)
	_, err = strict.Client(tlsConfig).Post(localURL, "application/json", strings.NewReader(`{}`))
	assert.ErrorIs(t, err, ErrForbidden)
	// The transports' own dialers refuse it too, for a URL that was never
	// checked: the hook sees the resolved 127.0.0.1 behind the name.
	for _, plain := range []bool{false, true} {
		u := localURL
		if plain {
			u = strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
		}
		req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(`{}`))
		require.NoError(t, err)
		_, err = strict.transport(plain, tlsConfig).RoundTrip(req)
		assert.ErrorIs(t, err, ErrForbidden, u)
	}
	assert.Equal(t, int32(0), tlsHits.Load())
	assert.Equal(t, int32(0), targetHits.Load())

	resp, err = dev.Client(tlsConfig).Post(secure.URL, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int32(1), tlsHits.Load())
}
