package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// stateFileName names the file that says which key is active and when
	// the others were retired.
	stateFileName = "state.json"
	// keyFileSuffix ends the name of every key file: "<kid>.jwk".
	keyFileSuffix = ".jwk"
	// tempFilePrefix starts the name of a file being written; leftovers of
	// a crash are removed on open.
	tempFilePrefix = ".tmp-"
	// stateVersion is the format version of the state file.
	stateVersion = 1
)

// keyRecord is one key's entry in the state file.
type keyRecord struct {
	KID     string     `json:"kid"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
}

// keyState is the content of the state file.
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

// KeyStore keeps the Ed25519 keys that sign access tokens, in a directory
// that belongs to one process. The directory has mode 0700; each key is a
// JSON Web Key file "<kid>.jwk" of mode 0600 that holds the private key,
// and state.json names the active key and when the others were retired.
// A key's kid is its RFC 7638 SHA-256 thumbprint, base64url-encoded.
//
// A KeyStore is safe for concurrent use.
type KeyStore struct {
	dir string
	cfg TokenConfig

	mu     sync.RWMutex
	keys   []*signingKey // oldest first; the last one is active
	jwks   []jose.JSONWebKey
	expiry time.Time // when the next retired key leaves the JWKS; zero if none
	dirty  bool      // a pruning failed to update the disk
}

// OpenKeyStore opens the key store in dir, creating the directory and a
// first active key if needed. It refuses a directory or key file that
// other users may access, a key file whose content does not match its kid,
// and a state file that names missing keys; a directory without a state
// file is a new, empty store. Retired keys past their
// retention (cfg.AccessTTL+cfg.Leeway) are deleted, as are key files the
// state does not name. It returns EINVALID for an invalid cfg and
// EINTERNAL for any other failure.
func OpenKeyStore(dir string, cfg TokenConfig) (*KeyStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: create key directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("auth: key directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("auth: key directory %s is not a directory", dir)
	}
	if err := checkPrivate(fi); err != nil {
		return nil, fmt.Errorf("auth: key directory %s: %w", dir, err)
	}

	ks := &KeyStore{dir: dir, cfg: cfg}
	st, err := ks.readState()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := ks.create(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := ks.load(st); err != nil {
			return nil, err
		}
	}

	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.dirty = true // check the disk for strays once
	if err := ks.pruneLocked(cfg.Now()); err != nil {
		return nil, err
	}
	return ks, nil
}

// create makes the first key of an empty store.
func (ks *KeyStore) create() error {
	k, err := ks.newKey(ks.cfg.Now())
	if err != nil {
		return err
	}
	ks.keys = []*signingKey{k}
	if err := ks.saveLocked(); err != nil {
		return err
	}
	ks.rebuildLocked()
	return nil
}

// load reads the keys st names.
func (ks *KeyStore) load(st keyState) error {
	if st.Version != stateVersion {
		return fmt.Errorf("auth: key state version %d, want %d", st.Version, stateVersion)
	}
	if len(st.Keys) == 0 {
		return errors.New("auth: key state lists no keys")
	}
	seen := make(map[string]bool, len(st.Keys))
	for i, r := range st.Keys {
		if !validKID(r.KID) {
			return fmt.Errorf("auth: key state: malformed kid %q", r.KID)
		}
		if seen[r.KID] {
			return fmt.Errorf("auth: key state: duplicate kid %s", r.KID)
		}
		seen[r.KID] = true
		last := i == len(st.Keys)-1
		if last != (r.KID == st.Active) || last != (r.Retired == nil) {
			return fmt.Errorf("auth: key state: the active key %s must be the last and the only one not retired", st.Active)
		}
		k, err := ks.readKey(r)
		if err != nil {
			return err
		}
		ks.keys = append(ks.keys, k)
	}
	ks.rebuildLocked()
	return nil
}

// Rotate makes a new key the active one and returns its kid. The old key
// becomes verify-only: it stays in JWKS until its retention has passed, so
// that the tokens it signed stay valid until they expire. It returns
// EINTERNAL if the new key or the state cannot be written, in which case
// the old key stays active.
func (ks *KeyStore) Rotate() (newKID string, err error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	now := ks.cfg.Now()
	if err := ks.pruneLocked(now); err != nil {
		return "", err
	}
	k, err := ks.newKey(now)
	if err != nil {
		return "", err
	}
	old := ks.keys
	retired := *old[len(old)-1]
	retired.Retired = &now
	ks.keys = append(slices.Clone(old[:len(old)-1]), &retired, k)
	if err := ks.saveLocked(); err != nil {
		ks.keys = old
		_ = os.Remove(ks.keyPath(k.KID))
		return "", err
	}
	ks.rebuildLocked()
	return k.KID, nil
}

// JWKS returns the public keys that verify valid access tokens: the
// active key and every retired key retired less than AccessTTL+Leeway ago.
// Keys past their retention are also deleted from disk; should that fail,
// the deletion is retried by the next Rotate, Prune or OpenKeyStore.
func (ks *KeyStore) JWKS() jose.JSONWebKeySet {
	now := ks.cfg.Now()
	ks.mu.RLock()
	if !ks.dirty && (ks.expiry.IsZero() || now.Before(ks.expiry)) {
		defer ks.mu.RUnlock()
		return jose.JSONWebKeySet{Keys: slices.Clone(ks.jwks)}
	}
	ks.mu.RUnlock()

	ks.mu.Lock()
	defer ks.mu.Unlock()
	_ = ks.pruneLocked(now)
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

// Prune deletes the retired keys past their retention, from memory and
// disk, and returns the first disk error (EINTERNAL). JWKS prunes too but cannot
// report errors; a server may call Prune periodically to see them.
func (ks *KeyStore) Prune() error {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.pruneLocked(ks.cfg.Now())
}

// activeKey returns the kid and private key that sign new tokens.
func (ks *KeyStore) activeKey() (string, ed25519.PrivateKey) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k := ks.keys[len(ks.keys)-1]
	return k.KID, k.priv
}

// pruneLocked drops the retired keys whose retention has passed at now,
// saves the state and deletes their files. The keys leave memory even if
// the disk update fails, so that JWKS never publishes them again; the disk
// update is then retried by the next call.
func (ks *KeyStore) pruneLocked(now time.Time) error {
	keep := ks.keys[:0:0]
	for _, k := range ks.keys {
		if k.Retired == nil || now.Sub(*k.Retired) < ks.cfg.retention() {
			keep = append(keep, k)
		}
	}
	if len(keep) == len(ks.keys) && !ks.dirty {
		return nil
	}
	ks.keys = keep
	ks.rebuildLocked()
	err := ks.saveLocked()
	if err == nil {
		err = ks.removeStrays()
	}
	ks.dirty = err != nil
	return err
}

// rebuildLocked recomputes the published key set and when it next changes.
func (ks *KeyStore) rebuildLocked() {
	ks.jwks = ks.jwks[:0:0]
	ks.expiry = time.Time{}
	for i := len(ks.keys) - 1; i >= 0; i-- { // active first, then newest retired
		k := ks.keys[i]
		ks.jwks = append(ks.jwks, k.pub)
		if k.Retired != nil {
			if end := k.Retired.Add(ks.cfg.retention()); ks.expiry.IsZero() || end.Before(ks.expiry) {
				ks.expiry = end
			}
		}
	}
}

// saveLocked writes the state file for the keys in memory.
func (ks *KeyStore) saveLocked() error {
	st := keyState{Version: stateVersion, Active: ks.keys[len(ks.keys)-1].KID}
	for _, k := range ks.keys {
		st.Keys = append(st.Keys, k.keyRecord)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: encode key state: %w", err)
	}
	if err := writeFileAtomic(ks.dir, stateFileName, b); err != nil {
		return fmt.Errorf("auth: save key state: %w", err)
	}
	return nil
}

// readState reads the state file; the error wraps fs.ErrNotExist if there
// is none.
func (ks *KeyStore) readState() (keyState, error) {
	var st keyState
	b, err := ReadPrivateFile(filepath.Join(ks.dir, stateFileName))
	if err != nil {
		return st, fmt.Errorf("auth: read key state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("auth: decode key state: %w", err)
	}
	return st, nil
}

// newKey generates a key and writes its file.
func (ks *KeyStore) newKey(now time.Time) (*signingKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	k, err := newSigningKey(priv, keyRecord{Created: now})
	if err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: priv, KeyID: k.KID, Algorithm: string(jose.EdDSA), Use: "sig"}
	b, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("auth: encode key: %w", err)
	}
	if err := writeFileAtomic(ks.dir, k.KID+keyFileSuffix, b); err != nil {
		return nil, fmt.Errorf("auth: save key: %w", err)
	}
	return k, nil
}

// readKey reads the key file of r and checks that it holds the key r names.
func (ks *KeyStore) readKey(r keyRecord) (*signingKey, error) {
	b, err := ReadPrivateFile(ks.keyPath(r.KID))
	if err != nil {
		return nil, fmt.Errorf("auth: read key %s: %w", r.KID, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("auth: decode key %s: %w", r.KID, err)
	}
	priv, ok := jwk.Key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: key %s is a %T, want an Ed25519 private key", r.KID, jwk.Key)
	}
	k, err := newSigningKey(priv, r)
	if err != nil {
		return nil, err
	}
	if k.KID != r.KID || jwk.KeyID != r.KID {
		return nil, fmt.Errorf("auth: key file %s holds key %s (kid %q)", r.KID, k.KID, jwk.KeyID)
	}
	return k, nil
}

// newSigningKey returns the in-memory key for priv. If r has no kid, the
// key's thumbprint becomes its kid; otherwise the thumbprint is computed
// into the returned key's KID for the caller to compare.
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

// removeStrays deletes the key files the keys in memory do not name and
// the temporary files a crash left behind.
func (ks *KeyStore) removeStrays() error {
	entries, err := os.ReadDir(ks.dir)
	if err != nil {
		return fmt.Errorf("auth: list key directory: %w", err)
	}
	var first error
	for _, e := range entries {
		name := e.Name()
		kid, isKey := strings.CutSuffix(name, keyFileSuffix)
		stray := strings.HasPrefix(name, tempFilePrefix) ||
			isKey && !slices.ContainsFunc(ks.keys, func(k *signingKey) bool { return k.KID == kid })
		if !stray || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(ks.dir, name)); err != nil && first == nil {
			first = fmt.Errorf("auth: delete old key: %w", err)
		}
	}
	return first
}

// keyPath returns the path of the key file for kid.
func (ks *KeyStore) keyPath(kid string) string {
	return filepath.Join(ks.dir, kid+keyFileSuffix)
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

// readPrivateFile reads a regular file that only its owner may access.
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

// writeFileAtomic replaces dir/name with data, mode 0600: it writes a
// temporary file, syncs it, renames it into place and syncs the directory.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tempFilePrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory.
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
