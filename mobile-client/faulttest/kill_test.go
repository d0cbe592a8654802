package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
)

// output is a child's output, written by os/exec's copying goroutine
// while the test may read it.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// child is a process of one of the module's binaries.
type child struct {
	cmd     *exec.Cmd
	out     output
	started chan struct{} // closed once cmd.Start returned
	done    chan struct{} // closed once the process was reaped
	err     error
	once    sync.Once
}

// start starts bin with args and env (added to the test's environment).
// When cur is not nil, the process is stored there before it starts, for
// a proxy hook that may see its first request before start returns.
func start(tb testing.TB, cur *atomic.Pointer[child], bin string, env []string, args ...string) *child {
	tb.Helper()
	p := &child{cmd: exec.Command(bin, args...), started: make(chan struct{}), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if cur != nil {
		cur.Store(p)
	}
	if err := p.cmd.Start(); err != nil {
		p.err = err
		close(p.started)
		close(p.done)
		require.NoError(tb, err)
	}
	close(p.started)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(p.kill)
	return p
}

// kill sends SIGKILL and returns once the process is gone (reaped), so
// that it can do nothing more. It may be called more than once.
func (p *child) kill() {
	<-p.started
	p.once.Do(func() {
		if p.cmd.Process != nil {
			p.cmd.Process.Kill()
		}
	})
	<-p.done
}

// wait waits for the process to end by itself, at most d.
func (p *child) wait(tb testing.TB, d time.Duration) error {
	tb.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.kill()
		require.FailNow(tb, "process did not end", "%s after %s:\n%s", p.cmd.Args, d, p.out.String())
		return nil
	}
}

// killed reports whether the process ended by SIGKILL.
func (p *child) killed() bool {
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// shopperCLI runs the real shopper binary on one data folder against one
// server URL.
type shopperCLI struct {
	tb  testing.TB
	bin string
	dir string
	url string
}

func newShopperCLI(tb testing.TB, url string) shopperCLI {
	tb.Helper()
	return shopperCLI{tb: tb, bin: binary(tb, "shopper"), dir: tb.TempDir(), url: url}
}

func (s shopperCLI) start(cur *atomic.Pointer[child], args ...string) *child {
	s.tb.Helper()
	// One upload at a time, so that each kill point is one well-defined
	// state (the default overlaps uploads).
	return start(s.tb, cur, s.bin, []string{"SHOPSCORE_PASSWORD=" + demoPassword},
		append([]string{"--dir", s.dir, "--server", s.url, "--upload-workers", "1"}, args...)...)
}

// ok runs a command to its end, within the budget of the one visit a
// command works on, and returns its output; it must succeed.
func (s shopperCLI) ok(args ...string) string {
	s.tb.Helper()
	p := s.start(nil, args...)
	err := p.wait(s.tb, budget(1))
	require.NoError(s.tb, err, "shopper %s:\n%s", strings.Join(args, " "), p.out.String())
	return p.out.String()
}

// client opens the CLI's folder with the field library, offline, to look
// at what the killed process left.
func (s shopperCLI) client() *field.Client {
	s.tb.Helper()
	c, err := field.Open(s.dir, s.url)
	require.NoError(s.tb, err)
	s.tb.Cleanup(func() { c.Close() })
	return c
}

// TestKill_Client kills the shopper CLI (a child process, SIGKILL) at each
// state of a visit on its way to the server, at the moment the proxy sees
// the request that would move it on, either before the request reaches
// the server or after the server answered but before the answer reaches
// the client. A restarted `shopper sync` then completes: one visit on
// the server, complete, photos verified, nothing waiting on the device.
func TestKill_Client(t *testing.T) {
	ts := mustRunServer(t, server.Config{})
	mustImportPack(t, ts.URL, faultPack)
	for _, tc := range []struct {
		name    string
		draft   bool   // leave the visit a draft until after the restart
		request string // the request whose sight kills the client
		action  Action // Drop: before it reaches the server; DropResponse: after the server answered
		// check looks at what the kill left: on the device and on the
		// server (visits, photos not verified).
		check func(t *testing.T, st *field.Status, v serverView)
	}{
		{name: "DraftSaved", draft: true, request: "Pull", action: Drop, check: func(t *testing.T, st *field.Status, v serverView) {
			require.Len(t, st.Visits, 1)
			assert.Equal(t, field.StateDraft, st.Visits[0].State)
			assert.Empty(t, v.States)
		}},
		{name: "SubmittedNotPushed", request: "Push", action: Drop, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Len(t, st.Pending, 1)
			assert.Empty(t, v.States)
		}},
		{name: "PushedNotAcknowledged", request: "Push", action: DropResponse, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Len(t, st.Pending, 1, "the device never heard back")
			assert.Len(t, v.States, 1)
			assert.Equal(t, 2, v.Unverified)
		}},
		{name: "PushedPhotoNotUploaded", request: "upload", action: Drop, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Empty(t, st.Pending)
			assert.Len(t, st.MissingEvidence, 2)
			assert.Equal(t, map[string]string{st.Visits[0].ID: "submitted"}, v.States)
			assert.Equal(t, 2, v.Unverified)
		}},
		{name: "UploadedNotAcknowledged", request: "upload", action: DropResponse, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Len(t, st.MissingEvidence, 2)
			assert.Equal(t, 2, v.Unverified, "uploaded, not finalized")
		}},
		{name: "UploadedNotFinalized", request: "FinalizeUpload", action: Drop, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Len(t, st.MissingEvidence, 2)
			assert.Equal(t, 2, v.Unverified)
		}},
		{name: "FinalizedNotAcknowledged", request: "FinalizeUpload", action: DropResponse, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Len(t, st.MissingEvidence, 2, "the device never heard back")
			assert.Equal(t, 1, v.Unverified, "the server verified the first photo")
		}},
		{name: "FinalizedNotPulled", request: "Pull", action: Drop, check: func(t *testing.T, st *field.Status, v serverView) {
			assert.Empty(t, st.Pending)
			assert.Empty(t, st.MissingEvidence)
			assert.Equal(t, map[string]string{st.Visits[0].ID: "complete"}, v.States)
			assert.Zero(t, v.Unverified)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := newShopperCLI(t, ts.Proxy.URL)
			sh.ok("login", "--email", demo.Users[audit.RoleShopper])
			sh.ok("sync")
			id := strings.TrimSpace(sh.ok("visit", "start", "--unplanned", "--checklist", "fault-visit", "--store", "MSK-01"))
			for _, q := range []string{"q1", "q2", "q3"} {
				sh.ok("visit", "answer", id, q, "yes")
			}
			rnd := rand.New(rand.NewPCG(uint64(len(tc.name)), 7))
			photos := t.TempDir()
			sh.ok("visit", "photo", id, "shelf", writePhoto(t, photos, rnd, 200<<10))
			sh.ok("visit", "photo", id, "floor", writePhoto(t, photos, rnd, 300<<10))
			if !tc.draft {
				sh.ok("visit", "submit", id)
			}

			// The sync that dies.
			var cur atomic.Pointer[child]
			var armed sync.Mutex
			fired := false
			ts.Proxy.SetOnRequest(func(method, path string) Fault {
				if RequestName(method, path) != tc.request {
					return Fault{}
				}
				armed.Lock()
				defer armed.Unlock()
				if fired {
					return Fault{}
				}
				fired = true
				return Fault{Action: tc.action, Do: cur.Load().kill}
			})
			p := sh.start(&cur, "sync")
			err := p.wait(t, budget(1))
			ts.Proxy.SetOnRequest(nil)
			require.Error(t, err, "the sync was not killed:\n%s", p.out.String())
			require.True(t, p.killed(), "ended by SIGKILL: %v\n%s", err, p.out.String())

			c := sh.client()
			st, err := c.Status(context.Background())
			require.NoError(t, err)
			tc.check(t, st, readServer(t, ts.DataDir, id))
			require.NoError(t, c.Close())

			// The restarted sync completes.
			if tc.draft {
				sh.ok("visit", "submit", id)
			}
			out := sh.ok("sync")
			assert.NotContains(t, out, "not sent yet")
			c = sh.client()
			requireNothingWaits(t, c)
			d, err := c.Visit(context.Background(), id)
			require.NoError(t, err)
			require.NotNil(t, d.Receipt)
			assert.Equal(t, "complete", d.Receipt.State)
			v := readServer(t, ts.DataDir, id)
			assert.Equal(t, map[string]string{id: "complete"}, v.States, "one visit, complete")
			assert.Equal(t, 2, v.Photos)
			assert.Zero(t, v.Unverified)
		})
	}
}

// serverProc is the real shopscore binary serving a data folder on a
// fixed loopback address.
type serverProc struct {
	tb   testing.TB
	addr string
	data string
	args []string              // more flags of shopscore serve ("--demo")
	env  []string              // more environment
	p    atomic.Pointer[child] // the current process
}

// start starts the server and returns once it answers.
func (s *serverProc) start() {
	s.tb.Helper()
	s.launch()
	s.ready()
}

// launch starts the server process and returns at once.
func (s *serverProc) launch() {
	s.tb.Helper()
	env := append([]string{"SHOPSCORE_DEMO_PASSWORD=" + demoPassword, "SHOPSCORE_LOG_LEVEL=warn"}, s.env...)
	start(s.tb, &s.p, binary(s.tb, "shopscore"), env,
		append([]string{"serve", "--addr", s.addr, "--data", s.data}, s.args...)...)
}

// handed holds the ports freeAddr has returned in this test binary.
var (
	handedMu sync.Mutex
	handed   = map[int]bool{}
)

