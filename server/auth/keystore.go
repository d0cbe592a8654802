package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/shopscore/shopscore/server/storage"
)

// AccessTokenKeys is the purpose of the keys that sign access tokens
// (storage.SigningKey.Purpose), part of their sealed bytes' associated
// data.
const AccessTokenKeys = "access-token"

// DefaultKeyReload is how often a KeyStore reads the keys again from the
// database unless told otherwise: a key rotated on one server signs and
// verifies on every other within it.
const DefaultKeyReload = 3 * time.Second

// missReloadEvery bounds how often a token with an unknown kid makes a
// KeyStore read the database at once, so that made-up kids cannot make
// every request a query.
const missReloadEvery = time.Second

// keyStoreTimeout bounds a reload that runs inside a request.
const keyStoreTimeout = 5 * time.Second

// The files of the key folder older builds kept (data/keys), read only to
// import them into the database.
const (
	// stateFileName names the file that says which key is active and when
	// the others were retired.
	stateFileName = "state.json"
	// keyFileSuffix ends the name of every key file: "<kid>.jwk".
	keyFileSuffix = ".jwk"
	// tempFilePrefix starts the name of a file being written.
	tempFilePrefix = ".tmp-"
	// stateVersion is the format version of the state file.
	stateVersion = 1
)

