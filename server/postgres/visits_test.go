package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/postgres"
	"github.com/shopscore/shopscore/server/postgres/pgtest"
	"github.com/shopscore/shopscore/server/sqlite"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/server/storage/storagetest"
	"github.com/shopscore/shopscore/sync/protocol"
)

// reviewWorld is the same organisation and visits built through the use
// cases on one backend; the ids the backend gave out differ from the
// other's, the visits' own ids (the devices') do not.
type reviewWorld struct {
	st                                storage.Storage
	shopper, manager, s1, s2, cashier string
}

// buildReviewWorld stores on st, at the times of now (moved by the
// world), a manager of store S-1 (with a geofence), a second store, a
// cashier of S-1, a checklist open to unplanned visits and n visits of
// one shopper: some served by the cashier, some checked in far from the
// store (proof flagged), some started or received at the same instant
// (ties broken by id), a few moved on in review.
func buildReviewWorld(t *testing.T, st storage.Storage, at *time.Time, n int) reviewWorld {
	t.Helper()
	ctx := context.Background()
	uses := app.New(st, app.Options{Now: func() time.Time { return *at }})
	w := reviewWorld{st: st}
	shopper := &audit.User{Email: "s@example.com", DisplayName: "Сергей", Role: audit.RoleShopper}
	require.NoError(t, uses.CreateUser(ctx, shopper, "h"))
	manager := &audit.User{Email: "m@example.com", DisplayName: "Мария", Role: audit.RoleManager}
	require.NoError(t, uses.CreateUser(ctx, manager, "h"))
	w.shopper, w.manager = shopper.ID, manager.ID
	s1 := &audit.Store{Code: "S-1", Name: "Тверская", Latitude: 55.75, Longitude: 37.61, GeofenceMeters: 150}
	require.NoError(t, uses.CreateStore(ctx, s1))
	s2 := &audit.Store{Code: "S-2", Name: "Арбат"}
	require.NoError(t, uses.CreateStore(ctx, s2))
	w.s1, w.s2 = s1.ID, s2.ID
	require.NoError(t, st.Stores().SetManagers(ctx, s1.ID, []string{manager.ID}))
	cashier := &audit.Staff{EmployeeNumber: "E-7", Name: "Ольга", StoreID: s1.ID}
	require.NoError(t, st.Staff().Create(ctx, cashier))
	w.cashier = cashier.ID
	c := storagetest.Checklist("visit", "Greeted?")
	c.AllowUnplanned = true
	draft, err := uses.SaveDraft(ctx, c, "test")
	require.NoError(t, err)
	cv, err := uses.PublishVersion(ctx, c.ID, draft.Version)
	require.NoError(t, err)
	sess := &audit.Session{UserID: shopper.ID, DeviceID: "phone"}
	require.NoError(t, st.Sessions().Create(ctx, sess))
	dev := app.Device{UserID: shopper.ID, SessionID: sess.ID}

	base := *at
	for i := range n {
		yes := i%3 != 1
		v := &audit.Visit{
			ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), StoreID: s1.ID, ShopperID: shopper.ID,
			ChecklistID: cv.ChecklistID, ChecklistVersion: cv.Version, ContentHash: cv.ContentHash, Channel: audit.ChannelStoreVisit,
			StartedAt: base.Add(time.Duration(i/2) * time.Hour), FinishedAt: base.Add(time.Duration(i/2)*time.Hour + 20*time.Minute),
			Answers: []audit.Answer{{QuestionID: "q", Bool: &yes, Note: fmt.Sprintf("note %d", i)}},
		}
		switch {
		case i%3 == 2:
			v.StoreID = s2.ID
		case i%2 == 0:
			v.StaffID = cashier.ID
		}
		if i%4 == 0 {
			v.CheckIn = &audit.GeoPoint{Latitude: 56, Longitude: 37.61, AccuracyMeters: 10, Time: v.StartedAt}
		}
		m := app.Mutation{Seq: int64(i + 1), ID: fmt.Sprintf("m-%03d", i+1), DeviceTime: *at,
			Digest: "submit_visit:" + protocol.VisitDigest(v), Visit: v}
		_, err := uses.Push(ctx, dev, time.Time{}, []app.Mutation{m})
		require.NoError(t, err)
		if i%5 != 4 { // every fifth shares its receive time with the one before
			*at = at.Add(time.Minute)
		}
		if i%4 == 1 {
			require.NoError(t, st.Visits().SetState(ctx, v.ID, storage.Transition{From: audit.VisitComplete, To: audit.VisitInReview,
				ActorID: manager.ID, ActorRole: string(audit.RoleManager), Reason: "taken"}))
		}
	}
	return w
}

// summaryView is what a review list shows of a visit, without the ids a
// backend made up.
type summaryView struct {
	ID, StoreCode, StoreName, State, StaffName, StaffNumber, ChecklistName, ShopperName string
	Flags                                                                               []string
	Proof                                                                               []audit.ProofFlag
	Percent                                                                             *float64
	Started, Received, Finished                                                         time.Time
	Missing                                                                             int
	Staffed                                                                             bool
}

func viewOf(ss []*storage.VisitSummary) []summaryView {
	if len(ss) == 0 {
		return nil
	}
	out := make([]summaryView, len(ss))
	for i, s := range ss {
		out[i] = summaryView{s.ID, s.StoreCode, s.StoreName, string(s.State), s.StaffName, s.StaffNumber, s.ChecklistName, s.ShopperName,
			s.Flags, s.ProofFlags, s.ScorePercent, s.StartedAt, s.ReceivedAt, s.FinishedAt, s.MissingPhotos, s.StaffID != ""}
	}
	return out
}

