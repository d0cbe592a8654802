package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/storage"
)

// kids returns the key ids of the store's JWKS, in order.
func kids(ks *KeyStore) []string {
	var out []string
	for _, k := range ks.JWKS().Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// storedKIDs returns the kids the database holds, oldest first.
func storedKIDs(tb testing.TB, db storage.SigningKeys) []string {
	tb.Helper()
	rows, err := db.List(context.Background(), AccessTokenKeys)
	require.NoError(tb, err)
	var out []string
	for _, r := range rows {
		out = append(out, r.KID)
	}
	return out
}

func openKeys(db storage.SigningKeys, kek *KEK, cfg TokenConfig, opts KeyStoreOptions) (*KeyStore, error) {
	if opts.Logger == nil {
		opts.Logger = discardLog
	}
	return OpenKeyStore(context.Background(), db, kek, cfg, opts)
}

func TestOpenKeyStore(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		ks, db := MustOpenKeyStore(t, TokenConfig{})
		set := ks.JWKS()
		require.Len(t, set.Keys, 1)
		k := set.Keys[0]
		assert.True(t, k.IsPublic())
		assert.True(t, k.Valid())
		assert.Equal(t, "EdDSA", k.Algorithm)
		assert.Equal(t, "sig", k.Use)
		assert.True(t, validKID(k.KeyID))
		assert.Equal(t, []string{k.KeyID}, storedKIDs(t, db))

		doc, err := ks.JWKSJSON()
		require.NoError(t, err)
		var raw struct {
			Keys []map[string]any `json:"keys"`
		}
		require.NoError(t, json.Unmarshal(doc, &raw))
		require.Len(t, raw.Keys, 1)
		assert.Equal(t, "OKP", raw.Keys[0]["kty"])
		assert.Equal(t, "Ed25519", raw.Keys[0]["crv"])
		assert.NotContains(t, raw.Keys[0], "d", "no private key material")
	})

	t.Run("SealedAtRest", func(t *testing.T) {
		ks, db := MustOpenKeyStore(t, TokenConfig{})
		_, priv := ks.activeKey()
		rows, err := db.List(ctx, AccessTokenKeys)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		r := rows[0]
		assert.Equal(t, AccessTokenKeys, r.Purpose)
		assert.Equal(t, []byte(priv.Public().(ed25519.PublicKey)), r.PublicKey)
		assert.False(t, bytes.Contains(r.SealedPrivateKey, priv.Seed()), "the private key is not stored in the clear")
		assert.Len(t, r.SealedPrivateKey, 1+12+ed25519.SeedSize+16, "version, nonce, sealed seed, tag")
	})

	t.Run("Reopen", func(t *testing.T) {
		ks, db := MustOpenKeyStore(t, TokenConfig{})
		kid, priv := ks.activeKey()
		again, err := openKeys(db, testKEK, TokenConfig{}, KeyStoreOptions{})
		require.NoError(t, err)
		kid2, priv2 := again.activeKey()
		assert.Equal(t, kid, kid2)
		assert.True(t, priv.Equal(priv2))
		assert.Equal(t, ks.JWKS(), again.JWKS())
	})

	t.Run("ErrWrongKEK", func(t *testing.T) {
		ks, db := MustOpenKeyStore(t, TokenConfig{})
		kid, _ := ks.activeKey()
		_, err := openKeys(db, GenerateKEK(), TokenConfig{}, KeyStoreOptions{})
		require.Error(t, err)
		assert.ErrorContains(t, err, "signing key "+kid+" does not open with this key-encryption key")
		assert.Equal(t, []string{kid}, storedKIDs(t, db), "nothing replaced")
	})

	t.Run("ErrTamperedRow", func(t *testing.T) {
		// Rows copied into another database with one thing changed.
		src, db := MustOpenKeyStore(t, TokenConfig{})
		_, err := src.Rotate(ctx)
		require.NoError(t, err)
		rows, err := db.List(ctx, AccessTokenKeys)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		for name, change := range map[string]func([]storage.SigningKey){
			"flipped bit": func(r []storage.SigningKey) { r[1].SealedPrivateKey[20] ^= 1 },
			"swapped sealed": func(r []storage.SigningKey) {
				r[0].SealedPrivateKey, r[1].SealedPrivateKey = r[1].SealedPrivateKey, r[0].SealedPrivateKey
			},
			"other public":   func(r []storage.SigningKey) { r[1].PublicKey = r[0].PublicKey },
			"other purpose":  func(r []storage.SigningKey) { r[0].Purpose, r[1].Purpose = "other", "other" },
			"unknown format": func(r []storage.SigningKey) { r[1].SealedPrivateKey[0] = 9 },
			"truncated":      func(r []storage.SigningKey) { r[1].SealedPrivateKey = r[1].SealedPrivateKey[:20] },
		} {
			copied := make([]storage.SigningKey, len(rows))
			for i, r := range rows {
				r.SealedPrivateKey, r.PublicKey = bytes.Clone(r.SealedPrivateKey), bytes.Clone(r.PublicKey)
				copied[i] = r
			}
			change(copied)
			purpose := copied[0].Purpose
			dst := openSQLite(t, filepath.Join(t.TempDir(), "copy.db")).SigningKeys()
			_, err := dst.AddFirst(ctx, purpose, copied)
			require.NoError(t, err)
			if purpose == AccessTokenKeys {
				_, err = openKeys(dst, testKEK, TokenConfig{}, KeyStoreOptions{})
			} else {
				// Keys sealed for one purpose do not open as another's.
				ks := &KeyStore{kek: testKEK}
				_, err = ks.unseal(copied[1])
			}
			require.Error(t, err, name)
			assert.True(t, strings.Contains(err.Error(), "signing key "+copied[0].KID) || strings.Contains(err.Error(), "signing key "+copied[1].KID),
				"%s: %v names the key", name, err)
		}
	})

	t.Run("ErrConfig", func(t *testing.T) {
		db := openSQLite(t, filepath.Join(t.TempDir(), "shopscore.db")).SigningKeys()
		for _, cfg := range []TokenConfig{
			{AccessTTL: MaxAccessTTL + time.Second},
			{AccessTTL: -time.Minute},
			{Leeway: -time.Second},
			{Leeway: MaxLeeway + time.Second},
		} {
			_, err := openKeys(db, testKEK, cfg, KeyStoreOptions{})
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%+v: %v", cfg, err)
		}
		assert.Empty(t, storedKIDs(t, db))
		_, err := openKeys(db, nil, TokenConfig{}, KeyStoreOptions{})
		assert.ErrorContains(t, err, "key-encryption key")
		_, err = openKeys(db, testKEK, TokenConfig{AccessTTL: MaxAccessTTL}, KeyStoreOptions{})
		assert.NoError(t, err)
	})
}

