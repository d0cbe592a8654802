package migrateto

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/webhook"
)

// TestRun_RefusesAWrongKEK: signing keys that do not open with the
// key-encryption key given are refused, naming the key and where the
// key-encryption key came from, before anything is written to the target
// (not even its schema); so is a key-encryption key file that is not
// there. The data folder's key, the default, opens them, and the report
// names its file.
func TestRun_RefusesAWrongKEK(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := seed(t, false)

	_, err := Run(ctx, Options{SQLite: s.path, Postgres: url, KEK: auth.GenerateKEK(), KEKFrom: "SHOPSCORE_KEY_ENCRYPTION_KEY"})
	require.Error(t, err)
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err))
	assert.Regexp(t, `signing key \S+ \(access-token, made .*\) of .*shopscore.db does not open with the key-encryption key of SHOPSCORE_KEY_ENCRYPTION_KEY`, err.Error())
	missing := filepath.Join(t.TempDir(), "none.key")
	_, err = Run(ctx, Options{SQLite: s.path, Postgres: url, KEKFrom: missing})
	require.Error(t, err)
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), "are sealed under a key-encryption key, and there is none at "+missing)

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n))
	assert.Zero(t, n, "nothing was written, not even the schema")

	report, err := Run(ctx, Options{SQLite: s.path, Postgres: url})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(s.dir, auth.KEKFileName), report.KEKFrom)
	assert.Equal(t, 1, report.Keys)
}

