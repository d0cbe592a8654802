package faulttest

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/servertest"
)

// The tests of several servers (issue 12 §4): three servers on one
// PostgreSQL database and one S3 bucket behind a round-robin proxy keep
// every guarantee one server keeps. They are PostgreSQL's by nature, and
// skip or fail without it (and without S3) the way pgtest.URL says.

// TestCluster_CutConnections is TestSync_CutConnections against three
// servers: the device's connections, cut at random offsets, go to the
// servers in turn and its uploads to S3 through a cutting proxy too.
func TestCluster_CutConnections(t *testing.T) {
	c := newCluster(t, clusterSize, clusterOptions{})
	cutConnections(t, c.deployment())
	requireEveryServer(t, c, c.Proxy.Stats().ConnsTo)
}

// TestCluster_LostResponse is TestSync_LostResponse against three
// servers: the retry of a push, an upload or a finalize whose answer was
// lost reaches another server, which answers the original result.
func TestCluster_LostResponse(t *testing.T) {
	lostResponse(t, func(t *testing.T) deployment { return newCluster(t, clusterSize, clusterOptions{}).deployment() })
}

// TestCluster_ParallelPushes is TestSync_ParallelPushes against three
// servers: five copies of one device push the same outbox at once, to
// different servers; the database serializes them (one APPLIED, the
// rest REPLAYED, one visit).
func TestCluster_ParallelPushes(t *testing.T) {
	c := newCluster(t, clusterSize, clusterOptions{})
	targets := parallelPushes(t, c.deployment())
	t.Logf("pushes by server: %v", targets)
	require.GreaterOrEqual(t, len(targets), 2, "the copies' pushes reached more than one server: %v", targets)
}

// requireEveryServer asserts that every server of c had connections.
func requireEveryServer(t *testing.T, c *cluster, connsTo map[string]int) {
	t.Helper()
	for _, addr := range c.Addrs() {
		assert.NotZero(t, connsTo[addr], "connections to %s: %v", addr, connsTo)
	}
}

// TestCluster_KillServer kills (SIGKILL) the server process that has a
// push, mid-request and after it committed, and a finalize, mid-request,
// while it reads the photo back from S3 to hash it (holding the photo's
// lock) and after it verified the photo; the device goes on through the
// proxy, which moves on to the servers that are left, and the killed
// server is started again on its own data folder before the next round.
// Every visit exists exactly once, complete, with its photos verified.
func TestCluster_KillServer(t *testing.T) {
	ctx := context.Background()
	c := newProcCluster(t, clusterSize)
	byAddr := map[string]*serverProc{}
	for _, p := range c.Procs {
		byAddr[p.addr] = p
	}
	mustImportPack(t, c.URLs()[0], faultPack)
	dev := mustOpenField(t, c.fieldConfig(t.TempDir()))
	rnd := rand.New(rand.NewPCG(seed(t, 12), 4))
	token := adminToken(t, c.URLs()[0]) // any server accepts it: the keys are shared

	var ids []string
	photos := 0
	for _, tc := range []struct {
		name    string
		request string
		fault   Fault
		// atS3Read moves the fault from the request to the server's own
		// read of the photo from S3 while it answers the request (the
		// server's S3 proxy sees it).
		atS3Read bool
	}{
		{"MidPush", "Push", Fault{Action: Drop, After: 2 << 10}, false},
		{"PushCommitted", "Push", Fault{Action: DropResponse}, false},
		{"MidFinalize", "FinalizeUpload", Fault{Action: Drop, After: 64}, false},
		{"MidVerify", "FinalizeUpload", Fault{Action: Drop, After: 64 << 10}, true},
		{"Finalized", "FinalizeUpload", Fault{Action: DropResponse}, false},
	} {
		for range 2 {
			id, n := recordVisit(t, dev, rnd, 200<<10, 400<<10, 4<<10)
			ids, photos = append(ids, id), photos+n
		}
		var mu sync.Mutex
		var armed, killed *serverProc // armed: has the request, killed at its S3 read
		kill := func(p *serverProc) Fault {
			killed = p
			f := tc.fault
			f.Do = p.p.Load().kill
			return f
		}
		c.Proxy.SetOnTargetRequest(func(target, method, path string) Fault {
			if RequestName(method, path) != tc.request {
				return Fault{}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case killed != nil || armed != nil:
				return Fault{}
			case tc.atS3Read:
				armed = byAddr[target]
				return Fault{}
			}
			return kill(byAddr[target])
		})
		for i, p := range c.Procs {
			c.ServerS3[i].SetOnRequest(func(method, _ string) Fault {
				mu.Lock()
				defer mu.Unlock()
				if method != http.MethodGet || armed != p || killed != nil {
					return Fault{}
				}
				return kill(p)
			})
		}
		res, err := dev.Sync(ctx, nil)
		c.Proxy.SetOnRequest(nil)
		for _, p := range c.ServerS3 {
			p.SetOnRequest(nil)
		}
		mu.Lock()
		require.NotNil(t, killed, "%s: no server was killed", tc.name)
		mu.Unlock()
		require.True(t, killed.p.Load().killed(), "%s: SIGKILL", tc.name)
		t.Logf("%s: killed %s; the sync went on with the others: %v, photo errors %v", tc.name, killed.addr, err, res.PhotoErrors)

		// Two servers are left. New connections the proxy would give the
		// dead one go to the next (every caller gets an answer), and the
		// device completes on them.
		for range 2 * clusterSize {
			requireWhoAmI(t, c.Proxy.URL, token, "a new connection while "+killed.addr+" is down")
		}
		n := syncUntilDone(t, dev, 3)
		t.Logf("%s: completed in %d more sync(s) on the servers left", tc.name, n)
		requireNothingWaits(t, dev)
		requireExactlyOnce(t, c.DBDir, ids, photos)
		killed.start()
	}
	st := c.Proxy.Stats()
	t.Logf("proxy: %d connections (%v), %d refused by a dead server", st.Conns, st.ConnsTo, st.Refused)
	assert.NotZero(t, st.Refused, "the proxy met a dead server and moved on")
}

