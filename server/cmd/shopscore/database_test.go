package main

import (
	neturl "net/url"
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
	// PostgreSQL wants the key-encryption key given (checkKEK).
	kek := map[string]string{"SHOPSCORE_KEY_ENCRYPTION_KEY": auth.GenerateKEK().Text()}

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