// ready waits, at most 30 s, until the launched server answers.
func (s *serverProc) ready() {
	s.tb.Helper()
	p := s.p.Load()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.addr + "/.well-known/jwks.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			require.FailNow(s.tb, "shopscore serve exited", "%v\n%s", p.err, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			require.FailNow(s.tb, "shopscore serve did not answer within 30s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port nothing listens on,
// drawn below the kernel's ephemeral range (ip_local_port_range, 32768
// and up by default): a child server binds it only after freeAddr let it
// go, and restarts on it after a kill, and a port from the ephemeral
// range may be handed to some other connection in between (a CI run's
// child found its port taken that way and failed to bind).
//
// A port is handed out once per test binary: the three servers of a
// cluster ask for theirs before any of them binds, and a CI run gave two
// of them the same port (the second failed to bind, and its readiness
// check was answered by the first).
func freeAddr(tb testing.TB) string {
	tb.Helper()
	lo, hi := 20000, 32000
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first, last int
		if n, _ := fmt.Sscan(string(b), &first, &last); n == 2 && first > 1024+1000 {
			lo, hi = max(1024, first-12000), first
		}
	}
	handedMu.Lock()
	defer handedMu.Unlock()
	for range 100 {
		port := lo + rand.IntN(hi-lo)
		if handed[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		require.NoError(tb, ln.Close())
		handed[port] = true
		return addr
	}
	require.FailNow(tb, "no free loopback port below the ephemeral range")
	return ""
}

// TestKill_Server kills the server (the shopscore binary, SIGKILL) while
// the real field client pushes or uploads, restarts it on the same port
// and data folder, and syncs again: every visit exists exactly once,
// complete, with its photos verified.
func TestKill_Server(t *testing.T) {
	ctx := context.Background()
	srv := &serverProc{tb: t, addr: freeAddr(t), data: t.TempDir(), args: []string{"--demo"}}
	srv.start()
	proxy, err := NewProxy(srv.addr)
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	mustImportPack(t, "http://"+srv.addr, faultPack)

	// The device reaches the server, and the upload URLs the server
	// hands out (which name the server's own address), through the proxy.
	cfg := fieldConfig(t.TempDir(), "http://"+srv.addr)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, proxy.Addr)
		},
	}}
	c := mustOpenField(t, cfg)
	rnd := rand.New(rand.NewPCG(seed(t, 5), 6))

	var ids []string
	photos := 0
	for _, tc := range []struct {
		name    string
		request string
		fault   Fault
		// left says what the dead server holds of this round's visits,
		// which have the given number of photos.
		left func(t *testing.T, v serverView, photos int)
	}{
		// The server dies with a push half received, and after it
		// committed one but before its answer left.
		{"MidPush", "Push", Fault{Action: Drop, After: 2 << 10}, func(t *testing.T, v serverView, _ int) {
			assert.Empty(t, v.States)
		}},
		{"PushCommitted", "Push", Fault{Action: DropResponse}, func(t *testing.T, v serverView, photos int) {
			assert.Len(t, v.States, 2)
			assert.Equal(t, photos, v.Unverified)
		}},
		// With an upload half received, and once an upload is stored.
		{"MidUpload", "upload", Fault{Action: Drop, After: 100 << 10}, func(t *testing.T, v serverView, photos int) {
			assert.Len(t, v.States, 2)
			assert.Equal(t, photos, v.Unverified)
		}},
		{"UploadStored", "upload", Fault{Action: DropResponse}, func(t *testing.T, v serverView, photos int) {
			assert.Equal(t, photos, v.Unverified, "stored, not verified")
		}},
		// Once a photo is verified, before the answer left.
		{"Finalized", "FinalizeUpload", Fault{Action: DropResponse}, func(t *testing.T, v serverView, photos int) {
			assert.Equal(t, photos-1, v.Unverified)
		}},
	} {
		var round []string
		roundPhotos := 0
		for range 2 {
			id, n := recordVisit(t, c, rnd, 200<<10, 400<<10, 4<<10)
			round, roundPhotos = append(round, id), roundPhotos+n
		}
		ids, photos = append(ids, round...), photos+roundPhotos
		var mu sync.Mutex
		fired := false
		proxy.SetOnRequest(func(method, path string) Fault {
			if RequestName(method, path) != tc.request {
				return Fault{}
			}
			mu.Lock()
			defer mu.Unlock()
			if fired {
				return Fault{}
			}
			fired = true
			f := tc.fault
			f.Do = srv.p.Load().kill
			return f
		})
		res, err := c.Sync(ctx, nil)
		proxy.SetOnRequest(nil)
		mu.Lock()
		require.True(t, fired, "%s: the server was not killed", tc.name)
		mu.Unlock()
		require.True(t, srv.p.Load().killed(), "%s: SIGKILL", tc.name)
		require.True(t, err != nil || len(res.PhotoErrors) > 0, "%s: a sync against a dead server reports it", tc.name)
		tc.left(t, readServer(t, srv.data, round...), roundPhotos)

		srv.start()
		n := syncUntilDone(t, c, 3)
		t.Logf("%s: the sync after the restart completed in %d sync(s)", tc.name, n)
		requireNothingWaits(t, c)
		requireExactlyOnce(t, srv.data, ids, photos)
	}
}