// writeKeyDir writes keys as an older build kept them in dir: one JWK
// file each and state.json; the last key is the active one.
func writeKeyDir(tb testing.TB, dir string, keys []*signingKey) {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(dir, 0o700))
	st := keyState{Version: stateVersion, Active: keys[len(keys)-1].KID}
	for _, k := range keys {
		b, err := (&jose.JSONWebKey{Key: k.priv, KeyID: k.KID, Algorithm: string(jose.EdDSA), Use: "sig"}).MarshalJSON()
		require.NoError(tb, err)
		require.NoError(tb, os.WriteFile(filepath.Join(dir, k.KID+keyFileSuffix), b, 0o600))
		st.Keys = append(st.Keys, k.keyRecord)
	}
	b, err := json.Marshal(st)
	require.NoError(tb, err)
	require.NoError(tb, os.WriteFile(filepath.Join(dir, stateFileName), b, 0o600))
}

func TestOpenKeyStore_ImportsTheKeyFolder(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	cfg := TokenConfig{Now: clock.Now}
	oldKeys := func(t *testing.T) (string, []*signingKey) {
		retired := clock.Now().Add(-time.Minute)
		k1, err := generateKey(clock.Now().Add(-time.Hour))
		require.NoError(t, err)
		k1.Retired = &retired
		k2, err := generateKey(retired)
		require.NoError(t, err)
		dir := filepath.Join(t.TempDir(), "keys")
		writeKeyDir(t, dir, []*signingKey{k1, k2})
		return dir, []*signingKey{k1, k2}
	}

	t.Run("OK", func(t *testing.T) {
		dir, keys := oldKeys(t)
		// A token the old server signed with the retired key, still valid.
		old := &KeyStore{keys: keys, cfg: cfg.withDefaults(), loadedAt: clock.Now(), reload: time.Hour}
		old.rebuildLocked(clock.Now())
		retiredSigned := signCompact(t, keys[0].priv, map[string]any{"alg": "EdDSA", "kid": keys[0].KID, "typ": AccessTokenType},
			map[string]any{"iss": DefaultIssuer, "aud": DefaultAudience, "sub": "u", "iat": clock.Now().Add(-2 * time.Minute).Unix(),
				"exp": clock.Now().Add(5 * time.Minute).Unix(), "jti": "j", "role": "admin", "sid": "s"})

		var logs bytes.Buffer
		db := openSQLite(t, filepath.Join(t.TempDir(), "shopscore.db")).SigningKeys()
		ks, err := OpenKeyStore(ctx, db, testKEK, cfg, KeyStoreOptions{ImportDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		assert.Contains(t, logs.String(), "imported the signing keys")
		assert.Contains(t, logs.String(), "keys=2")
		assert.Equal(t, []string{keys[0].KID, keys[1].KID}, storedKIDs(t, db), "every key, none lost")
		kid, priv := ks.activeKey()
		assert.Equal(t, keys[1].KID, kid, "the active key stays active")
		assert.True(t, priv.Equal(keys[1].priv))
		assert.Equal(t, []string{keys[1].KID, keys[0].KID}, kids(ks))
		_, err = ks.Verifier(cfg).Verify(retiredSigned)
		assert.NoError(t, err, "a token of the retired key still verifies")
		assert.FileExists(t, filepath.Join(dir, stateFileName), "the folder is left as it was")

		// Once the database has keys, the folder is not read again.
		logs.Reset()
		writeKeyDir(t, dir, []*signingKey{keys[1]})
		require.NoError(t, os.WriteFile(filepath.Join(dir, stateFileName), []byte("{"), 0o600))
		again, err := OpenKeyStore(ctx, db, testKEK, cfg, KeyStoreOptions{ImportDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		assert.Empty(t, logs.String())
		assert.Equal(t, kids(ks), kids(again))
	})

	t.Run("NoFolder", func(t *testing.T) {
		var logs bytes.Buffer
		db := openSQLite(t, filepath.Join(t.TempDir(), "shopscore.db")).SigningKeys()
		_, err := OpenKeyStore(ctx, db, testKEK, cfg, KeyStoreOptions{ImportDir: filepath.Join(t.TempDir(), "keys"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		assert.Contains(t, logs.String(), "made the first signing key")
		assert.Len(t, storedKIDs(t, db), 1)
	})

	t.Run("ErrBadFolder", func(t *testing.T) {
		for name, spoil := range map[string]func(dir string, keys []*signingKey){
			"garbage state": func(dir string, _ []*signingKey) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, stateFileName), []byte("{"), 0o600))
			},
			"missing key": func(dir string, keys []*signingKey) {
				require.NoError(t, os.Remove(filepath.Join(dir, keys[0].KID+keyFileSuffix)))
			},
			"swapped key": func(dir string, keys []*signingKey) {
				b, err := os.ReadFile(filepath.Join(dir, keys[0].KID+keyFileSuffix))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, keys[1].KID+keyFileSuffix), b, 0o600))
			},
			"insecure folder": func(dir string, _ []*signingKey) {
				if runtime.GOOS != "windows" {
					require.NoError(t, os.Chmod(dir, 0o755))
				}
			},
		} {
			if name == "insecure folder" && runtime.GOOS == "windows" {
				continue
			}
			dir, _ := oldKeys(t)
			spoil(dir, func() []*signingKey { _, k := oldKeysOf(t, dir); return k }())
			db := openSQLite(t, filepath.Join(t.TempDir(), "shopscore.db")).SigningKeys()
			_, err := openKeys(db, testKEK, cfg, KeyStoreOptions{ImportDir: dir})
			assert.ErrorContains(t, err, "import the signing keys of "+dir, name)
			assert.Empty(t, storedKIDs(t, db), "%s: nothing stored, nothing made in its place", name)
		}
	})
}

