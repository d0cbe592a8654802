package faulttest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/mobile-client/field"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/sync/protocol"
)

const demoPassword = "correct horse battery staple"

// workDir holds, for the whole run, the shopper and shopscore binaries
// (in bin/, built on first use) and the benchmarks' starting states.
var workDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shopscore-faulttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	code := m.Run()
	atExit.mu.Lock()
	for _, f := range atExit.fns {
		if err := f(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	atExit.mu.Unlock()
	os.RemoveAll(dir)
	os.Exit(code)
}

// atExit holds what TestMain undoes after the run: the benchmarks'
// starting states that outlive one benchmark (PostgreSQL databases).
var atExit struct {
	mu  sync.Mutex
	fns []func() error
}

// onExit has TestMain call f after the run.
func onExit(f func() error) {
	atExit.mu.Lock()
	defer atExit.mu.Unlock()
	atExit.fns = append(atExit.fns, f)
}

var build struct {
	once sync.Once
	err  error
}

// binary returns the path of a command of the module (shopper or
// shopscore), building both on first use.
func binary(tb testing.TB, name string) string {
	tb.Helper()
	build.once.Do(func() {
		// go test puts its own toolchain's bin folder first on PATH.
		goTool, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("no go command on PATH: %w", err)
			return
		}
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(workDir, "bin")+string(filepath.Separator),
			"github.com/shopscore/shopscore/mobile-client/cmd/shopper",
			"github.com/shopscore/shopscore/server/cmd/shopscore")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(tb, build.err)
	return filepath.Join(workDir, "bin", name)
}

// testServer is the real server, in this process, on a loopback port,
// with a proxy in front of it; upload URLs name the proxy.
type testServer struct {
	*server.Server
	URL     string // the server itself
	Proxy   *Proxy
	DataDir string
}

// mustRunServer starts a server with the demo organisation behind a
// proxy, and stops both when the test ends. cfg.PublicURL defaults to the
// proxy's URL, cfg.DataDir to a new temporary folder.
func mustRunServer(tb testing.TB, cfg server.Config) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	proxy, err := NewProxy(ln.Addr().String())
	require.NoError(tb, err)
	if cfg.PublicURL == "" {
		cfg.PublicURL = proxy.URL
	}
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.LoginRate = server.Rate{Burst: 10_000, Every: time.Millisecond}
	srv, err := server.New(servertest.Storage(tb, cfg))
	require.NoError(tb, err)
	_, err = demo.Seed(context.Background(), srv, demoPassword)
	require.NoError(tb, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		proxy.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(tb, srv.Shutdown(ctx))
		require.NoError(tb, <-done)
	})
	return &testServer{Server: srv, URL: "http://" + ln.Addr().String(), Proxy: proxy, DataDir: cfg.DataDir}
}

// adminToken logs the demo admin in on a new device.
func adminToken(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, url).Login(context.Background(),
		connect.NewRequest(&v1.LoginRequest{Email: demo.Users[audit.RoleAdmin], Password: demoPassword, DeviceId: "desk-" + uuid.NewString()}))
	require.NoError(tb, err)
	return resp.Msg.GetTokens().GetAccessToken()
}

// mustImportPack imports and publishes a standards pack through the API.
func mustImportPack(tb testing.TB, url string, pack []byte) {
	tb.Helper()
	req := connect.NewRequest(&v1.ImportPackRequest{FileName: "test-pack.json", Content: pack, Publish: true})
	req.Header().Set("Authorization", "Bearer "+adminToken(tb, url))
	_, err := shopscorev1connect.NewChecklistServiceClient(http.DefaultClient, url).ImportPack(context.Background(), req)
	require.NoError(tb, err)
}

