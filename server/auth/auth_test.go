package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
)

// fakeClock is a settable clock for TokenConfig.Now and LimiterConfig.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock returns a clock at a fixed, whole-second instant.
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testKEK is the key-encryption key of the tests' key stores.
var testKEK = GenerateKEK()

// openSQLite opens (creating) the SQLite database at path, closed when
// the test ends: a test that opens one path twice plays two servers on
// one database.
func openSQLite(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustOpenKeyStore opens a key store under testKEK in a fresh SQLite
// database and returns it with the database's signing keys.
func MustOpenKeyStore(tb testing.TB, cfg TokenConfig) (*KeyStore, storage.SigningKeys) {
	tb.Helper()
	db := openSQLite(tb, filepath.Join(tb.TempDir(), "shopscore.db")).SigningKeys()
	ks, err := OpenKeyStore(context.Background(), db, testKEK, cfg, KeyStoreOptions{Logger: discardLog})
	require.NoError(tb, err)
	return ks, db
}

// discardLog is a logger that writes nowhere.
var discardLog = slog.New(slog.DiscardHandler)

// b64 encodes b as unpadded base64url, as JWS does.
func b64(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// jsonB64 encodes v as JSON, then as unpadded base64url.
func jsonB64(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	require.NoError(tb, err)
	return b64(b)
}

// signCompact builds a compact EdDSA JWS by hand, so that tests can craft
// headers and claims that Issuer never produces.
func signCompact(tb testing.TB, priv ed25519.PrivateKey, header, claims map[string]any) string {
	tb.Helper()
	input := jsonB64(tb, header) + "." + jsonB64(tb, claims)
	return input + "." + b64(ed25519.Sign(priv, []byte(input)))
}

// newAttackerKey returns an Ed25519 key the server does not know.
func newAttackerKey(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(tb, err)
	return priv
}

// splitToken returns the three parts of a compact JWS.
func splitToken(tb testing.TB, token string) (header, payload, sig string) {
	tb.Helper()
	parts := strings.Split(token, ".")
	require.Len(tb, parts, 3)
	return parts[0], parts[1], parts[2]
}
