package main

import (
	neturl "net/url"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
)

// TestDatabase_Postgres: --database (or SHOPSCORE_DATABASE_URL) puts the
// commands on PostgreSQL: migrate applies and names the migrations, a
// user added there is listed from there and not from the data folder's
// SQLite, and a URL that is not PostgreSQL's is refused with its password
// hidden.
func TestDatabase_Postgres(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	kek := map[string]string{"SHOPSCORE_KEY_ENCRYPTION_KEY": auth.GenerateKEK().Text()}

	code, _, stderr := shopscore(t, nil, "migrate", "--data", dir, "--database", url)
	assert.Equal(t, 1, code, "PostgreSQL needs the key-encryption key given")
	assert.Contains(t, stderr, "SHOPSCORE_KEY_ENCRYPTION_KEY")

	code, stdout, stderr := shopscore(t, kek, "migrate", "--data", dir, "--database", url)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `^database postgres://[^@]+/shopscore_test_\w+ is at migration \d{4}_[\w.]+ \(\d+ applied\)\n$`, stdout)
	if u, err := neturl.Parse(url); err == nil {
		if pw, ok := u.User.Password(); ok {
			assert.NotContains(t, stdout, pw, "no password in the message")
		}
	}

	env := map[string]string{"SHOPSCORE_PASSWORD": "a long password", "SHOPSCORE_DATABASE_URL": url,
		"SHOPSCORE_KEY_ENCRYPTION_KEY": kek["SHOPSCORE_KEY_ENCRYPTION_KEY"]}
	code, _, stderr = shopscore(t, env, "user", "add", "--data", dir, "--email", "ann@example.com", "--role", "hr", "--name", "Ann")
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = shopscore(t, env, "user", "list", "--data", dir)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `ann@example.com\s+hr\s+Ann\s+active`, stdout)

	// The data folder's own SQLite database knows nothing of her.
	code, _, stderr = shopscore(t, nil, "migrate", "--data", dir)
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = shopscore(t, nil, "user", "list", "--data", dir)
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stdout, "ann@example.com")

	code, _, stderr = shopscore(t, nil, "migrate", "--data", dir, "--database", "mysql://root:hunter2@db/shopscore")
	assert.Equal(t, 1, code)
	assert.Regexp(t, regexp.QuoteMeta(`shopscore: invalid: --database: want a PostgreSQL URL`), stderr)
	assert.NotContains(t, stderr, "hunter2")
}

// TestMigrateTo: migrate-to copies the data folder's SQLite database into
// the PostgreSQL database --database names, a line per table on stderr
// and the verification table on stdout, after which the commands on
// PostgreSQL find its users; run again it is refused, naming what the
// target holds; without --database it says what it needs.
func TestMigrateTo(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir()
	env := map[string]string{"SHOPSCORE_PASSWORD": "a long password"}
	code, _, stderr := shopscore(t, env, "user", "add", "--data", dir, "--email", "ann@example.com", "--role", "hr", "--name", "Ann")
	require.Equal(t, 0, code, stderr)

	// A key-encryption key other than the one the keys were sealed
	// under is refused before anything is written.
	code, _, stderr = shopscore(t, map[string]string{"SHOPSCORE_KEY_ENCRYPTION_KEY": auth.GenerateKEK().Text()}, "migrate-to", "--data", dir, "--database", url)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `shopscore: failed_precondition: signing key \S+ \(access-token, .*\) of .*shopscore.db does not open with the key-encryption key of SHOPSCORE_KEY_ENCRYPTION_KEY`, stderr)

	code, stdout, stderr := shopscore(t, nil, "migrate-to", "--data", dir, "--database", url)
	require.Equal(t, 0, code, stderr)
	kekFile := filepath.Join(dir, "key-encryption.key")
	assert.Contains(t, stdout, "the 1 signing key opened with the key-encryption key in "+kekFile+": give every PostgreSQL server that key: --key-encryption-key-file "+kekFile)
	assert.Contains(t, stderr, "users: 1 of 1 rows\n")
	assert.Regexp(t, `(?m)^table\s+rows\s+checksum\s+ok\s*$`, stdout)
	assert.Regexp(t, `(?m)^users\s+1\s+[0-9a-f]{16}\s+ok\s*$`, stdout)
	assert.Regexp(t, `copied .*shopscore.db into \d+ tables`, stdout)

	code, stdout, stderr = shopscore(t, nil, "user", "list", "--data", t.TempDir(), "--database", url)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `ann@example.com\s+hr\s+Ann\s+active`, stdout)

	code, _, stderr = shopscore(t, nil, "migrate-to", "--data", dir, "--database", url)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `shopscore: failed_precondition: the database postgres://[^ ]+ is not empty: it has users \(1 row\)`, stderr)

	code, _, stderr = shopscore(t, nil, "migrate-to", "--data", dir)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "migrate-to: --database (or SHOPSCORE_DATABASE_URL) names the PostgreSQL database to copy into")
}