// faultPack is a checklist open to unplanned visits at every store: three
// scored yes/no questions and two photo questions, so that one device can
// record as many visits as a test needs.
var faultPack = []byte(`{
  "format": "shopscore.pack/v1",
  "name": "Fault tests",
  "standards": [{"code": "FLT-1", "clause": "Every visit is documented.", "category": "merchandising"}],
  "checklists": [{
    "id": "fault-visit", "name": "Fault-test visit", "channel": "store_visit", "allow_unplanned": true,
    "sections": [{"id": "s", "title": "Checks", "questions": [
      {"id": "q1", "type": "yes_no", "text": "Shelf stocked?", "standard": "FLT-1", "required": true},
      {"id": "q2", "type": "yes_no", "text": "Prices shown?", "standard": "FLT-1", "required": true},
      {"id": "q3", "type": "yes_no", "text": "Aisle clear?", "standard": "FLT-1", "required": true},
      {"id": "shelf", "type": "photo", "text": "Photo of the shelf.", "required_count": 1},
      {"id": "floor", "type": "photo", "text": "Photo of the floor.", "required_count": 1}
    ]}]
  }]
}`)

// fieldConfig is the field client's configuration in these tests: quick
// retries, small pull pages.
func fieldConfig(dir, url string) field.Config {
	return field.Config{
		Dir: dir, ServerURL: url, MaxAttempts: 4, CallTimeout: 20 * time.Second, PullPageSize: 8,
		Backoff: protocol.Backoff{Base: 2 * time.Millisecond, Max: 20 * time.Millisecond},
		// One upload at a time keeps the faults' mix of pushes and uploads,
		// and each kill point, what the tests count on; overlapping uploads
		// are covered by the field client's own tests and by W2.
		UploadWorkers: 1,
	}
}

// mustOpenField opens a field client, signs the demo shopper in and pulls.
func mustOpenField(tb testing.TB, cfg field.Config) *field.Client {
	tb.Helper()
	ctx := context.Background()
	c, err := field.OpenConfig(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { c.Close() })
	_, err = c.Login(ctx, demo.Users[audit.RoleShopper], demoPassword)
	require.NoError(tb, err)
	_, err = c.Pull(ctx)
	require.NoError(tb, err)
	return c
}

// writePhoto writes a JPEG-typed file of size random bytes and returns
// its path.
func writePhoto(tb testing.TB, dir string, rnd *rand.Rand, size int) string {
	tb.Helper()
	b := make([]byte, size)
	var seed [32]byte
	for i := range 4 {
		s := rnd.Uint64()
		for j := range 8 {
			seed[i*8+j] = byte(s >> (8 * j))
		}
	}
	rand.NewChaCha8(seed).Read(b)
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0})
	f, err := os.CreateTemp(dir, "photo-*.jpg")
	require.NoError(tb, err)
	_, err = f.Write(b)
	require.NoError(tb, err)
	require.NoError(tb, f.Close())
	return f.Name()
}

// recordVisit records and submits an unplanned fault-visit at MSK-01 with
// a photo on each photo question (two on floor when rnd says so), each of
// minSize to maxSize bytes, and a note of up to maxNote bytes on each answer
// (at most what a note may hold, audit.MaxNoteLen). It returns the visit's
// ID and how many photos it has.
func recordVisit(tb testing.TB, c *field.Client, rnd *rand.Rand, minSize, maxSize, maxNote int) (string, int) {
	tb.Helper()
	ctx := context.Background()
	const prefix = "seen: "
	maxNote = min(maxNote, audit.MaxNoteLen-len(prefix))
	id, err := c.StartUnplannedVisit(ctx, "fault-visit", "MSK-01")
	require.NoError(tb, err)
	for _, q := range []string{"q1", "q2", "q3"} {
		_, err := c.AnswerText(ctx, id, q, []string{"yes", "no"}[rnd.IntN(2)])
		require.NoError(tb, err)
		note := make([]byte, rnd.IntN(maxNote))
		for i := range note {
			note[i] = 'a' + byte(rnd.IntN(26))
		}
		_, err = c.AnswerNote(ctx, id, q, prefix+string(note))
		require.NoError(tb, err)
	}
	dir := tb.TempDir()
	photos := []string{"shelf", "floor"}
	if rnd.IntN(2) == 0 {
		photos = append(photos, "floor")
	}
	for _, q := range photos {
		_, err := c.AddPhoto(ctx, id, q, writePhoto(tb, dir, rnd, minSize+rnd.IntN(maxSize-minSize+1)))
		require.NoError(tb, err)
	}
	require.NoError(tb, c.Submit(ctx, id))
	return id, len(photos)
}

