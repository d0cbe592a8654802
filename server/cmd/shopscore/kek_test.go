package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
)

// TestCheckKEK is the rule between the backend and the key-encryption
// key: PostgreSQL, shared by several servers, needs one given
// explicitly; SQLite makes its own in the data folder.
func TestCheckKEK(t *testing.T) {
	kek := auth.GenerateKEK()
	for _, database := range []string{"", "data/shopscore.db", "/var/lib/shopscore/shopscore.db", "file:shopscore.db"} {
		assert.NoError(t, checkKEK(database, nil), "SQLite %q: the data folder's key will do", database)
		assert.NoError(t, checkKEK(database, kek))
	}
	for _, database := range []string{"postgres://shopscore@db.example.com/shopscore", "postgresql://db/shopscore?sslmode=require", "POSTGRES://db/x"} {
		err := checkKEK(database, nil)
		require.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%s: %v", database, err)
		assert.Contains(t, err.Error(), "SHOPSCORE_KEY_ENCRYPTION_KEY")
		assert.Contains(t, err.Error(), "--key-encryption-key-file")
		assert.NotContains(t, err.Error(), "db.example.com", "the URL (and its password) is not repeated")
		assert.NoError(t, checkKEK(database, kek), "%s with a key", database)
	}
}

// TestCommands_KeyEncryptionKey: the key from the environment or a file
// seals the signing keys, and no key is made in the data folder; a wrong
// key later is a clear error naming the signing key; a bad or doubled
// setting is refused before anything is created.
func TestCommands_KeyEncryptionKey(t *testing.T) {
	addUser := func(dir string, env map[string]string, email string, flags ...string) (int, string) {
		env["SHOPSCORE_PASSWORD"] = "a long password"
		args := append([]string{"user", "add", "--data", dir, "--email", email, "--role", "hr"}, flags...)
		code, _, stderr := shopscore(t, env, args...)
		return code, stderr
	}
	kek := auth.GenerateKEK()

	t.Run("Environment", func(t *testing.T) {
		dir := t.TempDir()
		code, stderr := addUser(dir, map[string]string{kekVar: kek.Text()}, "a@example.com")
		require.Equal(t, 0, code, stderr)
		assert.NoFileExists(t, filepath.Join(dir, server.KEKFileName))
		code, stderr = addUser(dir, map[string]string{kekVar: " " + kek.Text() + "\n"}, "b@example.com")
		require.Equal(t, 0, code, stderr)

		code, stderr = addUser(dir, map[string]string{kekVar: auth.GenerateKEK().Text()}, "c@example.com")
		assert.Equal(t, 1, code)
		assert.Regexp(t, `signing key \S{43} does not open with this key-encryption key`, stderr)
		code, stderr = addUser(dir, map[string]string{}, "d@example.com")
		assert.Equal(t, 1, code, "nor with the one a data folder would make")
		assert.Contains(t, stderr, "does not open with this key-encryption key")
	})

	t.Run("File", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(t.TempDir(), "kek")
		require.NoError(t, os.WriteFile(path, []byte(kek.Text()+"\n"), 0o600))
		code, stderr := addUser(dir, map[string]string{}, "a@example.com", "--key-encryption-key-file", path)
		require.Equal(t, 0, code, stderr)
		code, stderr = addUser(dir, map[string]string{"SHOPSCORE_KEY_ENCRYPTION_KEY_FILE": path}, "b@example.com")
		require.Equal(t, 0, code, stderr)
		code, stderr = addUser(dir, map[string]string{kekVar: kek.Text()}, "c@example.com")
		require.Equal(t, 0, code, "the same key from the environment: %s", stderr)
		assert.NoFileExists(t, filepath.Join(dir, server.KEKFileName))
	})

	t.Run("DataFolder", func(t *testing.T) {
		dir := t.TempDir()
		code, stderr := addUser(dir, map[string]string{}, "a@example.com")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "made a key-encryption key")
		made, err := auth.ReadKEKFile(filepath.Join(dir, server.KEKFileName))
		require.NoError(t, err)
		code, stderr = addUser(dir, map[string]string{kekVar: made.Text()}, "b@example.com")
		require.Equal(t, 0, code, "the data folder's key, given explicitly: %s", stderr)
	})

	t.Run("Errors", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kek")
		require.NoError(t, os.WriteFile(path, []byte(kek.Text()), 0o600))
		for name, c := range map[string]struct {
			env   map[string]string
			flags []string
			want  string
		}{
			"both":       {map[string]string{kekVar: kek.Text()}, []string{"--key-encryption-key-file", path}, "both set"},
			"bad text":   {map[string]string{kekVar: "not-a-key-at-all"}, nil, kekVar + ": invalid: a key-encryption key is the base64 of 32"},
			"short":      {map[string]string{kekVar: "c2hvcnQ="}, nil, "this is 5 bytes"},
			"no file":    {map[string]string{}, []string{"--key-encryption-key-file", path + ".missing"}, "no such file"},
			"empty file": {map[string]string{}, []string{"--key-encryption-key-file", os.DevNull}, "not a regular file"},
		} {
			dir := t.TempDir()
			code, stderr := addUser(dir, c.env, "a@example.com", c.flags...)
			assert.Equal(t, 1, code, name)
			assert.Contains(t, stderr, c.want, name)
			assert.NotContains(t, stderr, "not-a-key-at-all", "%s: the text is not repeated", name)
			assert.Empty(t, files(t, dir), "%s: nothing created", name)
			assert.Equal(t, 1, strings.Count(stderr, "shopscore: "), name)
		}
	})
}
