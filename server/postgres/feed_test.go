package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// pull reads audience's feed after pos in a snapshot of its own, as a
// pull does, and returns the entities and the position after the last.
func pull(t *testing.T, db *DB, audience string, after feedPos) ([]string, feedPos) {
	t.Helper()
	var out []string
	err := db.view(context.Background(), func(tx *Tx) error {
		for {
			rows, more, err := readFeed(context.Background(), tx, audience, after, 3)
			if err != nil {
				return err
			}
			for _, r := range rows {
				if !after.Less(r.Pos) {
					return fmt.Errorf("row %+v not after the cursor %+v", r, after)
				}
				out, after = append(out, r.Entity), r.Pos
			}
			if !more {
				return nil
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, after
}

// pullAll pulls until it has n rows, as a device does, for up to half a
// minute: another test's transaction anywhere in the cluster may hold
// the rows back for a while (a snapshot's xmin is the cluster's), never
// lose them.
func pullAll(t *testing.T, db *DB, audience string, after feedPos, n int) ([]string, feedPos) {
	t.Helper()
	var out []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got, next := pull(t, db, audience, after)
		out, after = append(out, got...), next
		if len(out) >= n || time.Now().After(deadline) {
			return out, after
		}
	}
}

// touch writes one feed row in a transaction of its own.
func touch(t *testing.T, db *DB, audience, entity string) {
	t.Helper()
	if err := db.update(context.Background(), func(tx *Tx) error {
		return touchFeed(context.Background(), tx, audience, "visit", entity)
	}); err != nil {
		t.Fatal(err)
	}
}

// The proof of docs/DESIGN.md §9's second rule: a feed-writing
// transaction stays open while another commits and a pull runs between
// them. The pull must not pass the open one; once it commits, the next
// pull returns its row. Both orders of the two transactions' ids are
// tried: the open one older (its row waits, and holds back the newer
// one's) and newer (the committed one's row may go out at once).
func TestPullNeverPassesAFeedWriteCommittedLate(t *testing.T) {
	t.Parallel()
	for _, openFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("open transaction began first %v", openFirst), func(t *testing.T) {
			t.Parallel()
			db, _ := open(t)
			ctx := context.Background()
			touch(t, db, "s1", "before")
			seen, cursor := pullAll(t, db, "s1", feedPos{}, 1)
			if !slices.Equal(seen, []string{"before"}) {
				t.Fatalf("first pull %v", seen)
			}

			var late, early *Tx
			begin := func() *Tx {
				tx, err := db.begin(ctx, writeTx)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tx.Rollback(context.Background()) })
				return tx
			}
			// A transaction has its xid (and its row an id) from its
			// first write: the one that writes first has the lower of both.
			if openFirst {
				late = begin()
				if err := touchFeed(ctx, late, "s1", "visit", "late"); err != nil {
					t.Fatal(err)
				}
				early = begin()
				if err := touchFeed(ctx, early, "s1", "visit", "early"); err != nil {
					t.Fatal(err)
				}
			} else {
				early = begin()
				if err := touchFeed(ctx, early, "s1", "visit", "early"); err != nil {
					t.Fatal(err)
				}
				late = begin()
				if err := touchFeed(ctx, late, "s1", "visit", "late"); err != nil {
					t.Fatal(err)
				}
			}
			if err := early.Commit(ctx); err != nil {
				t.Fatal(err)
			}

			// The pull between the commit and the late one's commit.
			var between []string
			var next feedPos
			if openFirst {
				between, next = pull(t, db, "s1", cursor)
			} else {
				between, next = pullAll(t, db, "s1", cursor, 1)
			}
			if slices.Contains(between, "late") {
				t.Fatalf("the pull returned a row of a transaction still open: %v", between)
			}
			if openFirst && len(between) != 0 {
				t.Errorf("the pull passed the open transaction: %v (cursor %+v → %+v)", between, cursor, next)
			}
			if !openFirst && !slices.Equal(between, []string{"early"}) {
				t.Errorf("the pull returned %v, want the committed row of the older transaction", between)
			}
			if openFirst {
				// What a feed read by sequence alone would have done: it
				// returns "early", whose id is above "late"'s, and its cursor
				// would then skip "late" forever.
				var naive []string
				var lateID, earlyID int64
				if err := db.pool.QueryRow(ctx, `SELECT (SELECT id FROM sync_feed WHERE entity = 'early')`).Scan(&earlyID); err != nil {
					t.Fatal(err)
				}
				if err := late.QueryRow(ctx, `SELECT id FROM sync_feed WHERE entity = 'late'`).Scan(&lateID); err != nil {
					t.Fatal(err)
				}
				rows, err := db.pool.Query(ctx, `SELECT entity FROM sync_feed WHERE id > $1 ORDER BY id`, cursor.Seq)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var e string
					if err := rows.Scan(&e); err != nil {
						t.Fatal(err)
					}
					naive = append(naive, e)
				}
				if !slices.Equal(naive, []string{"early"}) || lateID >= earlyID {
					t.Fatalf("the scenario does not show the hazard: a read by id returns %v; ids late %d, early %d", naive, lateID, earlyID)
				}
			}

			if err := late.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			want := []string{"late"}
			if openFirst {
				want = []string{"late", "early"}
			}
			after, _ := pullAll(t, db, "s1", next, len(want))
			if !slices.Equal(after, want) {
				t.Errorf("the pull after the late commit returned %v, want %v", after, want)
			}
		})
	}
}