// serverView is what the server's database holds, read from its file.
type serverView struct {
	// States maps the ID of each visit to its state.
	States map[string]string
	// Photos counts photo slots; Unverified those not verified.
	Photos, Unverified int
}

// readServer reads the demo shopper's visits (only the given ones, when
// ids are given) and their photo slots from the server database in
// dataDir, read-only, while the server may be running. Other users' visits
// (the demo's archive of past visits) are left out.
func readServer(tb testing.TB, dataDir string, ids ...string) serverView {
	tb.Helper()
	db := servertest.Inspect(tb, dataDir)
	where := ` WHERE v.shopper_id = (SELECT id FROM users WHERE email = ?)`
	args := []any{demo.Users[audit.RoleShopper]}
	if len(ids) > 0 {
		where += ` AND v.id IN (?` + strings.Repeat(",?", len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	v := serverView{States: map[string]string{}}
	rows, err := db.Query(`SELECT v.id, v.state FROM visits v`+where, args...)
	require.NoError(tb, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, state string
		require.NoError(tb, rows.Scan(&id, &state))
		v.States[id] = state
		n++
	}
	require.NoError(tb, rows.Err())
	require.Equal(tb, n, len(v.States), "a visit ID is stored once")
	require.NoError(tb, db.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE p.verified_at IS NULL)
		FROM visit_photos p JOIN visits v ON v.id = p.visit_id`+where, args...).Scan(&v.Photos, &v.Unverified))
	return v
}

// requireExactlyOnce asserts that the server holds exactly the given
// visits of the demo shopper, each once and complete, with photo slots
// all verified.
func requireExactlyOnce(tb testing.TB, dataDir string, ids []string, photos int) {
	tb.Helper()
	all := readServer(tb, dataDir)
	require.Len(tb, all.States, len(ids), "no visit is missing and none is extra")
	for _, id := range ids {
		require.Equal(tb, "complete", all.States[id], "visit %s", id)
	}
	require.Equal(tb, photos, all.Photos, "photo slots")
	require.Zero(tb, all.Unverified, "every photo is verified")
}

// requireNothingWaits asserts that the field client has nothing left to
// send: no pending mutation, no missing evidence, no rejection, and every
// visit shown as sent.
func requireNothingWaits(tb testing.TB, c *field.Client) {
	tb.Helper()
	st, err := c.Status(context.Background())
	require.NoError(tb, err)
	require.Empty(tb, st.Pending, "outbox")
	require.Empty(tb, st.MissingEvidence, "missing evidence")
	require.Empty(tb, st.Rejected, "rejections")
	for _, v := range st.Visits {
		require.Equal(tb, field.StateSent, v.State, "visit %s", v.ID)
	}
}

// visitBudget is the time a fault test allows for each visit it records
// and syncs through its faults, generous for a loaded machine and -race:
// on a busy two-core machine TestSync_CutConnections took 0.3 s a visit
// without -race, 1.5 s with it, and 4.7 s a visit in its slowest round.
// The tests bound their work by counts (visits, rounds, syncs, cuts) and
// give each piece of it the budget of its visits, never one wall-clock
// limit for the whole test, which a slower machine or -race would exceed
// with every guarantee kept.
const visitBudget = 15 * time.Second

// budget is the time allowed for work on n visits.
func budget(visits int) time.Duration { return time.Duration(max(visits, 1)) * visitBudget }

// syncUntilDone runs Sync until it reports no error and the client has
// nothing waiting, at most max times. It returns how many Syncs ran.
func syncUntilDone(tb testing.TB, c *field.Client, max int) int {
	tb.Helper()
	ctx := context.Background()
	var last error
	for i := 1; i <= max; i++ {
		res, err := c.Sync(ctx, nil)
		if err == nil && len(res.PhotoErrors) == 0 {
			st, serr := c.Status(ctx)
			require.NoError(tb, serr)
			if len(st.Pending) == 0 && len(st.MissingEvidence) == 0 {
				return i
			}
		}
		last = err
		if err == nil && len(res.PhotoErrors) > 0 {
			last = res.PhotoErrors[0]
		}
	}
	require.FailNow(tb, "sync did not complete", "after %d syncs; last error: %v", max, last)
	return max
}

// seed returns the seed of the test's random choices:
// SHOPSCORE_FAULT_SEED, or def; it is logged so that a failure can be
// replayed.
func seed(tb testing.TB, def uint64) uint64 {
	tb.Helper()
	s := def
	if v := os.Getenv("SHOPSCORE_FAULT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(tb, err, "SHOPSCORE_FAULT_SEED")
		s = n
	}
	tb.Logf("seed %d (set SHOPSCORE_FAULT_SEED to replay another)", s)
	return s
}

// deployment is what a fault test runs against: one server behind its
// proxy (mustRunServer), or several behind a round-robin proxy, with
// their evidence on S3 behind a proxy of its own (newCluster). The same
// test body runs on both, so that a guarantee is proven once for each.
type deployment struct {
	// URL is what the device dials for the servers: a proxy.
	URL string
	// AdminURL reaches a server directly, for the setup calls of a test.
	AdminURL string
	// DBDir is the folder readServer and requireExactlyOnce read the
	// database through (servertest.Inspect).
	DBDir string
	// proxies are every proxy in the device's way: the servers' first,
	// then, on a cluster, the S3 service's (the uploads).
	proxies []*Proxy
	// field is the field client's configuration for a device folder.
	field func(dir string) field.Config
}

// single is the deployment of one server started by mustRunServer.
func (ts *testServer) single() deployment {
	return deployment{
		URL: ts.Proxy.URL, AdminURL: ts.URL, DBDir: ts.DataDir, proxies: []*Proxy{ts.Proxy},
		field: func(dir string) field.Config { return fieldConfig(dir, ts.Proxy.URL) },
	}
}

// SetCut sets the cut of every proxy (Proxy.SetCut).
func (d deployment) SetCut(fn func() int64) {
	for _, p := range d.proxies {
		p.SetCut(fn)
	}
}

// SetOnRequest sets the faults of every proxy (Proxy.SetOnRequest).
func (d deployment) SetOnRequest(fn func(method, path string) Fault) {
	for _, p := range d.proxies {
		p.SetOnRequest(fn)
	}
}

// CloseConns closes every connection of every proxy.
func (d deployment) CloseConns() {
	for _, p := range d.proxies {
		p.CloseConns()
	}
}

// Stats adds up the counters of every proxy.
func (d deployment) Stats() Stats {
	sum := Stats{CutsDuring: map[string]int{}, Requests: map[string]int{}, ConnsTo: map[string]int{}}
	for _, p := range d.proxies {
		st := p.Stats()
		sum.Conns, sum.Cuts, sum.Faults, sum.Refused = sum.Conns+st.Conns, sum.Cuts+st.Cuts, sum.Faults+st.Faults, sum.Refused+st.Refused
		for _, m := range []struct{ dst, src map[string]int }{{sum.CutsDuring, st.CutsDuring}, {sum.Requests, st.Requests}, {sum.ConnsTo, st.ConnsTo}} {
			for k, v := range m.src {
				m.dst[k] += v
			}
		}
	}
	return sum
}