// TestCluster_KeyRotation rotates the signing key on one server: the
// others accept the tokens the new key signs at once (an unknown kid
// makes them read the keys again), keep accepting the old key's tokens,
// publish both keys, and sign with the new key within their reload.
func TestCluster_KeyRotation(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, clusterSize, clusterOptions{}) // the default reload, as in production
	urls := c.URLs()

	old := adminToken(t, urls[0])
	oldKID := tokenKID(t, old)
	for _, u := range urls {
		assert.Equal(t, oldKID, tokenKID(t, adminToken(t, u)), "%s signs with the one shared key", u)
	}

	req := connect.NewRequest(&v1.RotateSigningKeyRequest{})
	req.Header().Set("Authorization", "Bearer "+old)
	resp, err := shopscorev1connect.NewAdminServiceClient(http.DefaultClient, urls[0]).RotateSigningKey(ctx, req)
	require.NoError(t, err)
	newKID := resp.Msg.GetKeyId()
	require.NotEqual(t, oldKID, newKID)

	fresh := adminToken(t, urls[0])
	require.Equal(t, newKID, tokenKID(t, fresh), "the rotating server signs with the new key")
	for _, u := range urls {
		requireWhoAmI(t, u, fresh, "a token of the new key")
		requireWhoAmI(t, u, old, "a token of the old key")
	}
	for _, u := range urls {
		require.Eventually(t, func() bool { return tokenKID(t, adminToken(t, u)) == newKID }, 10*time.Second, 50*time.Millisecond,
			"%s signs with the rotated key", u)
		kids := jwksKIDs(t, u)
		assert.Contains(t, kids, oldKID, "%s still publishes the old key", u)
		assert.Contains(t, kids, newKID, "%s publishes the new key", u)
	}
}

// requireWhoAmI asserts that the server at url accepts token.
// Each call opens a connection of its own.
func requireWhoAmI(t *testing.T, url, token, what string) {
	t.Helper()
	req := connect.NewRequest(&v1.WhoAmIRequest{})
	req.Header().Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	_, err := shopscorev1connect.NewAuthServiceClient(client, url).WhoAmI(context.Background(), req)
	require.NoError(t, err, "%s accepts %s", url, what)
}

// tokenKID returns the key id in a JWT's header.
func tokenKID(t *testing.T, token string) string {
	t.Helper()
	head, _, ok := strings.Cut(token, ".")
	require.True(t, ok, "a JWT")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	require.NoError(t, err)
	var h struct {
		KID string `json:"kid"`
	}
	require.NoError(t, json.Unmarshal(raw, &h))
	require.NotEmpty(t, h.KID)
	return h.KID
}

// jwksKIDs returns the key ids a server publishes.
func jwksKIDs(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KID)
	}
	return out
}