// keyRecord is one key's times (and its entry in an old state file).
type keyRecord struct {
	KID     string     `json:"kid"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
}

// keyState is the content of an old state file.
type keyState struct {
	Version int         `json:"version"`
	Active  string      `json:"active"`
	Keys    []keyRecord `json:"keys"`
}

// signingKey is a key held in memory: its record, its private half, and the
// public JWK that JWKS publishes.
type signingKey struct {
	keyRecord
	priv ed25519.PrivateKey
	pub  jose.JSONWebKey
}

// KeyStoreOptions are a KeyStore's settings beyond its TokenConfig. The
// zero value is usable.
type KeyStoreOptions struct {
	// ImportDir is the key folder of an older build (<data>/keys): when
	// the database holds no access-token key yet, the keys there are
	// sealed and stored in it, and the folder is not read again. Empty:
	// nothing to import.
	ImportDir string
	// Reload is how often the keys are read again from the database;
	// DefaultKeyReload if zero.
	Reload time.Duration
	// Logger receives the key store's notices (an import, a first key)
	// and the reloads that failed; slog.Default() if nil.
	Logger *slog.Logger
}

// KeyStore keeps the Ed25519 keys that sign access tokens in the database
// every server shares (storage.SigningKeys), each private key sealed under
// the key-encryption key, and the ones in use in memory. It reads them
// again every Reload, and at once (at most every second) for a token
// whose kid it does not know, so that a key rotated on one server signs
// and verifies on all within seconds. A key's kid is its RFC 7638
// SHA-256 thumbprint, base64url-encoded.
//
// A KeyStore is safe for concurrent use.
type KeyStore struct {
	db     storage.SigningKeys
	kek    *KEK
	cfg    TokenConfig
	reload time.Duration
	log    *slog.Logger

	mu       sync.RWMutex
	keys     []*signingKey // oldest first; the last one is active
	jwks     []jose.JSONWebKey
	expiry   time.Time // when the next retired key leaves the JWKS; zero if none
	loadedAt time.Time // when keys were last read (or tried to be)
	missAt   time.Time // when an unknown kid last made a reload

	reloading sync.Mutex // one reload at a time
}

// OpenKeyStore opens the key store in db under kek. On a database
// without an access-token key it stores the first ones: the keys of
// opts.ImportDir if that folder holds an older build's keys (and says so
// in the log), else a new key; servers starting at once store one set
// between them. It then reads every key, refusing one that does not open
// under kek (naming its kid) or does not match its kid, and deletes the
// retired keys past their retention (cfg.AccessTTL+cfg.Leeway). It
// returns EINVALID for an invalid cfg and EINTERNAL for any other
// failure.
func OpenKeyStore(ctx context.Context, db storage.SigningKeys, kek *KEK, cfg TokenConfig, opts KeyStoreOptions) (*KeyStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil || kek == nil {
		return nil, errors.New("auth: a key store needs a database and a key-encryption key")
	}
	ks := &KeyStore{db: db, kek: kek, cfg: cfg.withDefaults(), reload: opts.Reload, log: opts.Logger}
	if ks.reload <= 0 {
		ks.reload = DefaultKeyReload
	}
	if ks.log == nil {
		ks.log = slog.Default()
	}
	if err := ks.storeFirst(ctx, opts.ImportDir); err != nil {
		return nil, err
	}
	if err := ks.load(ctx); err != nil {
		return nil, err
	}
	if err := ks.Prune(ctx); err != nil {
		return nil, err
	}
	return ks, nil
}

// storeFirst stores the first keys of an empty database: those of
// importDir, or a new one.
func (ks *KeyStore) storeFirst(ctx context.Context, importDir string) error {
	have, err := ks.db.List(ctx, AccessTokenKeys)
	if err != nil {
		return fmt.Errorf("auth: read signing keys: %w", err)
	}
	if len(have) > 0 {
		return nil
	}
	var keys []*signingKey
	if importDir != "" {
		if keys, err = readKeyDir(importDir); err != nil {
			return fmt.Errorf("auth: import the signing keys of %s: %w", importDir, err)
		}
	}
	imported := len(keys) > 0
	if !imported {
		k, err := generateKey(ks.cfg.Now())
		if err != nil {
			return err
		}
		keys = []*signingKey{k}
	}
	rows := make([]storage.SigningKey, len(keys))
	for i, k := range keys {
		rows[i] = ks.row(k)
	}
	stored, err := ks.db.AddFirst(ctx, AccessTokenKeys, rows)
	if err != nil {
		return fmt.Errorf("auth: store the first signing keys: %w", err)
	}
	switch {
	case stored && imported:
		ks.log.Info("imported the signing keys of the key folder into the database, sealed under the key-encryption key; the folder is not read again and may be deleted",
			"keys", len(rows), "folder", importDir)
	case stored:
		ks.log.Info("made the first signing key, stored in the database", "kid", rows[0].KID)
	}
	return nil
}

// row returns the stored form of k, its private key sealed.
func (ks *KeyStore) row(k *signingKey) storage.SigningKey {
	r := storage.SigningKey{
		KID:              k.KID,
		Purpose:          AccessTokenKeys,
		PublicKey:        slices.Clone(k.priv.Public().(ed25519.PublicKey)),
		SealedPrivateKey: ks.kek.seal(AccessTokenKeys, k.KID, k.priv.Seed()),
		CreatedAt:        k.Created,
	}
	if k.Retired != nil {
		r.RetiredAt = *k.Retired
	}
	return r
}

// OpenSigningKey returns the private key of a stored signing key,
// refusing one that does not open under k or does not match its kid and
// public key (for tools and tests; a KeyStore opens its own).
func (k *KEK) OpenSigningKey(r storage.SigningKey) (ed25519.PrivateKey, error) {
	sk, err := unseal(k, r)
	if err != nil {
		return nil, err
	}
	return sk.priv, nil
}

// unseal returns the in-memory key of a stored one.
func (ks *KeyStore) unseal(r storage.SigningKey) (*signingKey, error) { return unseal(ks.kek, r) }

// unseal returns the in-memory key of a stored one, refusing one that
// does not open under kek or does not match its kid.
func unseal(kek *KEK, r storage.SigningKey) (*signingKey, error) {
	seed, err := kek.open(r.Purpose, r.KID, r.SealedPrivateKey)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("auth: signing key %s: %d bytes sealed, want an Ed25519 seed of %d", r.KID, len(seed), ed25519.SeedSize)
	}
	rec := keyRecord{KID: r.KID, Created: r.CreatedAt}
	if !r.RetiredAt.IsZero() {
		t := r.RetiredAt
		rec.Retired = &t
	}
	k, err := newSigningKey(ed25519.NewKeyFromSeed(seed), rec)
	if err != nil {
		return nil, err
	}
	if k.KID != r.KID || !k.priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(r.PublicKey)) {
		return nil, fmt.Errorf("auth: signing key %s holds key %s", r.KID, k.KID)
	}
	k.KID = r.KID
	return k, nil
}

// load reads the keys from the database and makes them the ones in
// use. A key already in memory is not opened again. On an error the keys
// in use stay as they were.
func (ks *KeyStore) load(ctx context.Context) error {
	rows, err := ks.db.List(ctx, AccessTokenKeys)
	now := ks.cfg.Now()
	if err != nil {
		ks.setLoaded(now)
		return fmt.Errorf("auth: read signing keys: %w", err)
	}
	ks.mu.RLock()
	known := make(map[string]*signingKey, len(ks.keys))
	for _, k := range ks.keys {
		known[k.KID] = k
	}
	ks.mu.RUnlock()

	keys := make([]*signingKey, 0, len(rows))
	active := 0
	for _, r := range rows {
		var k *signingKey
		if old, ok := known[r.KID]; ok {
			c := *old
			c.Retired = nil
			if !r.RetiredAt.IsZero() {
				t := r.RetiredAt
				c.Retired = &t
			}
			k = &c
		} else if k, err = ks.unseal(r); err != nil {
			ks.setLoaded(now)
			return err
		}
		if k.Retired == nil {
			active++
		}
		keys = append(keys, k)
	}
	if active != 1 {
		ks.setLoaded(now)
		return fmt.Errorf("auth: the database holds %d access-token signing keys that are not retired, want exactly one", active)
	}
	// The retired keys in the order they were retired, the active one last.
	slices.SortStableFunc(keys, func(a, b *signingKey) int {
		switch {
		case a.Retired == nil && b.Retired != nil:
			return 1
		case a.Retired != nil && b.Retired == nil:
			return -1
		case a.Retired != nil:
			return a.Retired.Compare(*b.Retired)
		}
		return 0
	})
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys, ks.loadedAt = keys, now
	ks.rebuildLocked(now)
	return nil
}

// setLoaded records a read of the database that failed, so that the next
// try waits for the next interval.
func (ks *KeyStore) setLoaded(now time.Time) {
	ks.mu.Lock()
	ks.loadedAt = now
	ks.mu.Unlock()
}

// Reload reads the keys from the database now. On an error the keys in
// use stay as they were.
func (ks *KeyStore) Reload(ctx context.Context) error {
	ks.reloading.Lock()
	defer ks.reloading.Unlock()
	return ks.load(ctx)
}

// fresh reads the keys again when the last read is Reload old, unless
// another call is reading them (it then uses the keys in use). A failure
// is logged and the keys in use are kept.
func (ks *KeyStore) fresh(now time.Time) {
	ks.mu.RLock()
	stale := now.Sub(ks.loadedAt) >= ks.reload
	ks.mu.RUnlock()
	if !stale || !ks.reloading.TryLock() {
		return
	}
	defer ks.reloading.Unlock()
	ks.reloadLogged()
}

// reloadLogged runs load under a timeout and logs its failure.
func (ks *KeyStore) reloadLogged() {
	ctx, cancel := context.WithTimeout(context.Background(), keyStoreTimeout)
	defer cancel()
	if err := ks.load(ctx); err != nil {
		ks.log.Error("reload signing keys; the keys read before stay in use", "err", err)
	}
}

// reloadFor reads the keys again for a token signed by kid, which the
// keys in use do not have, and reports whether it did: not for a kid
// that cannot be a key's, and at most once per missReloadEvery.
func (ks *KeyStore) reloadFor(kid string) bool {
	if !validKID(kid) {
		return false
	}
	now := ks.cfg.Now()
	ks.reloading.Lock()
	defer ks.reloading.Unlock()
	ks.mu.Lock()
	if slices.ContainsFunc(ks.keys, func(k *signingKey) bool { return k.KID == kid }) {
		ks.mu.Unlock()
		return true // another call has just read it
	}
	if !ks.missAt.IsZero() && now.Sub(ks.missAt) < missReloadEvery {
		ks.mu.Unlock()
		return false
	}
	ks.missAt = now
	ks.mu.Unlock()
	ks.reloadLogged()
	return true
}

// Verifier returns a Verifier of the keys of ks that reads them again
// from the database when a token names a kid it does not know.
func (ks *KeyStore) Verifier(cfg TokenConfig) *Verifier {
	v := NewVerifier(ks.JWKS, cfg)
	v.miss = ks.reloadFor
	return v
}

// Rotate makes a new key the active one, on every server, and returns its
// kid. The old key becomes verify-only: it stays in JWKS until its
// retention has passed, so that the tokens it signed stay valid until
// they expire. It returns EINTERNAL if the new key cannot be stored, in
// which case the old key stays active.
func (ks *KeyStore) Rotate(ctx context.Context) (newKID string, err error) {
	now := ks.cfg.Now()
	k, err := generateKey(now)
	if err != nil {
		return "", err
	}
	if err := ks.db.Rotate(ctx, ks.row(k)); err != nil {
		return "", fmt.Errorf("auth: store the new signing key: %w", err)
	}
	if err := ks.Reload(ctx); err != nil {
		return "", err
	}
	if err := ks.Prune(ctx); err != nil {
		return "", err
	}
	return k.KID, nil
}

// JWKS returns the public keys that verify valid access tokens: the
// active key and every retired key retired less than AccessTTL+Leeway ago.
func (ks *KeyStore) JWKS() jose.JSONWebKeySet {
	now := ks.cfg.Now()
	ks.fresh(now)
	ks.mu.RLock()
	if ks.expiry.IsZero() || now.Before(ks.expiry) {
		defer ks.mu.RUnlock()
		return jose.JSONWebKeySet{Keys: slices.Clone(ks.jwks)}
	}
	ks.mu.RUnlock()

	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.rebuildLocked(now)
	return jose.JSONWebKeySet{Keys: slices.Clone(ks.jwks)}
}

// JWKSJSON returns JWKS as the JSON document served at
// /.well-known/jwks.json.
func (ks *KeyStore) JWKSJSON() ([]byte, error) {
	b, err := json.Marshal(ks.JWKS())
	if err != nil {
		return nil, fmt.Errorf("auth: encode JWKS: %w", err)
	}
	return b, nil
}

// Prune deletes from the database the retired keys past their retention;
// JWKS stops publishing them by itself. Any server may call it, as often
// as it likes (a server calls it on its periodic tick). Errors: EINTERNAL.
func (ks *KeyStore) Prune(ctx context.Context) error {
	// A key retired retention ago is no longer published (rebuildLocked).
	if _, err := ks.db.DeleteRetired(ctx, AccessTokenKeys, ks.cfg.Now().Add(-ks.cfg.retention())); err != nil {
		return fmt.Errorf("auth: delete old signing keys: %w", err)
	}
	return nil
}

// activeKey returns the kid and private key that sign new tokens.
func (ks *KeyStore) activeKey() (string, ed25519.PrivateKey) {
	ks.fresh(ks.cfg.Now())
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k := ks.keys[len(ks.keys)-1]
	return k.KID, k.priv
}

// rebuildLocked recomputes the published key set at now (the keys still
// within their retention) and when it next changes.
func (ks *KeyStore) rebuildLocked(now time.Time) {
	ks.jwks = ks.jwks[:0:0]
	ks.expiry = time.Time{}
	for i := len(ks.keys) - 1; i >= 0; i-- { // active first, then newest retired
		k := ks.keys[i]
		if k.Retired != nil {
			end := k.Retired.Add(ks.cfg.retention())
			if !now.Before(end) {
				continue
			}
			if ks.expiry.IsZero() || end.Before(ks.expiry) {
				ks.expiry = end
			}
		}
		ks.jwks = append(ks.jwks, k.pub)
	}
}

// generateKey makes a new key created at now.
func generateKey(now time.Time) (*signingKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	return newSigningKey(priv, keyRecord{Created: now})
}

// readKeyDir reads the keys an older build kept in dir, oldest first:
// none when dir has no state file. It refuses a folder or key file that
// other users may access, a key file whose content does not match its
// kid, and a state file that names missing keys.
func readKeyDir(dir string) ([]*signingKey, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	if err := checkPrivate(fi); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	b, err := ReadPrivateFile(filepath.Join(dir, stateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read key state: %w", err)
	}
	var st keyState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode key state: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("key state version %d, want %d", st.Version, stateVersion)
	}
	if len(st.Keys) == 0 {
		return nil, errors.New("key state lists no keys")
	}
	seen := make(map[string]bool, len(st.Keys))
	var keys []*signingKey
	for i, r := range st.Keys {
		if !validKID(r.KID) {
			return nil, fmt.Errorf("key state: malformed kid %q", r.KID)
		}
		if seen[r.KID] {
			return nil, fmt.Errorf("key state: duplicate kid %s", r.KID)
		}
		seen[r.KID] = true
		last := i == len(st.Keys)-1
		if last != (r.KID == st.Active) || last != (r.Retired == nil) {
			return nil, fmt.Errorf("key state: the active key %s must be the last and the only one not retired", st.Active)
		}
		k, err := readKeyFile(dir, r)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// readKeyFile reads the key file of r in dir and checks that it holds the
// key r names.
func readKeyFile(dir string, r keyRecord) (*signingKey, error) {
	b, err := ReadPrivateFile(filepath.Join(dir, r.KID+keyFileSuffix))
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", r.KID, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("decode key %s: %w", r.KID, err)
	}
	priv, ok := jwk.Key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key %s is a %T, want an Ed25519 private key", r.KID, jwk.Key)
	}
	k, err := newSigningKey(priv, r)
	if err != nil {
		return nil, err
	}
	if k.KID != r.KID || jwk.KeyID != r.KID {
		return nil, fmt.Errorf("key file %s holds key %s (kid %q)", r.KID, k.KID, jwk.KeyID)
	}
	return k, nil
}

// newSigningKey returns the in-memory key for priv. Its KID is the key's
// thumbprint, whatever r says, for the caller to compare.
func newSigningKey(priv ed25519.PrivateKey, r keyRecord) (*signingKey, error) {
	pub := jose.JSONWebKey{Key: priv.Public().(ed25519.PublicKey), Algorithm: string(jose.EdDSA), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("auth: key thumbprint: %w", err)
	}
	r.KID = base64.RawURLEncoding.EncodeToString(tp)
	pub.KeyID = r.KID
	return &signingKey{keyRecord: r, priv: priv, pub: pub}, nil
}

// validKID reports whether kid looks like a base64url SHA-256 thumbprint,
// which also keeps it safe to use in a file name.
func validKID(kid string) bool {
	if len(kid) != base64.RawURLEncoding.EncodedLen(32) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(kid)
	return err == nil
}

// checkPrivate returns an error if users other than the owner may access
// the file fi describes. Windows has no such mode bits, so it is skipped.
func checkPrivate(fi fs.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("mode %04o gives access to other users; want %04o", perm, perm&^0o077)
	}
	return nil
}

// ReadPrivateFile reads a regular file that only its owner may access.
func ReadPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if err := checkPrivate(fi); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	const maxSize = 1 << 20
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSize)
	}
	return b, nil
}

// syncDir makes a rename or link in dir durable. Windows cannot sync a
// directory.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