// oldKeysOf reads the keys written in dir back, ignoring errors (the
// test spoils the folder afterwards).
func oldKeysOf(t *testing.T, dir string) (string, []*signingKey) {
	keys, err := readKeyDir(dir)
	require.NoError(t, err)
	return dir, keys
}

func TestKeyStore_Rotate(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		f := newTokenFixture(t)
		retention := f.cfg.withDefaults().retention()
		oldKID, _ := f.ks.activeKey()
		before, _ := f.issue(t)

		f.clock.Advance(time.Minute)
		newKID, err := f.ks.Rotate(ctx)
		require.NoError(t, err)
		require.NotEqual(t, oldKID, newKID)
		active, _ := f.ks.activeKey()
		assert.Equal(t, newKID, active)
		assert.Equal(t, []string{newKID, oldKID}, kids(f.ks), "the active key first")

		after, _ := f.issue(t)
		assert.Equal(t, newKID, tokenKID(t, after))
		_, err = f.verifier.Verify(after)
		require.NoError(t, err)
		_, err = f.verifier.Verify(before)
		require.NoError(t, err, "a token signed before rotation still verifies")

		// The token from before the rotation expires (beyond leeway) before
		// its key leaves the JWKS.
		f.clock.Advance(retention - time.Minute) // the token's exp + leeway
		assert.Equal(t, []string{newKID, oldKID}, kids(f.ks))
		_, err = f.verifier.Verify(before)
		require.NoError(t, err)

		f.clock.Advance(time.Second)
		_, err = f.verifier.Verify(before)
		requireUnauthorized(t, err, "expired")

		f.clock.Advance(time.Minute - 2*time.Second)
		assert.Equal(t, []string{newKID, oldKID}, kids(f.ks), "kept until AccessTTL+Leeway after retirement")
		require.NoError(t, f.ks.Prune(ctx))
		assert.ElementsMatch(t, []string{oldKID, newKID}, storedKIDs(t, f.db))

		f.clock.Advance(time.Second)
		assert.Equal(t, []string{newKID}, kids(f.ks), "no longer published once AccessTTL+Leeway has passed")
		require.NoError(t, f.ks.Prune(ctx))
		assert.Equal(t, []string{newKID}, storedKIDs(t, f.db), "and deleted from the database by Prune")
		_, err = f.verifier.Verify(before)
		requireUnauthorized(t, err, "unknown kid")
		_, err = f.verifier.Verify(after)
		require.NoError(t, err)
	})

	t.Run("Twice", func(t *testing.T) {
		f := newTokenFixture(t)
		k1, _ := f.ks.activeKey()
		t1, _ := f.issue(t)
		k2, err := f.ks.Rotate(ctx)
		require.NoError(t, err)
		t2, _ := f.issue(t)
		f.clock.Advance(time.Minute)
		k3, err := f.ks.Rotate(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{k3, k2, k1}, kids(f.ks))
		for _, token := range []string{t1, t2} {
			_, err := f.verifier.Verify(token)
			require.NoError(t, err)
		}

		// k1 was retired a minute before k2.
		f.clock.Advance(f.cfg.withDefaults().retention() - time.Minute)
		assert.Equal(t, []string{k3, k2}, kids(f.ks))
		f.clock.Advance(time.Minute)
		assert.Equal(t, []string{k3}, kids(f.ks))
		k4, err := f.ks.Rotate(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{k3, k4}, storedKIDs(t, f.db), "a rotation prunes too")
	})

	t.Run("InTheDatabase", func(t *testing.T) {
		f := newTokenFixture(t)
		oldKID, _ := f.ks.activeKey()
		newKID, err := f.ks.Rotate(ctx)
		require.NoError(t, err)
		rows, err := f.db.List(ctx, AccessTokenKeys)
		require.NoError(t, err)
		require.Len(t, rows, 2)
		byKID := map[string]storage.SigningKey{rows[0].KID: rows[0], rows[1].KID: rows[1]}
		require.Contains(t, byKID, oldKID)
		require.Contains(t, byKID, newKID)
		assert.True(t, byKID[oldKID].RetiredAt.Equal(f.clock.Now()), "retired when the new one was made")
		assert.True(t, byKID[newKID].RetiredAt.IsZero())
		assert.True(t, byKID[newKID].CreatedAt.Equal(f.clock.Now()))
	})
}

