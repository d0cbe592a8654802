package auth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// kids returns the key ids of the store's JWKS, in order.
func kids(ks *KeyStore) []string {
	var out []string
	for _, k := range ks.JWKS().Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// keyFiles returns the names of the key files in dir.
func keyFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+keyFileSuffix))
	require.NoError(tb, err)
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(filepath.Base(m), keyFileSuffix))
	}
	return out
}

func TestOpenKeyStore(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		set := ks.JWKS()
		require.Len(t, set.Keys, 1)
		k := set.Keys[0]
		assert.True(t, k.IsPublic())
		assert.True(t, k.Valid())
		assert.Equal(t, "EdDSA", k.Algorithm)
		assert.Equal(t, "sig", k.Use)
		assert.True(t, validKID(k.KeyID))
		assert.Equal(t, []string{k.KeyID}, keyFiles(t, dir))

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

	t.Run("Permissions", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		_, dir := MustOpenKeyStore(t, TokenConfig{})
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 2, "one key and the state")
		for _, e := range entries {
			fi, err := e.Info()
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), e.Name())
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		kid, priv := ks.activeKey()

		again, err := OpenKeyStore(dir, TokenConfig{})
		require.NoError(t, err)
		kid2, priv2 := again.activeKey()
		assert.Equal(t, kid, kid2)
		assert.True(t, priv.Equal(priv2))
		assert.Equal(t, ks.JWKS(), again.JWKS())
	})

	t.Run("ReopenAfterRotate", func(t *testing.T) {
		clock := newFakeClock()
		cfg := TokenConfig{Now: clock.Now}
		ks, dir := MustOpenKeyStore(t, cfg)
		oldKID, _ := ks.activeKey()
		newKID, err := ks.Rotate()
		require.NoError(t, err)

		again, err := OpenKeyStore(dir, cfg)
		require.NoError(t, err)
		assert.Equal(t, []string{newKID, oldKID}, kids(again))

		clock.Advance(cfg.withDefaults().retention())
		again, err = OpenKeyStore(dir, cfg)
		require.NoError(t, err)
		assert.Equal(t, []string{newKID}, kids(again))
		assert.Equal(t, []string{newKID}, keyFiles(t, dir), "the old key is deleted on open")
	})

	t.Run("ErrInsecureDir", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		dir := filepath.Join(t.TempDir(), "keys")
		require.NoError(t, os.Mkdir(dir, 0o755))
		require.NoError(t, os.Chmod(dir, 0o755))
		_, err := OpenKeyStore(dir, TokenConfig{})
		assert.ErrorContains(t, err, "other users")
	})

	t.Run("ErrInsecureKeyFile", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		kid, _ := ks.activeKey()
		require.NoError(t, os.Chmod(ks.keyPath(kid), 0o644))
		_, err := OpenKeyStore(dir, TokenConfig{})
		assert.ErrorContains(t, err, "other users")
	})

	t.Run("ErrSwappedKeyFile", func(t *testing.T) {
		// A key file that holds another key than its name says is refused.
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		oldKID, _ := ks.activeKey()
		newKID, err := ks.Rotate()
		require.NoError(t, err)
		b, err := os.ReadFile(ks.keyPath(oldKID))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(ks.keyPath(newKID), b, 0o600))
		_, err = OpenKeyStore(dir, TokenConfig{})
		assert.ErrorContains(t, err, "holds key")
	})

	t.Run("ErrMissingKeyFile", func(t *testing.T) {
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		kid, _ := ks.activeKey()
		require.NoError(t, os.Remove(ks.keyPath(kid)))
		_, err := OpenKeyStore(dir, TokenConfig{})
		assert.ErrorIs(t, err, os.ErrNotExist)
	})

	t.Run("ErrBadState", func(t *testing.T) {
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		kid, _ := ks.activeKey()
		state := filepath.Join(dir, stateFileName)
		for name, content := range map[string]string{
			"garbage":    "{",
			"version":    `{"version":2,"active":"` + kid + `","keys":[{"kid":"` + kid + `"}]}`,
			"no keys":    `{"version":1,"active":"` + kid + `","keys":[]}`,
			"path kid":   `{"version":1,"active":"../../etc/passwd","keys":[{"kid":"../../etc/passwd"}]}`,
			"not active": `{"version":1,"active":"other","keys":[{"kid":"` + kid + `"}]}`,
		} {
			require.NoError(t, os.WriteFile(state, []byte(content), 0o600))
			_, err := OpenKeyStore(dir, TokenConfig{})
			assert.Error(t, err, name)
		}
	})

	t.Run("StraysRemoved", func(t *testing.T) {
		ks, dir := MustOpenKeyStore(t, TokenConfig{})
		kid, _ := ks.activeKey()
		stray := filepath.Join(dir, strings.Repeat("A", 43)+keyFileSuffix)
		temp := filepath.Join(dir, tempFilePrefix+"123")
		other := filepath.Join(dir, "README")
		for _, p := range []string{stray, temp, other} {
			require.NoError(t, os.WriteFile(p, []byte("{}"), 0o600))
		}
		_, err := OpenKeyStore(dir, TokenConfig{})
		require.NoError(t, err)
		assert.NoFileExists(t, stray)
		assert.NoFileExists(t, temp)
		assert.FileExists(t, other, "only the store's own files are touched")
		assert.Equal(t, []string{kid}, keyFiles(t, dir))
	})

	t.Run("ErrConfig", func(t *testing.T) {
		dir := t.TempDir()
		for _, cfg := range []TokenConfig{
			{AccessTTL: MaxAccessTTL + time.Second},
			{AccessTTL: -time.Minute},
			{Leeway: -time.Second},
			{Leeway: MaxLeeway + time.Second},
		} {
			_, err := OpenKeyStore(filepath.Join(dir, "keys"), cfg)
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%+v: %v", cfg, err)
		}
		assert.NoDirExists(t, filepath.Join(dir, "keys"))
		_, err := OpenKeyStore(filepath.Join(dir, "keys"), TokenConfig{AccessTTL: MaxAccessTTL})
		assert.NoError(t, err)
	})
}

