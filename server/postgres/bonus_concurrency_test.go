package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/reports"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
)

// Bonus use cases run by two servers at once on one database: each pair
// ends as one of its two serial orders would (the write transactions are
// serializable, and one of two that conflict runs again).

// bonusOrg is a database with a store, two cashiers and, when policy is
// set, the cashiers' policy.
func bonusOrg(t *testing.T, policy bool) (*DB, *app.App) {
	t.Helper()
	db, _ := open(t)
	ctx := context.Background()
	a := app.New(db, app.Options{})
	store := &audit.Store{Code: "S01", Name: "First"}
	if err := a.CreateStore(ctx, store); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"E1", "E2"} {
		if err := a.CreateStaff(ctx, audit.Scope{All: true}, &audit.Staff{EmployeeNumber: n, Name: "Cashier " + n, Position: "cashier", StoreID: store.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if policy {
		if _, _, err := a.CreatePolicy(ctx, cashiers(), "hr"); err != nil {
			t.Fatal(err)
		}
	}
	return db, a
}

func cashiers() reports.Policy {
	return reports.Policy{ID: "cashiers", Name: "Cashiers", Positions: []string{"cashier"}, Base: reports.BasePay, UnlinkedShare: 0.9,
		Components: []reports.Component{{Name: "politeness", Share: 0.1, Categories: []string{"politeness"},
			Rule: reports.Rule{Thresholds: []reports.Threshold{{MinPercent: 90, Payout: 1}}}, MinVisits: 1, DefaultPayout: 0.5}}}
}

// atOnce runs fn(0) and fn(1) at the same time and returns their errors.
func atOnce(fn func(i int) error) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 2 {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Two servers storing a new version of one policy at once store versions
// 2 and 3, not version 2 twice or an error.
func TestCreatePolicy_TwoServersAtOnce(t *testing.T) {
	t.Parallel()
	db, a := bonusOrg(t, true)
	ctx := context.Background()
	for round := range 5 {
		errs := atOnce(func(i int) error {
			p := cashiers()
			p.Name = fmt.Sprintf("Cashiers %d.%d", round, i) // a change: an equal policy is no new version
			_, _, err := a.CreatePolicy(ctx, p, "hr")
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, server %d: %v", round, i, err)
			}
		}
		versions, err := db.BonusPolicies().Versions(ctx, "cashiers")
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != 3+2*round || versions[len(versions)-1] != len(versions) {
			t.Fatalf("round %d: versions %v, want 1 to %d", round, versions, 3+2*round)
		}
	}
}

// Two servers writing base pay of one employee and month at once: both
// writes succeed, one after the other, and each takes a revision of its
// own, so that a run's stamp sees the second.
func TestSetBasePay_TwoServersAtOnce(t *testing.T) {
	t.Parallel()
	db, a := bonusOrg(t, false)
	ctx := context.Background()
	var revisions []int64
	for round := range 5 {
		amounts := [2]int64{int64(1000 + round), int64(2000 + round)}
		errs := atOnce(func(i int) error {
			return a.SetBasePay(ctx, []storage.BasePayRow{{EmployeeNumber: "E1", EffectiveMonth: "2026-03", AmountMinor: amounts[i]},
				{EmployeeNumber: "E2", EffectiveMonth: "2026-03", AmountMinor: amounts[i]}}, "api", "hr")
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, server %d: %v", round, i, err)
			}
		}
		var amount, revision int64
		var n int
		if err := db.pool.QueryRow(ctx, `SELECT count(DISTINCT amount_minor), min(amount_minor), max(revision) FROM base_pay`).Scan(&n, &amount, &revision); err != nil {
			t.Fatal(err)
		}
		if n != 1 || amount != amounts[0] && amount != amounts[1] {
			t.Fatalf("round %d: %d amounts (%d), want one of %v for both: the writes were not one after the other", round, n, amount, amounts)
		}
		revisions = append(revisions, revision)
	}
	var distinct int
	if err := db.pool.QueryRow(ctx, `SELECT count(DISTINCT revision) FROM base_pay`).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != 2 {
		t.Errorf("the two rows share a revision: %d distinct", distinct)
	}
	for i := 1; i < len(revisions); i++ {
		if revisions[i] <= revisions[i-1] {
			t.Errorf("revisions %v: a rewrite did not take a new one", revisions)
		}
	}
}

// Two servers approving two drafts of one policy and month at once: one
// is approved, the other refused as computed before that approval, as if
// they had come one after the other.
func TestApproveBonusRun_TwoServersAtOnce(t *testing.T) {
	t.Parallel()
	db, a := bonusOrg(t, true)
	ctx := context.Background()
	run, err := a.RunBonus(ctx, "cashiers", 0, "2026-03", "hr")
	if err != nil {
		t.Fatal(err)
	}
	// Another draft of the same inputs (as two servers computing at once
	// may store).
	copied := *run
	copied.ID = run.ID + "-copy"
	if err := db.BonusRuns().Add(ctx, &copied); err != nil {
		t.Fatal(err)
	}
	ids := [2]string{run.ID, copied.ID}
	errs := atOnce(func(i int) error {
		_, err := a.ApproveBonusRun(ctx, ids[i], "hr")
		return err
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case audit.ErrorCode(err) != audit.EPRECONDITION:
			t.Errorf("server %d: %v, want an approval or EPRECONDITION", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d approvals succeeded (%v), want one", ok, errs)
	}
	runs, err := db.BonusRuns().List(ctx, storage.BonusRunFilter{PolicyID: "cashiers", Period: "2026-03"})
	if err != nil {
		t.Fatal(err)
	}
	approved := 0
	for _, r := range runs {
		if r.State == storage.RunApproved {
			approved++
		}
	}
	if approved != 1 {
		t.Errorf("%d runs approved, want one", approved)
	}
}

// Two servers running the same policy over the same month at once store
// one run: the other finds it and returns it, reused, as it would have
// one after the other.
func TestRunBonus_TwoServersAtOnce(t *testing.T) {
	t.Parallel()
	db, a := bonusOrg(t, true)
	ctx := context.Background()
	for round := range 3 {
		month := fmt.Sprintf("2026-%02d", round+1)
		var runs [2]*storage.BonusRun
		errs := atOnce(func(i int) error {
			var err error
			runs[i], err = a.RunBonus(ctx, "cashiers", 0, month, "hr")
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s, server %d: %v", month, i, err)
			}
		}
		if runs[0].ID != runs[1].ID || runs[0].Reused == runs[1].Reused {
			t.Errorf("%s: runs %s (reused %v) and %s (reused %v), want one run, stored by one server and reused by the other",
				month, runs[0].ID, runs[0].Reused, runs[1].ID, runs[1].Reused)
		}
		stored, err := db.BonusRuns().List(ctx, storage.BonusRunFilter{PolicyID: "cashiers", Period: month})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 {
			t.Errorf("%s: %d runs stored, want one", month, len(stored))
		}
	}
}
