package field

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/shopscore/shopscore/api/shopscore/v1/shopscorev1connect"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/sync/protocol"
)

// Config configures a Client. Only Dir and ServerURL are required; every
// other zero field takes the default documented on it.
type Config struct {
	// Dir is the folder of the client's database and photos; it is created
	// when missing.
	Dir string
	// ServerURL is the shopscore server's base URL, such as
	// "http://127.0.0.1:8080".
	ServerURL string
	// HTTPClient carries the RPCs and the photo uploads; a client with
	// dial and response-header timeouts (and no overall timeout, so that
	// large uploads may take their time) if nil.
	HTTPClient *http.Client
	// DeviceName is shown to admins next to the device's session;
	// "shopscore field client" if empty.
	DeviceName string
	// Now is the wall clock, used for claimed times; time.Now if nil.
	Now func() time.Time
	// Clock measures timer questions; BootClock if nil.
	Clock MonotonicClock
	// Backoff spaces retries of transient failures; protocol's defaults
	// (500 ms up to 1 min) if zero.
	Backoff protocol.Backoff
	// MaxAttempts bounds the tries of one network step (a push batch, a
	// photo upload, a pull page) before Sync gives up and leaves the rest
	// for the next Sync; 5 if zero.
	MaxAttempts int
	// CallTimeout bounds one RPC; 60 s if zero.
	CallTimeout time.Duration
	// PullPageSize is the number of changes asked for per pull page; the
	// server's default (200) if zero.
	PullPageSize int32
	// RefreshBefore refreshes the access token this long before it
	// expires; 1 min if zero.
	RefreshBefore time.Duration
	// UploadWorkers is how many photos upload at once, so that one photo's
	// upload overlaps another's verification on the server; 3 if zero.
	UploadWorkers int
	// Inspect opens the client only to look: the folder and database must
	// exist already (ENOTFOUND otherwise, and nothing is created) and be
	// up to date with this build (EPRECONDITION otherwise), and every
	// change is refused. The CLI's read-only commands open it so.
	Inspect bool
}

func (c Config) withDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: 2 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
		}}
	}
	if c.DeviceName == "" {
		c.DeviceName = "shopscore field client"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Clock == nil {
		c.Clock = BootClock{}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = time.Minute
	}
	if c.RefreshBefore <= 0 {
		c.RefreshBefore = time.Minute
	}
	if c.UploadWorkers <= 0 {
		c.UploadWorkers = 3
	}
	return c
}

// Client is the field client over one local database. Its methods are safe
// for concurrent use; only one Sync runs at a time.
type Client struct {
	cfg      Config
	db       *sql.DB
	photoDir string

	auth     shopscorev1connect.AuthServiceClient
	sync     shopscorev1connect.SyncServiceClient
	evidence shopscorev1connect.EvidenceServiceClient

	authMu sync.Mutex // serializes token refreshes
	syncMu sync.Mutex // one Sync or Pull at a time

	// beforeChange, when set by a test, runs before each change of a pull
	// page is applied; an error aborts the page.
	beforeChange func(i int) error
}

// DatabaseFile is the name of the client's database inside its folder.
const DatabaseFile = "field.db"

// Open opens (creating when needed) the client database in dir, to sync
// with the server at serverURL. It returns EINVALID for an empty dir or a
// malformed server URL.
func Open(dir, serverURL string) (*Client, error) {
	return OpenConfig(Config{Dir: dir, ServerURL: serverURL})
}

// OpenConfig opens the client described by cfg. It returns EINVALID for an
// empty Dir or a malformed ServerURL, and a wrapped I/O error when the
// folder or the database cannot be opened.
func OpenConfig(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if strings.TrimSpace(cfg.Dir) == "" {
		return nil, audit.Errorf(audit.EINVALID, "a data folder is required")
	}
	serverURL, err := checkServerURL(cfg.ServerURL)
	if err != nil {
		return nil, err
	}
	cfg.ServerURL = serverURL
	photoDir := filepath.Join(cfg.Dir, "photos")
	var db *sql.DB
	if cfg.Inspect {
		db, err = inspectDB(cfg.Dir)
	} else {
		db, err = openFolder(cfg.Dir, photoDir, cfg.Now())
	}
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, db: db, photoDir: photoDir}
	opts := []connect.ClientOption{connect.WithInterceptors(authInterceptor{c})}
	c.auth = shopscorev1connect.NewAuthServiceClient(cfg.HTTPClient, serverURL)
	c.sync = shopscorev1connect.NewSyncServiceClient(cfg.HTTPClient, serverURL, opts...)
	c.evidence = shopscorev1connect.NewEvidenceServiceClient(cfg.HTTPClient, serverURL, opts...)
	return c, nil
}

// checkServerURL returns the URL without a trailing slash, or EINVALID.
func checkServerURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", audit.Errorf(audit.EINVALID, "server URL %q is not valid: give one like http://127.0.0.1:8080", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Close closes the database. Work recorded so far is already on disk.
func (c *Client) Close() error {
	return c.db.Close()
}

// ServerURL returns the server the client syncs with.
func (c *Client) ServerURL() string { return c.cfg.ServerURL }

// DeviceID returns the device's ID: a UUID made on first use and kept.
func (c *Client) DeviceID(ctx context.Context) (string, error) {
	var id string
	if err := c.db.QueryRowContext(ctx, `SELECT device_id FROM device WHERE id = 1`).Scan(&id); err != nil {
		return "", fmt.Errorf("field: read device: %w", err)
	}
	return id, nil
}

// now returns the wall clock in UTC, to the millisecond (what is stored).
func (c *Client) now() time.Time {
	return c.cfg.Now().UTC().Truncate(time.Millisecond)
}

// remote maps an error of an RPC to a domain error, keeping the server's
// message, and says what was being done.
func remote(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", what, err)
	}
	d := protocol.FromConnect(err)
	return &opError{what: what, err: d}
}

// opError says which step failed; its code and message are those of the
// domain error it wraps.
type opError struct {
	what string
	err  error
}

func (e *opError) Error() string { return e.what + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }
