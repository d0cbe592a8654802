package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func TestParseKEK(t *testing.T) {
	raw := make([]byte, KEKLen)
	rand.Read(raw)
	text := base64.StdEncoding.EncodeToString(raw)
	for _, s := range []string{text, " " + text + "\n", strings.TrimRight(text, "=")} {
		k, err := ParseKEK(s)
		require.NoError(t, err, "%q", s)
		assert.Equal(t, text, k.Text())
	}
	for name, s := range map[string]string{
		"empty":     "",
		"not b64":   "this is not base64 at all!",
		"too short": base64.StdEncoding.EncodeToString(raw[:16]),
		"too long":  base64.StdEncoding.EncodeToString(append(raw, 1)),
	} {
		_, err := ParseKEK(s)
		require.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%s: %v", name, err)
		if s != "" {
			assert.NotContains(t, err.Error(), s, "%s: the text is never repeated", name)
		}
	}
	_, err := NewKEK(raw[:31])
	assert.Equal(t, audit.EINVALID, audit.ErrorCode(err))

	k, err := ParseKEK(text)
	require.NoError(t, err)
	for _, printed := range []string{k.String(), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		assert.NotContains(t, printed, text)
		assert.Contains(t, printed, "redacted")
	}
}

func TestKEK_Seal(t *testing.T) {
	k := GenerateKEK()
	plain := []byte("thirty-two bytes of a seed here!")
	sealed := k.seal("access-token", "kid-1", plain)
	assert.False(t, bytes.Contains(sealed, plain))
	assert.NotEqual(t, sealed, k.seal("access-token", "kid-1", plain), "a fresh nonce each time")
	got, err := k.open("access-token", "kid-1", sealed)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
	for name, try := range map[string]func() ([]byte, error){
		"other kid":     func() ([]byte, error) { return k.open("access-token", "kid-2", sealed) },
		"other purpose": func() ([]byte, error) { return k.open("webhook", "kid-1", sealed) },
		"other KEK":     func() ([]byte, error) { return GenerateKEK().open("access-token", "kid-1", sealed) },
	} {
		got, err := try()
		assert.Nil(t, got, name)
		assert.ErrorContains(t, err, "signing key kid-", name)
	}
}

func TestKEK_Derive(t *testing.T) {
	k := GenerateKEK()
	same, err := ParseKEK(k.Text())
	require.NoError(t, err)
	a := k.Derive("local blob URLs", 32)
	assert.Len(t, a, 32)
	assert.Equal(t, a, same.Derive("local blob URLs", 32), "every server derives the same secret")
	assert.NotEqual(t, a, k.Derive("login limit keys", 32), "labels give independent secrets")
	assert.NotEqual(t, a, GenerateKEK().Derive("local blob URLs", 32))
	assert.False(t, bytes.Contains(a, k.raw[:8]))
}

func TestLoadOrCreateKEKFile(t *testing.T) {
	t.Run("CreateThenRead", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "key-encryption.key")
		k, created, err := LoadOrCreateKEKFile(path)
		require.NoError(t, err)
		assert.True(t, created)
		if runtime.GOOS != "windows" {
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			di, err := os.Stat(filepath.Dir(path))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, k.Text()+"\n", string(b), "the same text SHOPSCORE_KEY_ENCRYPTION_KEY takes")

		again, created, err := LoadOrCreateKEKFile(path)
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, k.Text(), again.Text())
		entries, err := os.ReadDir(filepath.Dir(path))
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temporary file left")
	})

	t.Run("AtOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key-encryption.key")
		const n = 8
		texts := make([]string, n)
		made := make([]bool, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k, created, err := LoadOrCreateKEKFile(path)
				if assert.NoError(t, err) {
					texts[i], made[i] = k.Text(), created
				}
			})
		}
		wg.Wait()
		count := 0
		for i := range n {
			assert.Equal(t, texts[0], texts[i], "one key between them")
			if made[i] {
				count++
			}
		}
		assert.Equal(t, 1, count)
	})

	t.Run("Errors", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.key")
		require.NoError(t, os.WriteFile(bad, []byte("short\n"), 0o600))
		_, _, err := LoadOrCreateKEKFile(bad)
		assert.ErrorContains(t, err, bad)
		b, _ := os.ReadFile(bad)
		assert.Equal(t, "short\n", string(b), "a bad file is never replaced")

		if runtime.GOOS != "windows" {
			open := filepath.Join(dir, "open.key")
			require.NoError(t, os.WriteFile(open, []byte(GenerateKEK().Text()), 0o644))
			require.NoError(t, os.Chmod(open, 0o644))
			_, err := ReadKEKFile(open)
			assert.ErrorContains(t, err, "other users")
		}
		_, err = ReadKEKFile(filepath.Join(dir, "missing.key"))
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}
