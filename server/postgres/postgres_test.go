package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/storage"
)

// open opens a fresh database of the test's own.
func open(t *testing.T) (*DB, string) {
	t.Helper()
	url := pgtest.URL(t)
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}

func TestThreeServersStartingAtOnceApplyEachMigrationOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	const servers = 3
	dbs := make([]*DB, servers)
	errs := make([]error, servers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(context.Background(), url)
		})
	}
	close(start)
	wg.Wait()
	applied := map[string]int{}
	for i := range servers {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
		for _, name := range dbs[i].applied {
			applied[name]++
		}
	}
	if len(applied) != len(ms) {
		t.Errorf("applied %v, want each of the %d migrations", applied, len(ms))
	}
	for _, m := range ms {
		if applied[m.Name] != 1 {
			t.Errorf("migration %s applied %d times, want once", m.Name, applied[m.Name])
		}
	}
	var n int
	if err := dbs[0].pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, len(ms))
	}
}

func TestRefusesADatabaseOfANewerBuild(t *testing.T) {
	t.Parallel()
	db, url := open(t)
	ctx := context.Background()
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_a_newer_build.sql')`); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, url)
	if err == nil {
		again.Close()
		t.Fatal("Open accepted a database with a migration it does not know")
	}
	if audit.ErrorCode(err) != audit.EPRECONDITION || !strings.Contains(err.Error(), "9999_from_a_newer_build.sql") ||
		!strings.Contains(err.Error(), "newer shopscore") {
		t.Errorf("Open: %v (%s), want EPRECONDITION naming the unknown migration and a newer shopscore", err, audit.ErrorCode(err))
	}
}

func TestRefusesAMigrationOfAnotherName(t *testing.T) {
	t.Parallel()
	db, url := open(t)
	ctx := context.Background()
	if _, err := db.pool.Exec(ctx, `UPDATE schema_migrations SET name = '0001_other.sql' WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, url)
	if err == nil {
		again.Close()
		t.Fatal("Open accepted a database whose migration 1 is another file")
	}
	if audit.ErrorCode(err) != audit.EPRECONDITION || !strings.Contains(err.Error(), "0001_other.sql") {
		t.Errorf("Open: %v, want EPRECONDITION naming 0001_other.sql", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations(fstest.MapFS{
		"migrations/0002_b.sql": {Data: []byte("B")},
		"migrations/0001_a.sql": {Data: []byte("A")},
		"migrations/0010_c.sql": {Data: []byte("C")},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name)
	}
	if strings.Join(got, " ") != "0001_a.sql 0002_b.sql 0010_c.sql" {
		t.Errorf("order %v", got)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"same number": {"migrations/0001_a.sql": {}, "migrations/001_b.sql": {}},
		"no number":   {"migrations/schema.sql": {}},
		"zero":        {"migrations/0000_a.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTransactions(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("MSK", 3*3600))
	db.Now = func() time.Time { return at }
	want := audit.OrgSettings{TimeZone: "Asia/Yekaterinburg", Locale: "en-GB", Currency: "EUR"}
	fail := errors.New("fail")

	// A failing Update and a Trial store nothing.
	if err := db.Update(ctx, func(tx storage.Tx) error {
		if err := tx.OrgSettings().Set(ctx, want, "u1"); err != nil {
			return err
		}
		return fail
	}); !errors.Is(err, fail) {
		t.Fatalf("Update: %v", err)
	}
	if err := db.Trial(ctx, func(tx storage.Tx) error {
		if err := tx.OrgSettings().Set(ctx, want, "u1"); err != nil {
			return err
		}
		s, err := tx.OrgSettings().Find(ctx)
		if err == nil && s.Currency != "EUR" {
			t.Errorf("inside the trial: %+v", s)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s, err := db.OrgSettings().Find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.TimeZone != "Europe/Moscow" || s.Currency != "RUB" || !s.UpdatedAt.IsZero() || s.UpdatedBy != "" {
		t.Errorf("after a failed Update and a Trial: %+v, want the first migration's settings", s)
	}

	// A View refuses writes.
	if err := db.View(ctx, func(tx storage.Tx) error { return tx.OrgSettings().Set(ctx, want, "u1") }); err == nil {
		t.Error("a write inside View succeeded")
	}

	// An Update commits, at its own time, to the millisecond, in UTC.
	var now time.Time
	if err := db.Update(ctx, func(tx storage.Tx) error {
		now = tx.Now()
		return tx.OrgSettings().Set(ctx, want, "u1")
	}); err != nil {
		t.Fatal(err)
	}
	if !now.Equal(at.Truncate(time.Millisecond)) || now.Location() != time.UTC {
		t.Errorf("Tx.Now = %v, want %v in UTC", now, at.Truncate(time.Millisecond))
	}
	if err := db.OrgSettings().Set(ctx, want, "u2"); err != nil { // a transaction of its own
		t.Fatal(err)
	}
	s, err = db.OrgSettings().Find(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.UpdatedAt, want.UpdatedBy = now, "u2"
	if *s != want || s.UpdatedAt.Location() != time.UTC {
		t.Errorf("settings %+v, want %+v", *s, want)
	}
}

// Two servers incrementing one counter by reading it and writing it
// back: SQLite's single writer makes that safe, and so must Update, by
// serializable isolation and running a transaction again when the
// database aborts it.
func TestUpdateRunsAConflictingTransactionAgain(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	if _, err := db.pool.Exec(ctx, `CREATE TABLE counter (n integer NOT NULL); INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	attempts := 0
	for range writers {
		wg.Go(func() {
			for range each {
				err := db.update(ctx, func(tx *Tx) error {
					mu.Lock()
					attempts++
					mu.Unlock()
					var n int
					if err := tx.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // let the others read the same n
					_, err := tx.Exec(ctx, `UPDATE counter SET n = $1`, n+1)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Errorf("counter %d, want %d", n, writers*each)
	}
	if attempts == writers*each {
		t.Errorf("no conflict happened (%d attempts): the test did not exercise running again", attempts)
	}
}
