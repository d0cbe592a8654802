package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/servertest"
	"github.com/shopscore/shopscore/server/storage"
)

// readmeCommands returns the command lines of README.md's shell blocks
// that start with prefix, without their trailing comments.
func readmeCommands(tb testing.TB, prefix string) []string {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(tb, err)
	var cmds []string
	inShell := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inShell = !inShell && strings.TrimPrefix(line, "```") == "sh"
		case inShell && strings.HasPrefix(line, prefix):
			line, _, _ = strings.Cut(line, "#")
			cmds = append(cmds, strings.TrimSpace(line))
		}
	}
	require.NotEmpty(tb, cmds, "README.md has no %q commands", prefix)
	return cmds
}

// TestReadme_Reports runs the README's report commands literally, as a
// newcomer would after `make run` on any day: in a folder whose ./data
// holds a freshly seeded demo. The imports are skipped (their files are
// the reader's own); RUN_ID is the id `report bonus run` printed. The
// figures are the ones the README prints.
func TestReadme_Reports(t *testing.T) {
	work := t.TempDir()
	srv, err := server.New(servertest.SQLite(t, server.Config{DataDir: filepath.Join(work, "data"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	require.NoError(t, err)
	_, err = demo.Seed(context.Background(), srv, "a demo password")
	require.NoError(t, err)
	require.NoError(t, demo.SeedReports(context.Background(), srv))
	require.NoError(t, srv.Close())
	cmds := readmeCommands(t, "./bin/shopscore report ")
	t.Chdir(work)

	runID := ""
	var bonusOut string
	for _, line := range cmds {
		if strings.Contains(line, " import ") {
			continue
		}
		if strings.Contains(line, "RUN_ID") {
			require.NotEmpty(t, runID, "the README runs a bonus run before it names RUN_ID: %s", line)
			line = strings.ReplaceAll(line, "RUN_ID", runID)
		}
		args := strings.Fields(line)[1:]
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), args, &stdout, &stderr, func(string) string { return "" }), "%s\n%s", line, stderr.String())
		if strings.HasPrefix(line, "./bin/shopscore report bonus run") {
			bonusOut = stdout.String()
			m := regexp.MustCompile(`^run (\S+):`).FindStringSubmatch(bonusOut)
			require.NotNil(t, m, bonusOut)
			runID = m[1]
		}
	}

	// The payroll workbook: Sergei Morozov earns 85,000.00, as printed.
	f, err := excelize.OpenFile(filepath.Join(work, "payroll.xlsx"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows("Payroll")
	require.NoError(t, err)
	row := 0
	for i, r := range rows {
		if len(r) > 0 && r[0] == "E2001" {
			row = i + 1
		}
	}
	require.NotZero(t, row, "Sergei Morozov (E2001) in the payroll")
	total, err := f.GetCellValue("Payroll", "K"+strconv.Itoa(row), excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	assert.Equal(t, "85000", total)
	assert.FileExists(t, filepath.Join(work, "audit.xlsx"))

	// The bonus run's table: its columns apart, money as in the workbooks.
	lines := strings.Split(strings.TrimSpace(bonusOut), "\n")
	require.GreaterOrEqual(t, len(lines), 4, bonusOut)
	assert.Regexp(t, `^EMPLOYEE\s+NAME\s+BASE\s+UNLINKED\s+ON-TIME DELIVERY\s+POLITENESS\s+CLEAN TRUCK\s+HAND-OVER\s+TOTAL$`, lines[1])
	var sergei string
	for _, l := range lines {
		if strings.HasPrefix(l, "E2001") {
			sergei = l
		}
	}
	assert.Regexp(t, `^E2001\s+Sergei Morozov\s+100,000.00\s+55,000.00\s+15,000.00\s+5,000.00\s+0.00\s+10,000.00\s+85,000.00$`, sergei, bonusOut)
	// Every header starts where its column's cells end (right-aligned).
	assert.Equal(t, len(lines[1]), len(sergei), bonusOut)
}

// readmeBlock returns the README's shell block that contains marker.
func readmeBlock(tb testing.TB, marker string) string {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(tb, err)
	for _, part := range strings.Split(string(body), "```sh\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.Contains(block, marker) {
			return block
		}
	}
	tb.Fatalf("README.md has no shell block with %q", marker)
	return ""
}

// TestReadme_LoginHelper runs the README's login helper in bash against a
// real server (its address and the demo password put in): it signs in,
// does nothing while the token is fresh, and renews it with the refresh
// token once it is old.
func TestReadme_LoginHelper(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	srv := servertest.Run(t, server.Config{})
	block := readmeBlock(t, "login() {")
	block = strings.ReplaceAll(block, "http://127.0.0.1:8080", srv.URL)
	block = strings.ReplaceAll(block, "'choose-a-password'", "'"+servertest.DemoPassword+"'")
	script := block + `
first=$TOKEN r1=$REFRESH
login admin@demo.shopscore.test || exit 11
[ "$TOKEN" = "$first" ] && [ "$REFRESH" = "$r1" ] || { echo "a fresh token was renewed"; exit 12; }
LOGIN_AT=$((LOGIN_AT - 600))  # ten minutes later
login admin@demo.shopscore.test || exit 13
[ "$REFRESH" != "$r1" ] || { echo "an old token was not renewed"; exit 14; }
echo
curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -d '{}' "$SHOPSCORE/shopscore.v1.AuthService/WhoAmI"
echo
PASSWORD=wrong login hr@demo.shopscore.test && exit 15
echo "refused as it should be"
`
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, 2, strings.Count(string(out), `"email":"admin@demo.shopscore.test"`), "WhoAmI after login and after the renewal:\n%s", out)
	assert.Contains(t, string(out), "login hr@demo.shopscore.test (Login): ")
	assert.Contains(t, string(out), "refused as it should be")
}

// TestReadme_MigrateTo runs the README's migrate-to command as written,
// its PostgreSQL URL replaced by a test database's, in a folder whose
// ./data holds a seeded demo: it copies, and prints the table of the
// README's example.
func TestReadme_MigrateTo(t *testing.T) {
	url := pgtest.URL(t)
	work := t.TempDir()
	srv, err := server.New(servertest.SQLite(t, server.Config{DataDir: filepath.Join(work, "data"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	require.NoError(t, err)
	_, err = demo.Seed(context.Background(), srv, "a demo password")
	require.NoError(t, err)
	users, err := srv.Storage().Users().List(context.Background(), storage.UserFilter{})
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	n := strconv.Itoa(len(users))
	cmds := readmeCommands(t, "shopscore migrate-to ")
	t.Chdir(work)
	for _, line := range cmds {
		line = regexp.MustCompile(`'postgres://[^']*'`).ReplaceAllString(line, url)
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(context.Background(), strings.Fields(line)[1:], &stdout, &stderr, func(string) string { return "" }), "%s\n%s", line, stderr.String())
		assert.Regexp(t, `(?m)^table\s+rows\s+checksum\s+ok\s*$`, stdout.String())
		assert.Regexp(t, `(?m)^users\s+`+n+`\s+[0-9a-f]{16}\s+ok\s*$`, stdout.String())
		assert.Regexp(t, `(?m)^users: `+n+` of `+n+` rows$`, stderr.String())
		assert.Contains(t, stdout.String(), "give every PostgreSQL server that key: --key-encryption-key-file "+filepath.Join(work, "data", "key-encryption.key"))
	}
}
