package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server/sqlite"
)

// shopscore runs a command line as main does and returns its exit status
// and output.
func shopscore(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	code := cli.Exit(&stdout, &stderr, "shopscore", err, nil)
	return code, stdout.String(), stderr.String()
}

// files lists what dir holds, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			out = append(out, rel)
		}
		return nil
	}))
	return out
}

// TestCommands_Flags: every command has its own flags; a flag of another
// command is refused with the command's usage, and flags may follow the
// arguments.
func TestCommands_Flags(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"user list takes no --publish": {[]string{"user", "list", "--data", dir, "--publish", "--name", "foo"},
			[]string{"shopscore: shopscore user list: flag provided but not defined: -publish", "usage: shopscore user list"}},
		"user list takes no arguments": {[]string{"user", "list", "--data", dir, "everyone"},
			[]string{`unexpected arguments ["everyone"]`, "usage: shopscore user list"}},
		"serve takes no --email": {[]string{"serve", "--email", "a@b.c"},
			[]string{"flag provided but not defined: -email", "usage: shopscore serve"}},
		"report audit takes no --run": {[]string{"report", "audit", "--run", "x", "-o", "a.xlsx"},
			[]string{"flag provided but not defined: -run", "usage: shopscore report audit"}},
		"audit needs -o": {[]string{"report", "audit", "--from", "2026-10"},
			[]string{"-o FILE.xlsx is required", "usage: shopscore report audit"}},
		"standards import needs a file": {[]string{"standards", "import", "--publish"},
			[]string{"give exactly one FILE", "usage: shopscore standards import"}},
		"no command":          {nil, []string{"shopscore: no command given", "usage: shopscore <command>"}},
		"unknown command":     {[]string{"dance"}, []string{`unknown command "dance"`, "usage: shopscore <command>"}},
		"user without sub":    {[]string{"user"}, []string{"user: want a subcommand", "user list"}},
		"report unknown":      {[]string{"report", "dance"}, []string{`report: unknown command "dance"`, "usage: shopscore report"}},
		"report bonus nosuch": {[]string{"report", "bonus", "skip"}, []string{`report bonus: unknown command "skip"`, "bonus approve"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := shopscore(t, nil, tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Empty(t, stdout)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
	assert.Empty(t, files(t, dir), "refused command lines create nothing")

	t.Run("help", func(t *testing.T) {
		code, stdout, stderr := shopscore(t, nil, "user", "add", "-h")
		assert.Equal(t, 0, code)
		assert.Empty(t, stderr)
		assert.Contains(t, stdout, "usage: shopscore user add --email E")
		assert.Contains(t, stdout, "-role")
		assert.NotContains(t, stdout, "-publish")
	})
	t.Run("flags after the arguments", func(t *testing.T) {
		pack := filepath.Join("..", "..", "..", "audit", "demopack", "demo-pack.json")
		code, stdout, stderr := shopscore(t, nil, "standards", "import", pack, "--data", dir, "--publish")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "published")
		assert.NotContains(t, stdout, "Drafts saved")
	})
}

// TestUserList_ReadOnly: user list opens the database read-only and
// creates nothing: no database where there is none, no signing keys and
// no key-encryption key where there is one.
func TestUserList_ReadOnly(t *testing.T) {
	empty := t.TempDir()
	code, _, stderr := shopscore(t, nil, "user", "list", "--data", empty)
	assert.Equal(t, 1, code)
	assert.Equal(t, "shopscore: not_found: no database at "+filepath.Join(empty, "shopscore.db")+"\n", stderr)
	assert.Empty(t, files(t, empty))

	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "shopscore.db"))
	require.NoError(t, db.Open())
	require.NoError(t, db.Close())
	before := files(t, dir)
	code, stdout, stderr := shopscore(t, nil, "user", "list", "--data", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "EMAIL")
	assert.Equal(t, before, files(t, dir), "user list creates no key-encryption key and no signing key")

	// A user added by the writing command is listed.
	code, _, stderr = shopscore(t, map[string]string{"SHOPSCORE_PASSWORD": "a long password"}, "user", "add", "--data", dir,
		"--email", "ann@example.com", "--role", "hr", "--name", "Ann")
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = shopscore(t, nil, "user", "list", "--data", dir)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `ann@example.com\s+hr\s+Ann\s+active`, stdout)
}

// TestCommands_OnePrefix: a domain error is printed under one
// "shopscore:" prefix, not two.
func TestCommands_OnePrefix(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := shopscore(t, map[string]string{"SHOPSCORE_PASSWORD": "a long password"},
		"user", "add", "--data", dir, "--email", "bob@example.com", "--role", "boss")
	assert.Equal(t, 1, code)
	// The lines before are the first start's log (a key-encryption key
	// and a signing key made).
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	assert.True(t, strings.HasPrefix(lines[len(lines)-1], "shopscore: invalid: "), stderr)
	assert.Equal(t, 1, strings.Count(stderr, "shopscore:"), stderr)
}