// receiver is a webhook endpoint: it verifies each delivery's signature
// with the endpoint's secret and answers 200 or, while failing is set,
// 503; it counts the deliveries it accepted, by webhook-id.
type receiver struct {
	secret   atomic.Pointer[webhook.Secret]
	failing  atomic.Bool
	mu       sync.Mutex
	accepted map[string]int
	refused  int
	bad      []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	secret := rc.secret.Load()
	if secret == nil {
		http.Error(w, "no secret yet", http.StatusServiceUnavailable)
		return
	}
	id, err := webhook.Verify(r.Header, body, []webhook.Secret{*secret}, time.Now(), 0)
	if err != nil {
		rc.bad = append(rc.bad, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rc.failing.Load() {
		rc.refused++
		http.Error(w, "down for now", http.StatusServiceUnavailable)
		return
	}
	rc.accepted[id]++
}

func (rc *receiver) count() (accepted map[string]int, refused int, bad []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	accepted = map[string]int{}
	for k, v := range rc.accepted {
		accepted[k] = v
	}
	return accepted, rc.refused, append([]error(nil), rc.bad...)
}

// TestRun_KeysAndWebhooksMove: an installation whose SQLite server
// issued an access token, counted a failed login, and had a webhook
// endpoint with deliveries done and deliveries still pending (their
// receiver was down when the server stopped) moves whole. A server on
// the moved database, in another data folder and given the SQLite
// server's key-encryption key as migrate-to named it, verifies the token
// SQLite issued; it delivers each pending delivery once, signed with the
// endpoint's secret from before the move, and none of those delivered
// before; and new events get new numbers.
func TestRun_KeysAndWebhooksMove(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	dir := t.TempDir()
	rc := &receiver{accepted: map[string]int{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	hooks := server.Webhooks{AllowLoopback: true, Poll: 10 * time.Millisecond, Lease: 5 * time.Second,
		Schedule: webhook.Schedule{Base: 100 * time.Millisecond, Max: 100 * time.Millisecond}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	// On SQLite, serving.
	lite, err := sqlite.Open(filepath.Join(dir, "shopscore.db"), nil)
	require.NoError(t, err)
	srv, err := server.New(server.Config{DataDir: dir, Storage: lite, Logger: logger, Webhooks: hooks})
	require.NoError(t, err)
	_, err = demo.Seed(ctx, srv, password)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	liteURL := "http://" + ln.Addr().String()
	authc := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, liteURL)
	login, err := authc.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: demo.Users[audit.RoleAdmin], Password: password, DeviceId: "console"}))
	require.NoError(t, err)
	token := login.Msg.GetTokens().GetAccessToken()
	_, err = authc.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: demo.Users[audit.RoleManager], Password: "wrong", DeviceId: "console"}))
	require.Equal(t, connect.CodeUnauthenticated, connect.CodeOf(err))

	admin, _, err := lite.Users().FindByEmail(ctx, demo.Users[audit.RoleAdmin])
	require.NoError(t, err)
	actor := audit.Principal{UserID: admin.ID, Role: audit.RoleAdmin}
	ep, secretText, err := srv.App().CreateWebhookEndpoint(ctx, admin.ID, app.WebhookEndpointInput{URL: hook.URL, EventTypes: app.EventTypes})
	require.NoError(t, err)
	secret, err := webhook.ParseSecret(secretText)
	require.NoError(t, err)
	rc.secret.Store(&secret)
	for range 2 {
		_, err := srv.App().SendTestWebhook(ctx, actor, ep.ID)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { a, _, _ := rc.count(); return len(a) == 2 }, 10*time.Second, 10*time.Millisecond)
	rc.failing.Store(true)
	var pendingDeliveries []string
	for range 2 {
		d, err := srv.App().SendTestWebhook(ctx, actor, ep.ID)
		require.NoError(t, err)
		pendingDeliveries = append(pendingDeliveries, d.ID)
	}
	require.Eventually(t, func() bool {
		for _, id := range pendingDeliveries {
			d, err := lite.WebhookDeliveries().Find(ctx, id)
			if err != nil || d.Attempts < 1 || d.State != storage.DeliveryPending {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "each pending delivery was tried and refused")
	require.NoError(t, srv.Shutdown(ctx))
	require.NoError(t, <-served)
	accepted, _, bad := rc.count()
	require.Empty(t, bad)
	require.Len(t, accepted, 2)

	// The move, with the data folder's key, as the command finds it.
	report, err := Run(ctx, Options{SQLite: filepath.Join(dir, "shopscore.db"), Postgres: url})
	require.NoError(t, err)
	require.True(t, report.OK())
	rows := map[string]int64{}
	for _, tr := range report.Tables {
		rows[tr.Table] = tr.SourceRows
	}
	for _, tb := range []string{"signing_keys", "rate_buckets", "outbox_events", "webhook_endpoints", "webhook_deliveries", "webhook_attempts", "sessions", "refresh_tokens"} {
		assert.Positive(t, rows[tb], "the SQLite server wrote %s", tb)
	}
	require.Equal(t, filepath.Join(dir, auth.KEKFileName), report.KEKFrom)
	kek, err := auth.ReadKEKFile(report.KEKFrom)
	require.NoError(t, err)

	// On PostgreSQL, in another data folder, given the key migrate-to named.
	rc.failing.Store(false)
	pg, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	run := servertest.Run(t, server.Config{DataDir: t.TempDir(), Storage: pg, KeyEncryptionKey: kek, Webhooks: hooks})
	who := connect.NewRequest(&v1.WhoAmIRequest{})
	who.Header().Set("Authorization", "Bearer "+token)
	me, err := shopscorev1connect.NewAuthServiceClient(http.DefaultClient, run.URL).WhoAmI(ctx, who)
	require.NoError(t, err, "the token the SQLite server issued verifies")
	assert.Equal(t, demo.Users[audit.RoleAdmin], me.Msg.GetUser().GetEmail())

	require.Eventually(t, func() bool { a, _, _ := rc.count(); return len(a) == 4 }, 10*time.Second, 10*time.Millisecond,
		"the pending deliveries arrive")
	for _, id := range pendingDeliveries {
		require.Eventually(t, func() bool {
			d, err := pg.WebhookDeliveries().Find(ctx, id)
			return err == nil && d.State == storage.DeliveryDelivered
		}, 10*time.Second, 10*time.Millisecond)
	}
	// New events after the move: the outbox's numbers go on past the
	// copied ones, and the delivery arrives once too.
	_, err = run.App().SendTestWebhook(ctx, actor, ep.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { a, _, _ := rc.count(); return len(a) == 5 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // a few polls and retry intervals: nothing comes twice
	accepted, _, bad = rc.count()
	assert.Empty(t, bad)
	assert.Len(t, accepted, 5)
	for id, n := range accepted {
		assert.Equal(t, 1, n, "webhook-id %s accepted once", id)
	}
}
