// Package server is shopscore's Connect-RPC server: the handlers of every
// service, authentication and authorization, the error table, and the
// HTTP plumbing (Connect, gRPC and gRPC-Web on one h2c port, health,
// reflection, the JWKS document). Storage lives in server/sqlite, token
// primitives in server/auth; only server/cmd reads flags and environment.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/sqlite"
)

// Config is the server's configuration. The zero value is usable: every
// zero field takes the default documented on it.
type Config struct {
	// DataDir holds the database, the signing keys and local evidence;
	// "data" if empty.
	DataDir string
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
	// LoginRate limits login attempts per account from one client
	// address: a burst, then one more attempt per Every; 10 and 1/30 s if
	// zero. A client address gets ten times that for all accounts
	// together, since many shoppers may share one address behind NAT.
	LoginRate Rate
	// LoginAccountRate limits login attempts per account from all
	// addresses together, against guessing from many addresses; if zero,
	// five times LoginRate's burst and three times its pace (50 and
	// 1/10 s by default). It is looser than LoginRate, so that one
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
	// <DataDir>/blobs, whose URLs are signed with a 32-byte secret made
	// once in <DataDir>/blob.secret (mode 0600) and served by this server
	// under /blob/. A *blob.Local given here is served under /blob/ too,
	// so its base URL must end in /blob/.
	Blob blob.Store
	// PublicURL is the base URL at which devices reach this server
	// ("https://shopscore.example.com"), used in the upload URLs of the
	// local blob store. If empty, Serve derives it from its listener's
	// address ("http://127.0.0.1:8080").
	PublicURL string
	// ExpireEvery is how often a serving server expires the open and
	// accepted assignments whose window has ended (shoppers' devices pull
	// them as tombstones); 1 min if zero, never if negative.
	ExpireEvery time.Duration
	// Console, when set, answers every path the server's own routes do
	// not claim: the web console (package console). It must never answer
	// a procedure path with anything but 404.
	Console http.Handler
	// Logger receives the server's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Rate is a token-bucket rate limit.
type Rate struct {
	Burst int
	Every time.Duration
}

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
	if c.MinUploadRate <= 0 {
		c.MinUploadRate = 16 << 10
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.LoginRate == (Rate{}) {
		c.LoginRate = Rate{Burst: 10, Every: 30 * time.Second}
	}
	if c.LoginAccountRate == (Rate{}) {
		c.LoginAccountRate = Rate{Burst: c.LoginRate.Burst * 5, Every: max(c.LoginRate.Every/3, time.Nanosecond)}
	}
	if c.PasswordHashMemory == 0 {
		c.PasswordHashMemory = 256 << 20
	}
	if c.PasswordHashQueue == 0 {
		c.PasswordHashQueue = 16
	}
	if c.RefreshRate == (Rate{}) {
		c.RefreshRate = Rate{Burst: 60, Every: time.Second}
	}
	if c.ExpireEvery == 0 {
		c.ExpireEvery = time.Minute
	}
	if c.PushRate == (Rate{}) {
		c.PushRate = Rate{Burst: 120, Every: 500 * time.Millisecond}
	}
	if c.UploadSlotRate == (Rate{}) {
		c.UploadSlotRate = Rate{Burst: 1000, Every: 100 * time.Millisecond}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Server is a running shopscore server: its database, keys and handlers.
type Server struct {
	cfg      Config
	log      *slog.Logger
	db       *sqlite.DB
	keys     *auth.KeyStore
	issuer   *auth.Issuer
	verifier *auth.Verifier
	tokenCfg auth.TokenConfig

	loginLimiter   *auth.Limiter // logins per account and client address
	accountLimiter *auth.Limiter // logins per account, from any address
	addrLimiter    *auth.Limiter // logins per client address
	hashes         *auth.HashGate
	refreshLimiter *auth.Limiter
	slotLimiter    *auth.Limiter // upload slots per user
	pushLimiter    *auth.Limiter // pushes per device

	feedEpoch string      // the database's feed epoch, fixed at creation
	blob      blob.Store  // photo evidence
	local     *blob.Local // the same store when it is the local one, served under /blob/
	publicURL atomic.Pointer[string]
	// finalizing serializes the verification of the same bytes, so that
	// the deletion of a mismatched upload never races a good one.
	finalizing [64]sync.Mutex
	// background runs the periodic work of a serving server.
	background background

	handler http.Handler
	http    *http.Server
}

// New opens the database (applying migrations) and the signing keys under
// cfg.DataDir, creating them on first start, and builds the handlers.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.db = sqlite.NewDB(filepath.Join(cfg.DataDir, "shopscore.db"))
	s.db.Now = cfg.Now
	if err := s.db.Open(); err != nil {
		return nil, err
	}
	s.tokenCfg = auth.TokenConfig{AccessTTL: cfg.AccessTTL, Now: cfg.Now}
	if err := s.tokenCfg.Validate(); err != nil {
		s.db.Close()
		return nil, err
	}
	var err error
	if s.keys, err = auth.OpenKeyStore(filepath.Join(cfg.DataDir, "keys"), s.tokenCfg); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("open signing keys: %w", err)
	}
	s.issuer = auth.NewIssuer(s.keys, s.tokenCfg)
	s.verifier = auth.NewVerifier(s.keys.JWKS, s.tokenCfg)
	s.loginLimiter = auth.NewLimiterConfig(auth.LimiterConfig{Every: cfg.LoginRate.Every, Burst: cfg.LoginRate.Burst, Now: cfg.Now})
	s.accountLimiter = auth.NewLimiterConfig(auth.LimiterConfig{Every: cfg.LoginAccountRate.Every, Burst: cfg.LoginAccountRate.Burst, Now: cfg.Now})
	s.hashes = auth.NewHashGate(cfg.PasswordHashMemory, cfg.PasswordHashQueue)
	s.addrLimiter = auth.NewLimiterConfig(auth.LimiterConfig{Every: cfg.LoginRate.Every / 10, Burst: cfg.LoginRate.Burst * 10, Now: cfg.Now})
	s.refreshLimiter = auth.NewLimiterConfig(auth.LimiterConfig{Every: cfg.RefreshRate.Every, Burst: cfg.RefreshRate.Burst, Now: cfg.Now})
	s.slotLimiter = auth.NewLimiterConfig(auth.LimiterConfig{Every: cfg.UploadSlotRate.Every, Burst: cfg.UploadSlotRate.Burst, Now: cfg.Now})
	s.pushLimiter = auth.NewLimiterConfig(auth.LimiterConfig{Every: cfg.PushRate.Every, Burst: cfg.PushRate.Burst, Now: cfg.Now})
	if s.feedEpoch, err = s.db.FeedEpoch(context.Background()); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.openBlobStore(); err != nil {
		s.db.Close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// DB returns the server's database, for the CLI's offline commands and tests.
func (s *Server) DB() *sqlite.DB { return s.db }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	opts := []connect.HandlerOption{
		connect.WithInterceptors(interceptor{s}),
		connect.WithReadMaxBytes(s.cfg.MaxRequestBytes),
	}
	mux := http.NewServeMux()
	mux.Handle(shopscorev1connect.NewAuthServiceHandler(&authService{s}, opts...))
	mux.Handle(shopscorev1connect.NewAdminServiceHandler(&adminService{s}, opts...))
	mux.Handle(shopscorev1connect.NewChecklistServiceHandler(&checklistService{s}, opts...))
	mux.Handle(shopscorev1connect.NewOrgServiceHandler(&orgService{s: s}, opts...))
	mux.Handle(shopscorev1connect.NewAssignmentServiceHandler(&assignmentService{s}, opts...))
	mux.Handle(shopscorev1connect.NewReviewServiceHandler(&reviewService{s}, opts...))
	mux.Handle(shopscorev1connect.NewSyncServiceHandler(&syncService{s}, opts...))
	mux.Handle(shopscorev1connect.NewEvidenceServiceHandler(&evidenceService{s}, opts...))
	mux.Handle(shopscorev1connect.NewReportServiceHandler(&reportService{s}, opts...))
	mux.Handle(shopscorev1connect.NewDashboardServiceHandler(&dashboardService{s}, opts...))
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
	return s.bodyDeadline(mux)
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
	s.background.start(s.expireLoop)
	if s.publicURL.Load() == nil {
		u := listenerURL(ln.Addr())
		if s.publicURL.CompareAndSwap(nil, &u) {
			s.log.Info("public URL derived from the listener; set PublicURL (--public-url) if devices reach the server elsewhere", "url", u)
		}
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.http = &http.Server{
		Handler:           s.handler,
		Protocols:         &protocols,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, waits for calls in flight until
// ctx is done, stops the periodic work, then closes the database.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	if s.http != nil {
		err = s.http.Shutdown(ctx)
	}
	return errors.Join(err, s.Close())
}

// Close stops the periodic work and closes the database without waiting
// for calls in flight.
func (s *Server) Close() error {
	s.background.stop()
	return s.db.Close()
}

// peerHost returns the host part of a peer address.
func peerHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
