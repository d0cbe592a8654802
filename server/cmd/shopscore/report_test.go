package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	auditpkg "github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
	"github.com/shopscore/shopscore/server/servertest"
)

// TestReport_Demo runs the README's commands on a demo data folder: the
// payroll and audit workbooks of last month, offline.
func TestReport_Demo(t *testing.T) {
	dir := t.TempDir()
	srv, err := server.New(servertest.SQLite(t, server.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	require.NoError(t, err)
	_, err = demo.Seed(context.Background(), srv, "a demo password")
	require.NoError(t, err)
	require.NoError(t, demo.SeedReports(context.Background(), srv))
	require.NoError(t, srv.Close())

	last := demo.ReportMonths[1]
	getenv := func(string) string { return "" }
	var stdout, stderr bytes.Buffer
	payroll := filepath.Join(dir, "payroll.xlsx")
	require.NoError(t, run(context.Background(), []string{"report", "payroll", "--data", dir, "--policy", demo.PolicyID, "--period", last, "-o", payroll},
		&stdout, &stderr, getenv), stderr.String())
	f, err := excelize.OpenFile(payroll)
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows("Payroll")
	require.NoError(t, err)
	require.Len(t, rows, 4, "the two drivers and the total")
	row := 2 // rows follow staff ids, which are random
	if rows[1][0] != "E2001" {
		row = 3
	}
	assert.Equal(t, "E2001", rows[row-1][0])
	total, err := f.GetCellValue("Payroll", "K"+strconv.Itoa(row), excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	assert.Equal(t, "85000", total, "the driver example: 55,000 + 15,000 + 5,000 + 0 + 10,000")
	assert.Contains(t, stderr.String(), "payroll of draft run ")

	// Again: the same inputs reuse the stored draft, not a copy.
	stderr.Reset()
	require.NoError(t, run(context.Background(), []string{"report", "payroll", "--data", dir, "--policy", demo.PolicyID, "--period", last,
		"--export", "csv", "-o", filepath.Join(dir, "payroll.csv")}, &stdout, &stderr, getenv), stderr.String())
	assert.Contains(t, stderr.String(), "reused")
	runID := regexp.MustCompile(`run (\S+) `).FindStringSubmatch(stderr.String())[1]
	csv, err := os.ReadFile(filepath.Join(dir, "payroll.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(csv), "E2001;Sergei Morozov;01.10.2026;DRIVERS_UNLINKED;55000,00")

	// Approval names a person: without --as it is refused; a shopper may
	// not approve; the HR user is recorded.
	err = run(context.Background(), []string{"report", "bonus", "approve", "--data", dir, "--run", runID}, &stdout, &stderr, getenv)
	require.ErrorContains(t, err, "--as EMAIL is required")
	err = run(context.Background(), []string{"report", "bonus", "approve", "--data", dir, "--run", runID, "--as", demo.Users[auditpkg.RoleShopper]}, &stdout, &stderr, getenv)
	require.ErrorContains(t, err, "HR users and admins")
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"report", "bonus", "approve", "--data", dir, "--run", runID, "--as", demo.Users[auditpkg.RoleHR]},
		&stdout, &stderr, getenv))
	assert.Contains(t, stdout.String(), "is approved, by Olga Petrova (HR)")

	audit := filepath.Join(dir, "audit.xlsx")
	stderr.Reset()
	require.NoError(t, run(context.Background(), []string{"report", "audit", "--data", dir, "--from", last, "-o", audit},
		&stdout, &stderr, getenv), stderr.String())
	assert.Contains(t, stderr.String(), "100%", "progress lines when stderr is not a terminal")
	g, err := excelize.OpenFile(audit)
	require.NoError(t, err)
	defer g.Close()
	visits, err := g.GetRows("Visits")
	require.NoError(t, err)
	assert.Len(t, visits, 1+20)

	err = run(context.Background(), []string{"report", "audit", "--data", dir, "--from", "last-month", "-o", audit}, &stdout, &stderr, getenv)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "YYYY-MM"), err.Error())
	err = run(context.Background(), []string{"report", "payroll", "--data", dir, "-o", payroll}, &stdout, &stderr, getenv)
	require.ErrorContains(t, err, "--run ID or --policy ID --period YYYY-MM")
}