// Many transactions write the feed at once, each holding its rows for a
// while, and a reader pulls all along: once they have all committed, the
// reader has seen every row exactly once.
func TestPullSeesEveryConcurrentFeedWriteOnce(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ctx := context.Background()
	const writers, each = 6, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := db.update(ctx, func(tx *Tx) error {
					for k := range 2 {
						if err := touchFeed(ctx, tx, "s1", "visit", fmt.Sprintf("w%d-%d-%d", w, i, k)); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var seen []string
	var cursor feedPos
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		got, next := pull(t, db, "s1", cursor)
		seen, cursor = append(seen, got...), next
	}
	got, _ := pullAll(t, db, "s1", cursor, writers*each*2-len(seen))
	seen = append(seen, got...)
	if len(seen) != writers*each*2 {
		t.Errorf("saw %d rows, want %d", len(seen), writers*each*2)
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != len(seen) {
		t.Error("a row was seen twice")
	}
}

func TestFeedCompactsAndKeepsAudiences(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	touch(t, db, "s1", "a")
	touch(t, db, "", "checklist-for-all")
	touch(t, db, "s2", "other")
	touch(t, db, "s1", "b")
	seen, cursor := pullAll(t, db, "s1", feedPos{}, 3)
	if !slices.Equal(seen, []string{"a", "checklist-for-all", "b"}) {
		t.Fatalf("s1's feed %v", seen)
	}
	touch(t, db, "s1", "a") // changed again: moves after b, once
	seen, _ = pullAll(t, db, "s1", cursor, 1)
	if !slices.Equal(seen, []string{"a"}) {
		t.Errorf("after a's change: %v", seen)
	}
	var n int
	if err := db.pool.QueryRow(context.Background(), `SELECT count(*) FROM sync_feed WHERE entity = 'a'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("a has %d rows (%v), want one", n, err)
	}
	var head feedPos
	if err := db.view(context.Background(), func(tx *Tx) (err error) { head, err = feedHead(context.Background(), tx); return err }); err != nil {
		t.Fatal(err)
	}
	if _, last := pullAll(t, db, "s1", feedPos{}, 3); head != last {
		t.Errorf("head %+v, want the last row %+v", head, last)
	}
}

// A database restored into another cluster carries transaction ids
// above the new cluster's: Open moves the feed to current ones and gives
// it a new epoch, so that no device keeps a cursor new rows would sit
// behind.
func TestOpenRebasesAFeedFromAnotherCluster(t *testing.T) {
	t.Parallel()
	db, url := open(t)
	ctx := context.Background()
	touch(t, db, "s1", "a")
	var epoch string
	if err := db.view(ctx, func(tx *Tx) (err error) { epoch, err = feedEpoch(ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE sync_feed SET xid = '900000000000'::xid8`); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	var moved bool
	var epoch2 string
	if err := again.view(ctx, func(tx *Tx) (err error) { epoch2, err = feedEpoch(ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	if err := again.pool.QueryRow(ctx, `SELECT max(xid) >= pg_current_xact_id() FROM sync_feed`).Scan(&moved); err != nil {
		t.Fatal(err)
	}
	if moved || epoch2 == epoch {
		t.Errorf("after Open: xid still ahead %v, epoch %q → %q", moved, epoch, epoch2)
	}
	touch(t, again, "s1", "b")
	if seen, _ := pullAll(t, again, "s1", feedPos{}, 2); !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("feed %v, want a then b", seen)
	}
}