// TestKeyStore_StartingAtOnce: servers starting at once on an empty
// database store one first key between them.
func TestKeyStore_StartingAtOnce(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shopscore.db")
		testStartingAtOnce(t, func() storage.SigningKeys { return openSQLite(t, path).SigningKeys() })
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := pgtest.URL(t)
		testStartingAtOnce(t, func() storage.SigningKeys {
			db, err := postgres.Open(context.Background(), url)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db.SigningKeys()
		})
	})
}

func testStartingAtOnce(t *testing.T, open func() storage.SigningKeys) {
	const servers = 4
	dbs := make([]storage.SigningKeys, servers)
	for i := range servers {
		dbs[i] = open()
	}
	stores := make([]*KeyStore, servers)
	errs := make([]error, servers)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() { stores[i], errs[i] = openKeys(dbs[i], testKEK, TokenConfig{}, KeyStoreOptions{}) })
	}
	wg.Wait()
	for i := range servers {
		require.NoError(t, errs[i], "server %d", i)
	}
	first, _ := stores[0].activeKey()
	for i := range servers {
		kid, _ := stores[i].activeKey()
		assert.Equal(t, first, kid, "one first key for every server")
	}
	assert.Equal(t, []string{first}, storedKIDs(t, dbs[0]))
}

// TestKeyStore_TwoServers plays two servers on one database: a key
// rotated on one verifies on the other at once (an unknown kid makes it
// read the database) and signs there within the reload interval.
func TestKeyStore_TwoServers(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shopscore.db")
		testTwoServers(t, openSQLite(t, path).SigningKeys(), openSQLite(t, path).SigningKeys())
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := pgtest.URL(t)
		open := func() storage.SigningKeys {
			db, err := postgres.Open(context.Background(), url)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db.SigningKeys()
		}
		testTwoServers(t, open(), open())
	})
}

