// Package server is shopscore's Connect-RPC server: the handlers of every
// service, authentication and authorization, the error table, and the
// HTTP plumbing (Connect, gRPC and gRPC-Web on one h2c port, health,
// reflection, the JWKS document). The rules live in server/app, the
// database behind server/storage (handed over in Config.Storage), token
// primitives in server/auth; only server/cmd reads flags and environment
// and chooses the concrete backend.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/authn"
	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/notify"
	"github.com/shopscore/shopscore/server/storage"
)

// Config is the server's configuration. The zero value is usable: every
// zero field takes the default documented on it, each field on its own
// (so Rate{Burst: 3} keeps the default Every). New refuses a value it
// cannot work with, such as a negative duration or size, with EINVALID
// naming the field.
type Config struct {
	// Storage is the database, opened and migrated by the caller
	// (sqlite.Open; server/cmd chooses the backend). It is required. New
	// takes it over: Close closes it, and so does a failing New. Its
	// clock must be Now.
	Storage storage.Storage
	// DataDir holds the local evidence and, when KeyEncryptionKey is
	// nil, the key-encryption key; "data" if empty. The signing keys
	// live in Storage; an older build's key folder <DataDir>/keys is
	// imported into an empty database on first start.
	DataDir string
	// KeyEncryptionKey seals the signing keys in Storage and derives
	// the local evidence store's URL secret and the login limits' key
	// secret; every server on one database must have the same one. If
	// nil, the key in <DataDir>/key-encryption.key, made there (mode
	// 0600) on first start: the single-server default (server/cmd
	// refuses it on PostgreSQL).
	KeyEncryptionKey *auth.KEK
	// KeyReload is how often the signing keys are read again from
	// Storage, so that a key rotated on one server signs on every other;
	// auth.DefaultKeyReload (3 s) if zero.
	KeyReload time.Duration
	// MaxRequestBytes bounds a request message after decompression;
	// 4 MiB if zero. Larger messages are refused with ResourceExhausted.
	MaxRequestBytes int
	// ReadHeaderTimeout bounds how long a client may take to send request
	// headers; 10 s if zero.
	ReadHeaderTimeout time.Duration
	// RequestBodyTimeout bounds how long a client may take to send a
	// call's request body once its headers are in; 1 min if zero. A body
	// still arriving then is cut.
	RequestBodyTimeout time.Duration
	// MinUploadRate, in bytes per second, gives an evidence upload to the
	// local store (under /blob/) RequestBodyTimeout plus its size at this
	// rate to arrive; 16 KiB/s if zero (a 32 MiB photo: 35 min).
	MinUploadRate int64
	// IdleTimeout closes idle keep-alive connections; 2 min if zero.
	IdleTimeout time.Duration
	// AccessTTL is the lifetime of access tokens; 10 min if zero, at most 15.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token; 30 days if zero.
	// Every refresh issues a new one, so an active device stays signed in.
	RefreshTTL time.Duration
	// RefreshRetryGrace is how long after a rotation the same device may
	// present the rotated token once more, as the retry of an answer it
	// never received, before that counts as reuse; 30 s if zero.
	RefreshRetryGrace time.Duration
	// LoginRate limits login attempts per account from one client
	// address: a burst, then one more attempt per Every; 10 and 1/30 s if
	// zero. A client address gets ten times that for all accounts
	// together, since many shoppers may share one address behind NAT.
	// The limits per account are counted in Storage, shared by every
	// server on it; the one per address by each server alone.
	LoginRate Rate
	// LoginAccountRate limits login attempts per account from all
	// addresses together, against guessing from many addresses; a zero
	// Burst is five times LoginRate's and a zero Every a third of
	// LoginRate's (50 and 1/10 s by default). It is looser than LoginRate, so that one
	// attacker's wrong guesses do not lock the account for its owner.
	LoginAccountRate Rate
	// PasswordHashMemory bounds the memory, in bytes, that password
	// hashes (Argon2id, 64 MiB each) use at once; 256 MiB (four hashes)
	// if zero. At least one hash always runs.
	PasswordHashMemory int64
	// PasswordHashQueue is how many logins may wait for room within
	// PasswordHashMemory; beyond it they are refused at once with
	// ResourceExhausted. 16 if zero, none if negative.
	PasswordHashQueue int
	// RefreshRate limits refreshes per client address; 60 and 1/s if zero.
	RefreshRate Rate
	// UploadSlotRate limits EvidenceService.CreateUploadSlot per user; a
	// burst of 1000 and 10 more per second if zero, enough for a phone
	// that comes back online with a week of photos.
	UploadSlotRate Rate
	// PushRate limits SyncService.Push per device; a burst of 120 and 2
	// more per second if zero, enough for a phone emptying a week's outbox
	// 500 mutations at a time.
	PushRate Rate
	// Blob stores photo evidence. If nil, a blob.Local under
	// <DataDir>/blobs, whose URLs are signed with a 32-byte secret
	// derived from KeyEncryptionKey (so every server with that key
	// accepts another's URLs) and served by this server under /blob/. A *blob.Local given here is served under /blob/ too,
	// so its base URL must end in /blob/.
	Blob blob.Bucket
	// PublicURL is the base URL at which devices reach this server
	// ("https://shopscore.example.com"), used in the upload URLs of the
	// local blob store. If empty, Serve derives it from its listener's
	// address ("http://127.0.0.1:8080").
	PublicURL string
	// TrustedProxies are the load balancers in front of the server: from
	// one of them, the client's address is the rightmost address of
	// X-Forwarded-For that is not a trusted proxy (clientAddr), so that
	// limits per client address and the security log see the client, not
	// the balancer. Empty: the header is ignored.
	TrustedProxies []netip.Prefix
	// ExpireEvery is how often a serving server expires the open and
	// accepted assignments whose window has ended (shoppers' devices pull
	// them as tombstones); 1 min if zero, never if negative.
	ExpireEvery time.Duration
	// MutationRetention is how long the result of a pushed mutation is
	// kept for the device's replays (app.DefaultMutationRetention, 90
	// days, if zero; kept for ever if negative). Older results are pruned
	// on ExpireEvery's tick; a device that replays a pruned seq is told to
	// reset (docs/DESIGN.md §3).
	MutationRetention time.Duration
	// EventRetention is how long the event outbox keeps events and their
	// delivery log (app.DefaultEventRetention, 30 days, if zero; kept for
	// ever if negative); an event with a delivery still pending is kept
	// until it is done. Pruned on ExpireEvery's tick.
	EventRetention time.Duration
	// Console, when set, answers every path the server's own routes do
	// not claim: the web console (package console). It must never answer
	// a procedure path with anything but 404.
	Console http.Handler
	// Webhooks configures the delivery of events to webhook endpoints
	// (docs/DESIGN.md §11).
	Webhooks Webhooks
	// Mail configures e-mail notifications (docs/DESIGN.md §12); off
	// when Mail.SMTP has no host.
	Mail Mail
	// Logger receives the server's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Rate is a token-bucket rate limit: Burst events at once, then one more
// every Every. Each zero field takes its own default.
type Rate struct {
	Burst int
	Every time.Duration
}

// or returns r with each zero field taken from def.
func (r Rate) or(def Rate) Rate {
	if r.Burst == 0 {
		r.Burst = def.Burst
	}
	if r.Every == 0 {
		r.Every = def.Every
	}
	return r
}

// maxHashMemory bounds Config.PasswordHashMemory: 1024 Argon2id hashes
// at once, far beyond any machine's cores.
const maxHashMemory = 1024 * auth.HashMemory

// withDefaults returns c with every zero field set to its own default,
// field by field (a Rate's Burst and Every each on its own too).
func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 4 << 20
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.RequestBodyTimeout == 0 {
		c.RequestBodyTimeout = time.Minute
	}
	if c.MinUploadRate == 0 {
		c.MinUploadRate = 16 << 10
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.RefreshRetryGrace == 0 {
		c.RefreshRetryGrace = 30 * time.Second
	}
	c.LoginRate = c.LoginRate.or(Rate{Burst: 10, Every: 30 * time.Second})
	c.LoginAccountRate = c.LoginAccountRate.or(Rate{
		Burst: c.LoginRate.Burst * loginAccountFactor,
		Every: max(c.LoginRate.Every/3, time.Nanosecond),
	})
	if c.PasswordHashMemory == 0 {
		c.PasswordHashMemory = 256 << 20
	}
	if c.PasswordHashQueue == 0 {
		c.PasswordHashQueue = 16
	}
	c.RefreshRate = c.RefreshRate.or(Rate{Burst: 60, Every: time.Second})
	if c.ExpireEvery == 0 {
		c.ExpireEvery = time.Minute
	}
	if c.MutationRetention == 0 {
		c.MutationRetention = app.DefaultMutationRetention
	}
	if c.EventRetention == 0 {
		c.EventRetention = app.DefaultEventRetention
	}
	if c.Mail.Retention == 0 {
		c.Mail.Retention = app.DefaultMailRetention
	}
	c.PushRate = c.PushRate.or(Rate{Burst: 120, Every: 500 * time.Millisecond})
	c.UploadSlotRate = c.UploadSlotRate.or(Rate{Burst: 1000, Every: 100 * time.Millisecond})
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// The login limits per client address, and by default per account from
// all addresses, are multiples of LoginRate's burst.
const (
	loginAddrFactor    = 10
	loginAccountFactor = 5
)

// validate returns EINVALID, naming the field, for a value of c (with its
// defaults applied) that the server cannot work with: a negative size,
// duration or rate, a burst too large to multiply, a password-hash budget
// beyond maxHashMemory, or a PublicURL that is not an absolute http(s)
// URL. Negative PasswordHashQueue and ExpireEvery are valid (none, never).
func (c Config) validate() error {
	type check struct {
		bad   bool
		field string
		value any
		want  string
	}
	checks := []check{
		{c.MaxRequestBytes < 0, "MaxRequestBytes", c.MaxRequestBytes, "a positive size"},
		{c.ReadHeaderTimeout < 0, "ReadHeaderTimeout", c.ReadHeaderTimeout, "a positive duration"},
		{c.RequestBodyTimeout < 0, "RequestBodyTimeout", c.RequestBodyTimeout, "a positive duration"},
		{c.MinUploadRate < 0, "MinUploadRate", c.MinUploadRate, "a positive rate"},
		{c.IdleTimeout < 0, "IdleTimeout", c.IdleTimeout, "a positive duration"},
		{c.AccessTTL < 0, "AccessTTL", c.AccessTTL, "a positive duration"},
		{c.RefreshTTL < 0, "RefreshTTL", c.RefreshTTL, "a positive duration"},
		{c.RefreshRetryGrace < 0, "RefreshRetryGrace", c.RefreshRetryGrace, "a positive duration"},
		{c.KeyReload < 0, "KeyReload", c.KeyReload, "a positive duration"},
		{c.PasswordHashMemory < 0 || c.PasswordHashMemory > maxHashMemory, "PasswordHashMemory", c.PasswordHashMemory,
			fmt.Sprintf("a positive size of at most %d", int64(maxHashMemory))},
		{c.Webhooks.Poll < 0, "Webhooks.Poll", c.Webhooks.Poll, "a positive duration"},
		{c.Webhooks.Lease < 0, "Webhooks.Lease", c.Webhooks.Lease, "a positive duration"},
		{c.Webhooks.Concurrency < 0, "Webhooks.Concurrency", c.Webhooks.Concurrency, "a positive count"},
		{c.Mail.Poll < 0, "Mail.Poll", c.Mail.Poll, "a positive duration"},
		{c.Mail.Lease < 0, "Mail.Lease", c.Mail.Lease, "a positive duration"},
		{c.Mail.Concurrency < 0, "Mail.Concurrency", c.Mail.Concurrency, "a positive count"},
	}
	for _, r := range []struct {
		field  string
		rate   Rate
		factor int // the largest multiple of Burst the server uses
	}{
		{"LoginRate", c.LoginRate, max(loginAddrFactor, loginAccountFactor)},
		{"LoginAccountRate", c.LoginAccountRate, 1},
		{"RefreshRate", c.RefreshRate, 1},
		{"UploadSlotRate", c.UploadSlotRate, 1},
		{"PushRate", c.PushRate, 1},
	} {
		checks = append(checks,
			check{r.rate.Burst <= 0 || r.rate.Burst > math.MaxInt32/r.factor, r.field + ".Burst", r.rate.Burst,
				fmt.Sprintf("a positive count of at most %d", math.MaxInt32/r.factor)},
			check{r.rate.Every <= 0, r.field + ".Every", r.rate.Every, "a positive duration"})
	}
	for _, ch := range checks {
		if ch.bad {
			return audit.Errorf(audit.EINVALID, "server config: %s is %v; want %s", ch.field, ch.value, ch.want)
		}
	}
	if c.Mail.SMTP.Enabled() {
		if err := c.Mail.SMTP.Validate(); err != nil {
			return audit.Errorf(audit.EINVALID, "server config: Mail.SMTP: %v", err)
		}
	}
	if u := c.PublicURL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			return audit.Errorf(audit.EINVALID, "server config: PublicURL %q is not an absolute http(s) URL without query", u)
		}
	}
	return auth.TokenConfig{AccessTTL: c.AccessTTL}.Validate()
}

