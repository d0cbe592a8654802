// Package pgtest gives tests a fresh PostgreSQL database of their own in
// the cluster .ci/start-postgres starts, so that every package's
// PostgreSQL tests find it, skip, or fail in CI the same way, and run in
// parallel without seeing each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URLVar names the variable that holds the test cluster's URL.
const URLVar = "SHOPSCORE_TEST_DATABASE_URL"

// URL creates a database with a random name in the cluster
// SHOPSCORE_TEST_DATABASE_URL names, drops it when the test ends, and
// returns its URL. Without the variable the test is skipped with a
// message saying how to start a cluster, or fails when CI is "true": CI
// never skips PostgreSQL.
func URL(tb testing.TB) string {
	tb.Helper()
	return URLWith(tb, "")
}

// URLWith is URL for a database created with the options of CREATE
// DATABASE given (for example TEMPLATE template0 LOCALE_PROVIDER icu
// ICU_LOCALE 'en': a database whose text sorts in a language's order, as
// many installations' do, unlike the test cluster's C.UTF-8).
func URLWith(tb testing.TB, createOptions string) string {
	tb.Helper()
	Require(tb)
	url, drop, err := Create(createOptions)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return url
}

// Require skips the test without SHOPSCORE_TEST_DATABASE_URL, with a
// message saying how to start a cluster, or fails it when CI is "true".
func Require(tb testing.TB) {
	tb.Helper()
	if os.Getenv(URLVar) == "" && os.Getenv("CI") == "true" {
		tb.Fatal(tb.Name() + ": " + needs + " (CI=true: not skipping)")
	}
	SkipWithout(tb)
}

// SkipWithout skips the test without SHOPSCORE_TEST_DATABASE_URL, with
// Require's message, even when CI is "true": for benchmarks, which CI
// does not run (.ci/run runs make test, not make bench).
func SkipWithout(tb testing.TB) {
	tb.Helper()
	if os.Getenv(URLVar) == "" {
		tb.Skip(tb.Name() + ": " + needs)
	}
}

// needs says what a test without a cluster needs.
const needs = "it needs PostgreSQL: set " + URLVar + "; start a throwaway cluster with: " +
	"eval \"$(bash .ci/start-postgres)\" (stop it with bash .ci/stop-postgres)"

// Copy is URL for a copy of the database at url (CREATE DATABASE …
// TEMPLATE): a test's starting state built once and copied for every
// run. Nothing may be connected to the original while it is copied.
func Copy(tb testing.TB, url string) string {
	tb.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		tb.Fatalf("copy database: %v", err)
	}
	return URLWith(tb, "TEMPLATE "+pgx.Identifier{cfg.Database}.Sanitize())
}

// Create creates a database with a random name in the cluster
// SHOPSCORE_TEST_DATABASE_URL names, with the options of CREATE DATABASE
// given, and returns its URL and the function that drops it, for a
// database that outlives one test (a benchmark's starting state, dropped
// by TestMain); tests call URL. It fails without the variable.
func Create(createOptions string) (url string, drop func() error, err error) {
	admin := os.Getenv(URLVar)
	if admin == "" {
		return "", nil, fmt.Errorf("%s is not set: no PostgreSQL test cluster", URLVar)
	}
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %v", URLVar, err)
	}
	name := "shopscore_test_" + random()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, fmt.Errorf("connect to the test cluster: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` `+createOptions); err != nil {
		return "", nil, fmt.Errorf("create test database: %v", err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("drop test database %s: %v", name, err)
		}
		defer conn.Close(context.Background())
		// WITH (FORCE): a connection the test left open does not keep it.
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop test database %s: %v", name, err)
		}
		return nil
	}
	return databaseURL(admin, name), drop, nil
}

// databaseURL returns the connection string admin with the database name.
func databaseURL(admin, name string) string {
	if u, err := url.Parse(admin); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return admin + " dbname=" + name
}

// random returns 16 random hex digits.
func random() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