// TestCluster_ExpiresOnce lets assignments' windows end while three
// servers run their expiry every few milliseconds: each assignment is
// expired by one server, once (the servers' logged counts add up to the
// assignments, and none logs a failure, as a second expiry of an expired
// assignment would).
func TestCluster_ExpiresOnce(t *testing.T) {
	const assignments = 40
	ctx := context.Background()
	c := newCluster(t, clusterSize, clusterOptions{ExpireEvery: 5 * time.Millisecond})
	mustImportPack(t, c.URLs()[0], faultPack)
	shopper, _, err := c.Servers[0].Storage().Users().FindByEmail(ctx, demo.Users[audit.RoleShopper])
	require.NoError(t, err)

	// The windows end a little apart, from three seconds on (time enough
	// to create them on a busy machine), so that the servers' ticks meet
	// them at different moments.
	token := adminToken(t, c.URLs()[1])
	start, end := time.Now().Add(-time.Hour), time.Now().Add(3*time.Second)
	var specs []*v1.AssignmentSpec
	for i := range assignments {
		specs = append(specs, &v1.AssignmentSpec{
			StoreCode: "MSK-01", ChecklistId: "fault-visit", ShopperId: shopper.ID,
			WindowStartTime: timestamppb.New(start), WindowEndTime: timestamppb.New(end.Add(time.Duration(i) * 20 * time.Millisecond)),
		})
	}
	req := connect.NewRequest(&v1.BulkCreateAssignmentsRequest{Specs: specs})
	req.Header().Set("Authorization", "Bearer "+token)
	resp, err := shopscorev1connect.NewAssignmentServiceClient(http.DefaultClient, c.URLs()[1]).BulkCreateAssignments(ctx, req)
	require.NoError(t, err)
	var ids []string
	for _, r := range resp.Msg.GetResults() {
		require.Empty(t, r.GetErrorMessage())
		ids = append(ids, r.GetAssignment().GetId())
	}
	require.Len(t, ids, assignments)

	db := servertest.Inspect(t, c.DBDir)
	require.Eventually(t, func() bool {
		for _, st := range readAssignments(t, db, ids) {
			if st != string(audit.AssignmentExpired) {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "every assignment expires")
	time.Sleep(100 * time.Millisecond) // more ticks of every server, which find nothing due

	total := 0
	for i, s := range c.Servers {
		n, failures := expiryLog(t, s.Log.String())
		t.Logf("server %d expired %d", i, n)
		assert.Empty(t, failures, "server %d logged no expiry failure", i)
		total += n
	}
	assert.Equal(t, assignments, total, "each assignment expired once across the servers")
}

// readAssignments returns the states of the assignments ids.
func readAssignments(t *testing.T, in *servertest.Inspector, ids []string) map[string]string {
	t.Helper()
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := in.Query(`SELECT id, state FROM assignments WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, state string
		require.NoError(t, rows.Scan(&id, &state))
		out[id] = state
	}
	require.NoError(t, rows.Err())
	require.Len(t, out, len(ids))
	return out
}

// expiryLog adds up the counts a server logged as expired, and returns
// the messages of the expiry failures it logged.
func expiryLog(t *testing.T, log string) (int, []string) {
	t.Helper()
	n := 0
	var failures []string
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Msg   string `json:"msg"`
			Count int    `json:"count"`
			Err   string `json:"err"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "log line %q", line)
		switch rec.Msg {
		case "assignments expired":
			n += rec.Count
		case "expire assignments":
			failures = append(failures, rec.Err)
		}
	}
	return n, failures
}

// TestCluster_StartTogether starts three `shopscore serve` processes at
// the same moment on one empty PostgreSQL database: each applies the
// migrations or waits for the one that does (an advisory lock), one set
// of signing keys is made between them, and every server publishes it.
func TestCluster_StartTogether(t *testing.T) {
	url := pgtest.URL(t)
	kek := auth.GenerateKEK()
	procs := make([]*serverProc, clusterSize)
	for i := range procs {
		procs[i] = &serverProc{tb: t, addr: freeAddr(t), data: t.TempDir(),
			args: []string{"--database", url}, env: []string{"SHOPSCORE_KEY_ENCRYPTION_KEY=" + kek.Text()}}
	}
	for _, p := range procs {
		p.launch()
	}
	for _, p := range procs {
		p.ready()
	}
	first := jwksKIDs(t, "http://"+procs[0].addr)
	require.Len(t, first, 1, "one signing key")
	for _, p := range procs[1:] {
		assert.Equal(t, first, jwksKIDs(t, "http://"+p.addr), "%s publishes the same key", p.addr)
	}

	// Every migration the build has is applied, once.
	files, err := filepath.Glob("../../server/postgres/migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out, err := exec.Command(binary(t, "shopscore"), "migrate", "--database", url).CombinedOutput()
	require.Error(t, err, "migrate without the key-encryption key is refused on PostgreSQL:\n%s", out)
	cmd := exec.Command(binary(t, "shopscore"), "migrate", "--database", url)
	cmd.Env = append(os.Environ(), "SHOPSCORE_KEY_ENCRYPTION_KEY="+kek.Text())
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), fmt.Sprintf("(%d applied)", len(files)), "every migration applied once")
	for _, p := range procs {
		p.p.Load().kill()
		assert.True(t, p.p.Load().killed(), "%s served until killed:\n%s", p.addr, p.p.Load().out.String())
	}
}

// TestCluster_LoginLimits guesses one account's password through the
// round-robin proxy, each guess on a new connection, so that the guesses
// reach all three servers: the limit per account and address holds for
// the three together (it is counted in the database), not three times
// over.
func TestCluster_LoginLimits(t *testing.T) {
	const burst = 4
	c := newCluster(t, clusterSize, clusterOptions{LoginRate: server.Rate{Burst: burst, Every: time.Hour}})
	email := demo.Users[audit.RoleShopper]
	codes := map[connect.Code]int{}
	for i := range 3 * clusterSize * burst {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		_, err := shopscorev1connect.NewAuthServiceClient(client, c.Proxy.URL).Login(context.Background(), connect.NewRequest(&v1.LoginRequest{
			Email: email, Password: fmt.Sprintf("guess %d", i), DeviceId: "guesser-device",
		}))
		require.Error(t, err)
		codes[connect.CodeOf(err)]++
	}
	t.Logf("answers: %v; connections by server: %v", codes, c.Proxy.Stats().ConnsTo)
	requireEveryServer(t, c, c.Proxy.Stats().ConnsTo)
	assert.Equal(t, burst, codes[connect.CodeUnauthenticated], "the guesses checked, across the servers together")
	assert.Equal(t, 3*clusterSize*burst-burst, codes[connect.CodeResourceExhausted], "the rest refused by the shared limit")
}

// TestCluster_DatabaseDrop terminates every connection the servers hold
// to PostgreSQL (pg_terminate_backend, as a restart or a cut network
// does) again and again while the device pushes and uploads through the
// three servers: the servers answer Unavailable, the device retries, and
// every visit exists exactly once, complete, with its photos verified.
func TestCluster_DatabaseDrop(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, clusterSize, clusterOptions{})
	mustImportPack(t, c.URLs()[0], faultPack)
	dev := mustOpenField(t, c.fieldConfig(t.TempDir()))
	rnd := rand.New(rand.NewPCG(seed(t, 21), 8))
	admin, err := sql.Open("pgx", c.DatabaseURL)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	admin.SetMaxOpenConns(1)

	// terminate ends every other connection to the database, every few
	// milliseconds, until stop is closed; it counts what it ended.
	terminate := func(stop <-chan struct{}, ended *int) {
		for {
			var n int
			if err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid))
				FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err == nil {
				*ended += n
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(2+rnd.IntN(8)) * time.Millisecond):
			}
		}
	}

	var ids []string
	photos, ended := 0, 0
	var mu sync.Mutex
	unavailable := map[string]int{} // by request
	c.Proxy.SetOnRequest(func(method, path string) Fault {
		return Fault{Response: func(raw []byte) {
			if code, _, _, err := ParseResponse(raw); err == nil && code == http.StatusServiceUnavailable {
				mu.Lock()
				unavailable[RequestName(method, path)]++
				mu.Unlock()
			}
		}}
	})
	t.Cleanup(func() { c.Proxy.SetOnRequest(nil) })
	for round := 0; round < 12; round++ {
		for range 2 {
			id, n := recordVisit(t, dev, rnd, 8<<10, 64<<10, 2<<10)
			ids, photos = append(ids, id), photos+n
		}
		stop, done := make(chan struct{}), make(chan struct{})
		go func() { defer close(done); terminate(stop, &ended) }()
		_, _ = dev.Sync(ctx, nil) // through the storm: it may fail
		close(stop)
		<-done
		syncUntilDone(t, dev, 5)
		mu.Lock()
		pushes := unavailable["Push"]
		mu.Unlock()
		if round >= 2 && pushes > 0 {
			break
		}
	}
	t.Logf("%d visits, %d connections terminated, answers Unavailable by request: %v", len(ids), ended, unavailable)
	require.NotZero(t, ended, "connections were terminated")
	require.NotZero(t, unavailable["Push"], "a push was answered Unavailable while its server's connections were cut")
	requireNothingWaits(t, dev)
	requireExactlyOnce(t, c.DBDir, ids, photos)
}
