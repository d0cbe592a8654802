package app_test

import (
	"testing"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
)

// TestCreatePolicy_Versions numbers versions: a new policy is 1, the same
// content again stores nothing, a change is the next version; store codes
// are stored as ids.
func TestCreatePolicy_Versions(t *testing.T) {
	f := newBonusFixture(t)
	p := cashierPolicy()
	p.ID = "  cashiers "
	p.Version = 7
	p.StoreIDs = []string{"S01"}
	problems, unchanged, next, err := f.app.CheckPolicy(f.ctx, p)
	if err != nil || len(problems) != 0 || unchanged || next != 1 {
		t.Fatalf("check a new policy: %v %v %v %d", err, problems, unchanged, next)
	}
	v1, created, err := f.app.CreatePolicy(f.ctx, p, "hr")
	if err != nil || !created || v1.Policy.Version != 1 || v1.Policy.ID != "cashiers" || v1.Policy.StoreIDs[0] != f.store.ID || v1.CreatedBy != "hr" {
		t.Fatalf("create: %v created %v %+v", err, created, v1)
	}
	p = cashierPolicy()
	p.StoreIDs = []string{f.store.ID}
	same, created, err := f.app.CreatePolicy(f.ctx, p, "hr")
	if err != nil || created || same.Policy.Version != 1 {
		t.Fatalf("the same content: %v created %v version %d; want version 1 unchanged", err, created, same.Policy.Version)
	}
	if _, unchanged, next, _ := f.app.CheckPolicy(f.ctx, p); !unchanged || next != 1 {
		t.Fatalf("check the same content: unchanged %v next %d", unchanged, next)
	}
	p.Name = "Cashiers, from April"
	v2, created, err := f.app.CreatePolicy(f.ctx, p, "hr")
	if err != nil || !created || v2.Policy.Version != 2 {
		t.Fatalf("a change: %v created %v version %d; want version 2", err, created, v2.Policy.Version)
	}
	versions, err := f.db.BonusPolicies().Versions(f.ctx, "cashiers")
	if err != nil || len(versions) != 2 {
		t.Fatalf("versions %v %v", versions, err)
	}
}

func TestCreatePolicy_Refuses(t *testing.T) {
	f := newBonusFixture(t)
	p := cashierPolicy()
	p.StoreIDs = []string{"NOPE"}
	_, _, err := f.app.CreatePolicy(f.ctx, p, "hr")
	wantCode(t, err, audit.EINVALID, "NOPE", "neither a store id nor a store code")
	problems, _, _, err := f.app.CheckPolicy(f.ctx, p)
	if err != nil || len(problems) != 1 {
		t.Fatalf("check: %v, problems %q; want the unknown store", err, problems)
	}
	bad := cashierPolicy()
	bad.Components[0].Share = 2
	bad.ID = ""
	_, _, err = f.app.CreatePolicy(f.ctx, bad, "hr")
	wantCode(t, err, audit.EINVALID)
	problems, _, _, err = f.app.CheckPolicy(f.ctx, bad)
	if err != nil || len(problems) < 2 {
		t.Fatalf("check: %v, problems %q; want every problem", err, problems)
	}
	if list, err := f.db.BonusPolicies().List(f.ctx, false); err != nil || len(list) != 0 {
		t.Fatalf("refused policies were stored: %d (%v)", len(list), err)
	}
}

func TestParsePolicy(t *testing.T) {
	if _, err := app.ParsePolicy([]byte(`{"id": "a", "nmae": "typo"}`)); audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := app.ParsePolicy([]byte(`{"id": "a"} {}`)); audit.ErrorCode(err) != audit.EINVALID {
		t.Fatalf("two values: %v", err)
	}
	wantCode(t, func() error { _, err := app.ParsePolicy([]byte(`{"id": `)); return err }(), audit.EINVALID, "policy JSON")
	p, err := app.ParsePolicy([]byte(`{"id": "a", "name": "A"}`))
	if err != nil || p.ID != "a" || p.Name != "A" {
		t.Fatalf("parse: %v %+v", err, p)
	}
}