// TestVisitQueriesAsOnSQLite builds the same visits on SQLite and on
// PostgreSQL and asks both every review query: each filter, flagged
// first or not, page by page through cursors, the state counts, each
// visit's detail and receipt. Both answer the same rows in the same
// order.
func TestVisitQueriesAsOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 14
	start := time.Date(2026, 3, 2, 9, 0, 0, 250_000_000, time.UTC)

	atS := start
	lite, err := sqlite.Open(filepath.Join(t.TempDir(), "shopscore.db"), func() time.Time { return atS })
	require.NoError(t, err)
	t.Cleanup(func() { lite.Close() })
	atP := start
	pg, err := postgres.Open(ctx, pgtest.URL(t))
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close() })
	pg.Now = func() time.Time { return atP }
	worlds := [2]reviewWorld{buildReviewWorld(t, lite, &atS, n), buildReviewWorld(t, pg, &atP, n)}

	filters := map[string]func(w reviewWorld) storage.VisitFilter{
		"all": func(reviewWorld) storage.VisitFilter { return storage.VisitFilter{Scope: audit.Scope{All: true}} },
		"manager": func(w reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{ManagerID: w.manager}}
		},
		"shopper": func(w reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{ShopperID: w.shopper}}
		},
		"other shopper": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{ShopperID: "nobody"}}
		},
		"flagged first": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, FlaggedFirst: true}
		},
		"flagged only": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, FlaggedOnly: true}
		},
		"in review": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, State: audit.VisitInReview}
		},
		"store": func(w reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, StoreID: w.s2}
		},
		"staff": func(w reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, StaffID: w.cashier}
		},
		"by shopper": func(w reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, ShopperID: w.shopper}
		},
		"checklist": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, ChecklistID: "visit"}
		},
		"no checklist": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, ChecklistID: "other"}
		},
		"proof flag": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, Flag: string(audit.FlagCheckInOutsideGeofence)}
		},
		"unknown flag": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, Flag: "nothing"}
		},
		"received range": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, From: start.Add(3 * time.Minute), To: start.Add(9 * time.Minute)}
		},
		"visit range": func(reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{All: true}, VisitFrom: start.Add(2 * time.Hour), VisitTo: start.Add(5 * time.Hour)}
		},
		"manager flagged first": func(w reviewWorld) storage.VisitFilter {
			return storage.VisitFilter{Scope: audit.Scope{ManagerID: w.manager}, FlaggedFirst: true}
		},
	}
	for name, filter := range filters {
		t.Run(name, func(t *testing.T) {
			var whole, paged [2][]summaryView
			var counts [2]map[audit.VisitState]int64
			for b, w := range worlds {
				f := filter(w)
				all, err := w.st.Visits().List(ctx, f)
				require.NoError(t, err)
				whole[b] = viewOf(all)
				for page := 0; ; page++ {
					require.Less(t, page, n)
					f.Limit = 3
					rows, err := w.st.Visits().List(ctx, f)
					require.NoError(t, err)
					paged[b] = append(paged[b], viewOf(rows)...)
					if len(rows) < f.Limit {
						break
					}
					f.After = rows[len(rows)-1].Cursor()
				}
				f = filter(w)
				f.State = ""
				if counts[b], err = w.st.Visits().CountStates(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			switch name {
			case "other shopper", "no checklist", "unknown flag":
				assert.Empty(t, whole[0])
			case "all":
				assert.Len(t, whole[0], n)
			default:
				assert.NotEmpty(t, whole[0], "a filter that selects some")
				assert.Less(t, len(whole[0]), n+1)
			}
			assert.Equal(t, whole[0], whole[1], "SQLite, then PostgreSQL")
			assert.Equal(t, whole[0], paged[0], "SQLite's pages")
			assert.Equal(t, whole[1], paged[1], "PostgreSQL's pages")
			assert.Equal(t, counts[0], counts[1])
		})
	}

	type detailView struct {
		Summary  summaryView
		Answers  []audit.Answer
		CheckIn  *audit.GeoPoint
		Score    *audit.VisitScore
		Photos   []storage.PhotoStatus
		History  []storage.Transition
		Comments []audit.ReviewComment
		Version  int
		Receipt  audit.VisitReceipt
	}
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		var views [2]detailView
		for b, w := range worlds {
			d, err := w.st.Visits().FindDetail(ctx, audit.Scope{All: true}, id)
			require.NoError(t, err)
			r, err := w.st.Visits().Receipt(ctx, w.shopper, id)
			require.NoError(t, err)
			r.ShopperID = ""
			v := detailView{Summary: viewOf([]*storage.VisitSummary{&d.VisitSummary})[0], Answers: d.Visit.Answers, CheckIn: d.Visit.CheckIn,
				Score: d.Score, Photos: d.Photos, Comments: d.Comments, Version: d.Checklist.Version, Receipt: *r}
			for _, h := range d.History {
				h.ActorID = d.ActorNames[h.ActorID] // by name: the ids differ
				v.History = append(v.History, h)
			}
			views[b] = v
			_, err = w.st.Visits().FindDetail(ctx, audit.Scope{ShopperID: "nobody"}, id)
			assert.Equal(t, audit.ENOTFOUND, audit.ErrorCode(err), "outside the scope")
		}
		assert.Equal(t, views[0], views[1], "visit %s: SQLite, then PostgreSQL", id)
	}
}