func TestKeyStore_Rotate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newTokenFixture(t)
		retention := f.cfg.withDefaults().retention()
		oldKID, _ := f.ks.activeKey()
		before, _ := f.issue(t)

		f.clock.Advance(time.Minute)
		newKID, err := f.ks.Rotate()
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
		assert.ElementsMatch(t, []string{newKID, oldKID}, keyFiles(t, f.ks.dir))

		f.clock.Advance(time.Second)
		assert.Equal(t, []string{newKID}, kids(f.ks), "pruned once AccessTTL+Leeway has passed")
		assert.Equal(t, []string{newKID}, keyFiles(t, f.ks.dir), "and deleted from disk")
		_, err = f.verifier.Verify(before)
		requireUnauthorized(t, err, "unknown kid")
		_, err = f.verifier.Verify(after)
		require.NoError(t, err)
	})

	t.Run("Twice", func(t *testing.T) {
		f := newTokenFixture(t)
		k1, _ := f.ks.activeKey()
		t1, _ := f.issue(t)
		k2, err := f.ks.Rotate()
		require.NoError(t, err)
		t2, _ := f.issue(t)
		f.clock.Advance(time.Minute)
		k3, err := f.ks.Rotate()
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
		assert.Equal(t, []string{k3}, keyFiles(t, f.ks.dir))
		require.NoError(t, f.ks.Prune())
	})

	t.Run("StateOnDisk", func(t *testing.T) {
		f := newTokenFixture(t)
		oldKID, _ := f.ks.activeKey()
		newKID, err := f.ks.Rotate()
		require.NoError(t, err)

		b, err := os.ReadFile(filepath.Join(f.ks.dir, stateFileName))
		require.NoError(t, err)
		var st keyState
		require.NoError(t, json.Unmarshal(b, &st))
		assert.Equal(t, newKID, st.Active)
		require.Len(t, st.Keys, 2)
		assert.Equal(t, oldKID, st.Keys[0].KID)
		require.NotNil(t, st.Keys[0].Retired)
		assert.True(t, st.Keys[0].Retired.Equal(f.clock.Now()))
		assert.Nil(t, st.Keys[1].Retired)
	})
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
