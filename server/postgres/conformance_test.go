package postgres_test

import (
	"context"
	"testing"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// TestConformance runs the storage conformance suite on PostgreSQL, as
// server/sqlite runs it on SQLite.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Harness {
		db, err := postgres.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storagetest.Harness{
			Storage: db, Assignments: db.Assignments(),
			CreateUser: func(ctx context.Context, role audit.Role, email string) (string, error) {
				u := &audit.User{Email: email, Role: role}
				err := app.New(db, app.Options{}).CreateUser(ctx, u, "not-a-real-hash")
				return u.ID, err
			},
		}
	})
}