// Server is a running shopscore server: its database, keys and handlers.
type Server struct {
	cfg      Config
	log      *slog.Logger
	st       storage.Storage
	app      *app.App
	keys     *auth.KeyStore
	issuer   *auth.Issuer
	verifier *auth.Verifier
	tokenCfg auth.TokenConfig

	kek            *auth.KEK
	loginLimiter   *auth.SharedLimiter // logins per account and client address, on every server
	accountLimiter *auth.SharedLimiter // logins per account, from any address, on every server
	addrLimiter    *auth.Limiter       // logins per client address, on this server
	hashes         *auth.HashGate
	refreshLimiter *auth.Limiter
	slotLimiter    *auth.Limiter  // upload slots per user
	pushLimiter    *auth.Limiter  // pushes per device
	mailer         *notify.Mailer // nil: e-mail is off

	blob      blob.Bucket // photo evidence
	local     *blob.Local // the same store when it is the local one, served under /blob/
	publicURL atomic.Pointer[string]
	// background runs the periodic work of a serving server.
	background background

	handler http.Handler
	// httpMu guards http and shut: Serve and Shutdown run on different
	// goroutines, and a Shutdown that comes first must stop a later Serve.
	httpMu sync.Mutex
	http   *http.Server
	shut   bool
}

// New opens the signing keys in cfg.Storage under the key-encryption
// key, creating them on first start, and builds the handlers over
// cfg.Storage.
func New(cfg Config) (s *Server, err error) {
	if cfg.Storage != nil {
		defer func() {
			if err != nil {
				cfg.Storage.Close()
			}
		}()
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Storage == nil {
		return nil, audit.Errorf(audit.EINVALID, "server config: Storage is nil; want an open database (sqlite.Open)")
	}
	s = &Server{cfg: cfg, log: cfg.Logger, st: cfg.Storage}
	if s.kek, err = s.keyEncryptionKey(); err != nil {
		return nil, err
	}
	if err := s.newLimiters(); err != nil {
		return nil, err
	}
	s.hashes = auth.NewHashGate(cfg.PasswordHashMemory, cfg.PasswordHashQueue)
	s.tokenCfg = auth.TokenConfig{AccessTTL: cfg.AccessTTL, Now: cfg.Now}
	if cfg.Mail.SMTP.Enabled() {
		if s.mailer, err = notify.NewMailer(cfg.Mail.SMTP); err != nil {
			return nil, audit.Errorf(audit.EINVALID, "server config: Mail.SMTP: %v", err)
		}
	}
	s.app = app.New(s.st, app.Options{Now: cfg.Now, WebhookPolicy: cfg.Webhooks.policy(), Mail: s.mailer != nil})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.keys, err = auth.OpenKeyStore(ctx, s.st.SigningKeys(), s.kek, s.tokenCfg, auth.KeyStoreOptions{
		ImportDir: filepath.Join(cfg.DataDir, "keys"), Reload: cfg.KeyReload, Logger: s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("open signing keys: %w", err)
	}
	s.issuer = auth.NewIssuer(s.keys, s.tokenCfg)
	s.verifier = s.keys.Verifier(s.tokenCfg)
	if err := s.openBlobStore(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// keyEncryptionKey returns Config.KeyEncryptionKey, or the one in the
// data folder, made there on first start.
func (s *Server) keyEncryptionKey() (*auth.KEK, error) {
	if s.cfg.KeyEncryptionKey != nil {
		return s.cfg.KeyEncryptionKey, nil
	}
	path := filepath.Join(s.cfg.DataDir, KEKFileName)
	kek, created, err := auth.LoadOrCreateKEKFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		s.log.Info("made a key-encryption key in the data folder: it seals the signing keys in the database; back it up, apart from the database's backups, "+
			"and give every server the same one when several run (SHOPSCORE_KEY_ENCRYPTION_KEY or --key-encryption-key-file)", "file", path)
	}
	return kek, nil
}

// KEKFileName names the key-encryption key in the data folder when none
// is configured.
const KEKFileName = auth.KEKFileName

// The labels of the secrets derived from the key-encryption key
// (auth.KEK.Derive); changing one changes the secret.
const (
	blobSecretLabel  = "local blob URL signing v1"
	loginLimitsLabel = "login limit keys v1"
)

// newLimiters makes the server's rate limiters from its validated Config:
// the login limits per account in Storage, shared by every server; the
// others in this process.
func (s *Server) newLimiters() error {
	c := s.cfg
	for _, l := range []struct {
		dst  **auth.SharedLimiter
		name string
		rate Rate
	}{
		{&s.loginLimiter, "login-account-address", c.LoginRate},
		{&s.accountLimiter, "login-account", c.LoginAccountRate},
	} {
		var err error
		if *l.dst, err = auth.NewSharedLimiter(s.st.RateLimits(), auth.SharedLimiterConfig{
			Name: l.name, Every: l.rate.Every, Burst: l.rate.Burst, Secret: s.kek.Derive(loginLimitsLabel, 32), Now: c.Now,
		}); err != nil {
			return err
		}
	}
	addr := Rate{Burst: c.LoginRate.Burst * loginAddrFactor, Every: max(c.LoginRate.Every/loginAddrFactor, time.Nanosecond)}
	for _, l := range []struct {
		dst  **auth.Limiter
		rate Rate
	}{
		{&s.addrLimiter, addr},
		{&s.refreshLimiter, c.RefreshRate},
		{&s.slotLimiter, c.UploadSlotRate},
		{&s.pushLimiter, c.PushRate},
	} {
		var err error
		if *l.dst, err = auth.NewLimiterConfig(auth.LimiterConfig{Every: l.rate.Every, Burst: l.rate.Burst, Now: c.Now}); err != nil {
			return err
		}
	}
	return nil
}

// Storage returns the server's database, for the CLI's offline commands and tests.
func (s *Server) Storage() storage.Storage { return s.st }

// Now is the server's clock (Config.Now).
func (s *Server) Now() time.Time { return s.cfg.Now() }

// App returns the server's use cases, for the CLI's offline commands.
func (s *Server) App() *app.App { return s.app }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	opts := []connect.HandlerOption{
		connect.WithInterceptors(interceptor{s}),
		connect.WithReadMaxBytes(s.cfg.MaxRequestBytes),
	}
	mux := http.NewServeMux()
	// Every service authenticates its callers before connect-go reads a
	// request body (interceptor.go says in which order the checks run).
	authenticated := authn.NewMiddleware(s.authenticateRPC, opts...)
	handle := func(path string, h http.Handler) { mux.Handle(path, authenticated.Wrap(h)) }
	handle(shopscorev1connect.NewAuthServiceHandler(&authService{s}, opts...))
	handle(shopscorev1connect.NewAdminServiceHandler(&adminService{s}, opts...))
	handle(shopscorev1connect.NewChecklistServiceHandler(&checklistService{s}, opts...))
	handle(shopscorev1connect.NewOrgServiceHandler(&orgService{s: s}, opts...))
	handle(shopscorev1connect.NewAssignmentServiceHandler(&assignmentService{s}, opts...))
	handle(shopscorev1connect.NewReviewServiceHandler(&reviewService{s}, opts...))
	handle(shopscorev1connect.NewSyncServiceHandler(&syncService{s}, opts...))
	handle(shopscorev1connect.NewEvidenceServiceHandler(&evidenceService{s}, opts...))
	handle(shopscorev1connect.NewReportServiceHandler(&reportService{s}, opts...))
	handle(shopscorev1connect.NewDashboardServiceHandler(&dashboardService{s}, opts...))
	handle(shopscorev1connect.NewWebhookServiceHandler(&webhookService{s}, opts...))
	handle(shopscorev1connect.NewStaffAccountServiceHandler(&staffAccountService{s}, opts...))
	handle(shopscorev1connect.NewMyResultsServiceHandler(&myResultsService{s}, opts...))
	handle(shopscorev1connect.NewAppealServiceHandler(&appealService{s}, opts...))
	handle(shopscorev1connect.NewActionServiceHandler(&actionService{s}, opts...))
	// Public: the report GETs authenticate themselves (Server.authorize),
	// the local store checks its signed URLs, and health, reflection and
	// the JWKS document need no caller.
	s.reportRoutes(mux)
	if s.local != nil {
		// The local store checks its own HMAC-signed URLs; no token needed.
		mux.Handle(blobPrefix, s.local)
	}

	services := []string{
		shopscorev1connect.AuthServiceName,
		shopscorev1connect.AdminServiceName,
		shopscorev1connect.ChecklistServiceName,
		shopscorev1connect.OrgServiceName,
		shopscorev1connect.AssignmentServiceName,
		shopscorev1connect.ReviewServiceName,
		shopscorev1connect.SyncServiceName,
		shopscorev1connect.EvidenceServiceName,
		shopscorev1connect.ReportServiceName,
		shopscorev1connect.DashboardServiceName,
		shopscorev1connect.WebhookServiceName,
		shopscorev1connect.StaffAccountServiceName,
		shopscorev1connect.MyResultsServiceName,
	}
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...)))
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.HandleFunc("GET /.well-known/jwks.json", s.serveJWKS)
	if s.cfg.Console != nil {
		// The most specific pattern wins in a ServeMux, so every route
		// above keeps its paths; the console gets the rest.
		mux.Handle("/", s.cfg.Console)
	}
	return clientAddr(s.cfg.TrustedProxies, s.bodyDeadline(mux))
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	body, err := s.keys.JWKSJSON()
	if err != nil {
		s.log.ErrorContext(r.Context(), "jwks", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(body)
}

// Serve accepts connections on ln until Shutdown is called: HTTP/1.1 and
// cleartext HTTP/2 (h2c), so Connect, gRPC and gRPC-Web share one port.
// It returns nil after a graceful shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.background.start(s.expireLoop, s.webhookLoop, s.mailLoop)
	if s.publicURL.Load() == nil {
		u := listenerURL(ln.Addr())
		if s.publicURL.CompareAndSwap(nil, &u) {
			s.log.Info("public URL derived from the listener; set PublicURL (--public-url) if devices reach the server elsewhere", "url", u)
		}
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{
		Handler:           s.handler,
		Protocols:         &protocols,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.httpMu.Lock()
	if s.shut {
		s.httpMu.Unlock()
		ln.Close()
		return nil
	}
	s.http = hs
	s.httpMu.Unlock()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, waits for calls in flight until
// ctx is done, stops the periodic work, then closes the database.
func (s *Server) Shutdown(ctx context.Context) error {
	s.httpMu.Lock()
	s.shut = true
	hs := s.http
	s.httpMu.Unlock()
	var err error
	if hs != nil {
		err = hs.Shutdown(ctx)
	}
	return errors.Join(err, s.Close())
}

// Close stops the periodic work and closes the database without waiting
// for calls in flight.
func (s *Server) Close() error {
	s.background.stop()
	return s.st.Close()
}

// peerHost returns the host part of a peer address.
func peerHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
