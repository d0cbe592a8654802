package migrateto

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/sqlite"
)

// holdEnv names, in a child process of the test binary, the database it
// holds open until its stdin closes (TestRun_RefusesAHeldDatabase).
const holdEnv = "MIGRATETO_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		db, err := sqlite.Open(path, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("holding")
		io.Copy(io.Discard, os.Stdin)
		db.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRun_RefusesAHeldDatabase: while another process (as a server
// would) has the SQLite database open, the move is refused, naming it;
// once it has closed it, the move goes through.
func TestRun_RefusesAHeldDatabase(t *testing.T) {
	url := pgtest.URL(t)
	s := seed(t, false)

	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), holdEnv+"="+s.path)
	stdin, err := child.StdinPipe()
	require.NoError(t, err)
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	child.Stderr = os.Stderr
	require.NoError(t, child.Start())
	t.Cleanup(func() { stdin.Close(); child.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "holding\n", line)

	_, err = Run(t.Context(), Options{SQLite: s.path, Postgres: url})
	require.Error(t, err)
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), "a process has the database "+s.path+" open")

	stdin.Close()
	require.NoError(t, child.Wait())
	report, err := Run(t.Context(), Options{SQLite: s.path, Postgres: url})
	require.NoError(t, err)
	assert.True(t, report.OK())
}

// TestRun_RefusesAMissingDatabase: a data folder without a database is
// named, and nothing is made there.
func TestRun_RefusesAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(t.Context(), Options{SQLite: filepath.Join(dir, "shopscore.db"), Postgres: "postgres://127.0.0.1:1/none"})
	require.Error(t, err)
	assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), filepath.Join(dir, "shopscore.db"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// TestRun_MismatchRollsBack: when what the target holds after the copy
// is not what was copied (here a store renamed and a manager's row
// deleted between the copy and the verification), the move fails naming
// the two tables, its report shows them, and the target keeps nothing of
// it: a move run again goes through.
func TestRun_MismatchRollsBack(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := seed(t, false)

	report, err := Run(ctx, Options{SQLite: s.path, Postgres: url, beforeVerify: func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE stores SET name = name || ' (renamed)' WHERE code = 'HQ'`)
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM store_managers WHERE ctid = (SELECT min(ctid) FROM store_managers)`)
		}
		return err
	}})
	require.Error(t, err)
	assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), "the copy of stores, store_managers does not verify")
	require.NotNil(t, report)
	for _, tr := range report.Tables {
		switch tr.Table {
		case "stores":
			assert.False(t, tr.OK)
			assert.Equal(t, tr.SourceRows, tr.TargetRows)
			assert.NotEqual(t, tr.SourceCheck, tr.TargetCheck)
		case "store_managers":
			assert.False(t, tr.OK)
			assert.Equal(t, tr.SourceRows-1, tr.TargetRows)
		default:
			assert.True(t, tr.OK, tr.Table)
		}
	}
	var printed strings.Builder
	require.NoError(t, report.Write(&printed))
	assert.Regexp(t, `(?m)^stores\s+5\s+[0-9a-f]{16} → [0-9a-f]{16}\s+MISMATCH\s*$`, printed.String())
	for _, tr := range report.Tables {
		if tr.Table == "store_managers" {
			assert.Regexp(t, fmt.Sprintf(`(?m)^store_managers\s+%d → %d\s+`, tr.SourceRows, tr.TargetRows), printed.String())
		}
	}

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var users, stores int
	require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM stores)`).Scan(&users, &stores))
	assert.Zero(t, users+stores, "nothing of the failed move is left")

	report, err = Run(ctx, Options{SQLite: s.path, Postgres: url})
	require.NoError(t, err)
	assert.True(t, report.OK())
}

// TestRun_RefusesWhatTheMappingDoesNotExplain: a source with a column
// this build's mapping does not know (a database migrated by another
// build) is refused before anything is written, naming the column.
func TestRun_RefusesWhatTheMappingDoesNotExplain(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := seed(t, false)
	db, err := sql.Open("sqlite3", "file:"+s.path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `ALTER TABLE users ADD COLUMN nickname TEXT NOT NULL DEFAULT ''`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	_, err = Run(ctx, Options{SQLite: s.path, Postgres: url})
	require.Error(t, err)
	assert.Equal(t, audit.EPRECONDITION, audit.ErrorCode(err))
	assert.Contains(t, err.Error(), "SQLite column users.nickname has no PostgreSQL column of its name")
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var users int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users))
	assert.Zero(t, users)
}
