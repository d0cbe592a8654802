package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server/storage/storagetest"
)

// TestAppeals runs the conformance suite of storage.Appeals on
// PostgreSQL; visits and verified bytes are stored with raw SQL (the
// visits and photos nouns are not on PostgreSQL yet).
func TestAppeals(t *testing.T) {
	t.Parallel()
	h, _ := appealsHarness(t)
	storagetest.TestAppeals(t, h)
}

// TestActions runs the conformance suite of storage.Actions on
// PostgreSQL, over the appeals' harness.
func TestActions(t *testing.T) {
	t.Parallel()
	h, db := appealsHarness(t)
	storagetest.TestActions(t, storagetest.ActionsHarness{AppealsHarness: h, Actions: db.Actions()})
}

// appealsHarness is a fresh database for the appeals' and the actions'
// conformance suites.
func appealsHarness(t *testing.T) (storagetest.AppealsHarness, *DB) {
	at := new(time.Time)
	db := clocked(t, at)
	ctx := context.Background()
	return storagetest.AppealsHarness{
		Users: db.Users(), Stores: db.Stores(), Staff: db.Staff(), OrgSettings: db.OrgSettings(), Appeals: db.Appeals(), Clock: at,
		Visit: func(t *testing.T, id, store, staffID, shopper, reviewer string, started time.Time) {
			for _, q := range []string{
				`INSERT INTO checklists (id, created_at) VALUES ('c', $1) ON CONFLICT DO NOTHING`,
				`INSERT INTO checklist_versions (checklist_id, version, name, channel, state, content, content_hash, question_count, created_at)
					VALUES ('c', 1, 'C', 'store_visit', 'published', '{}', 'h', 1, $1) ON CONFLICT DO NOTHING`,
			} {
				_, err := db.pool.Exec(ctx, q, started)
				require.NoError(t, err)
			}
			_, err := db.pool.Exec(ctx, `INSERT INTO visits (id, shopper_id, store_id, checklist_id, checklist_version, content_hash, channel, body, digest,
				state, score, started_at, received_at, device_id, session_id, mutation_id)
				VALUES ($1, $2, $3, 'c', 1, 'h', 'store_visit', $4, 'd', 'approved', '{}', $5, $5, 'dev', 'sess', 'm-' || $1)`,
				id, shopper, store, `{"StaffID":"`+staffID+`"}`, started)
			require.NoError(t, err)
			for _, tr := range storagetest.AppealHistory(shopper, reviewer) {
				_, err := db.pool.Exec(ctx, `INSERT INTO visit_transitions (visit_id, from_state, to_state, actor_id, actor_role, at) VALUES ($1, $2, $3, $4, $5, $6)`,
					id, tr.From, tr.To, tr.ActorID, tr.ActorRole, started)
				require.NoError(t, err)
			}
		},
		Verified: func(t *testing.T, sha string) {
			_, err := db.pool.Exec(ctx, `INSERT INTO verified_blobs (sha256, size, content_type, verified_at) VALUES ($1, 10, 'image/jpeg', $2)`, sha, *at)
			require.NoError(t, err)
		},
	}, db
}