func testTwoServers(t *testing.T, dbA, dbB storage.SigningKeys) {
	ctx := context.Background()
	clock := newFakeClock()
	cfg := TokenConfig{Now: clock.Now}
	const reload = 3 * time.Second
	a, err := openKeys(dbA, testKEK, cfg, KeyStoreOptions{Reload: reload})
	require.NoError(t, err)
	b, err := openKeys(dbB, testKEK, cfg, KeyStoreOptions{Reload: reload})
	require.NoError(t, err)
	first, _ := a.activeKey()
	firstB, _ := b.activeKey()
	require.Equal(t, first, firstB, "one key for both")
	issueA, issueB := NewIssuer(a, cfg), NewIssuer(b, cfg)
	verifyA, verifyB := a.Verifier(cfg), b.Verifier(cfg)

	clock.Advance(time.Second)
	rotated, err := a.Rotate(ctx)
	require.NoError(t, err)
	tokenA, _, err := issueA.IssueAccess("u", "admin", "s")
	require.NoError(t, err)
	assert.Equal(t, rotated, tokenKID(t, tokenA))

	// B has not read the database since; the new kid makes it.
	_, err = verifyB.Verify(tokenA)
	require.NoError(t, err, "the other server verifies the new key's token at once")
	assert.Equal(t, []string{rotated, first}, kids(b))

	// B signs with the new key within the interval.
	clock.Advance(reload)
	tokenB, _, err := issueB.IssueAccess("u", "admin", "s")
	require.NoError(t, err)
	assert.Equal(t, rotated, tokenKID(t, tokenB), "the other server signs with the new key")
	_, err = verifyA.Verify(tokenB)
	require.NoError(t, err)

	// A rotation B only learns of by its interval.
	clock.Advance(time.Second)
	again, err := a.Rotate(ctx)
	require.NoError(t, err)
	kid, _ := b.activeKey()
	assert.Equal(t, rotated, kid, "before the interval: the key B read")
	clock.Advance(reload)
	kid, _ = b.activeKey()
	assert.Equal(t, again, kid, "after the interval: the new one")
	assert.Equal(t, kids(a), kids(b))

	// Made-up kids do not make every request a query.
	bogus := signCompact(t, newAttackerKey(t), map[string]any{"alg": "EdDSA", "kid": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "typ": AccessTokenType},
		map[string]any{"sub": "u"})
	for range 3 {
		_, err = verifyB.Verify(bogus)
		requireUnauthorized(t, err, "unknown kid")
	}
	b.mu.RLock()
	missAt := b.missAt
	b.mu.RUnlock()
	assert.Equal(t, clock.Now(), missAt, "one reload for the first, none for the rest within a second")
}

// tokenKID returns the kid header of a compact JWS.
func tokenKID(tb testing.TB, token string) string {
	tb.Helper()
	h, _, _ := splitToken(tb, token)
	var header struct {
		KID string `json:"kid"`
	}
	require.NoError(tb, json.Unmarshal(mustB64Decode(tb, h), &header))
	return header.KID
}
