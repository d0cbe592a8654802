package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// pushStaffVisit submits a visit of shopper s1 at store on the given day
// after w.day naming staffID ("" for nobody), and approves it when asked.
func (w *world) pushStaffVisit(t *testing.T, store *audit.Store, staffID string, day int, approve bool) string {
	t.Helper()
	ctx := context.Background()
	a := w.assignment(store, w.s1, day)
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, a))
	sess, err := w.app.CreateSession(ctx, w.s1, "phone-"+a.ID, "phone", []byte("refresh-"+a.ID), w.clock.Add(time.Hour), "")
	require.NoError(t, err)
	yes := true
	start := a.WindowStart.Add(time.Hour)
	v := &audit.Visit{ID: "v-" + a.ID, AssignmentID: a.ID, StoreID: store.ID, ShopperID: w.s1, ChecklistID: "c", StaffID: staffID,
		ChecklistVersion: 1, ContentHash: w.checklist.ContentHash, Channel: audit.ChannelStoreVisit,
		StartedAt: start, FinishedAt: start.Add(30 * time.Minute),
		Answers: []audit.Answer{{QuestionID: "q", Bool: &yes}}}
	if w.clock.Before(start.Add(time.Hour)) {
		w.clock = start.Add(time.Hour)
	}
	res, err := w.app.Push(ctx, app.Device{UserID: w.s1, SessionID: sess.ID}, w.clock,
		[]app.Mutation{{Seq: 1, ID: "m-" + a.ID, DeviceTime: w.clock, Digest: protocol.VisitDigest(v), Visit: v}})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
	if approve {
		for _, action := range []audit.ReviewAction{audit.ActionStartReview, audit.ActionApprove} {
			_, err := w.app.ReviewVisit(ctx, w.admin, v.ID, action, "", nil)
			require.NoError(t, err)
		}
	}
	return v.ID
}

// staffUser makes an employee of store with an account, returning him
// and his principal.
func (w *world) staffUser(t *testing.T, number, name string, store *audit.Store) (*audit.Staff, audit.Principal) {
	t.Helper()
	ctx := context.Background()
	s := &audit.Staff{EmployeeNumber: number, Name: name, StoreID: store.ID}
	require.NoError(t, w.app.CreateStaff(ctx, audit.Scope{All: true}, s))
	inv, err := w.app.InviteStaff(ctx, w.admin, []app.StaffInvite{{EmployeeNumber: number, Email: number + "@example.com"}})
	require.NoError(t, err)
	return s, audit.Principal{UserID: inv[0].User.ID, Role: audit.RoleStaff}
}

// TestMyVisits holds the rule of which visits an employee sees: approved
// ones that name him, or name nobody at the store he was on the staff
// list of that day; never another's, never one not yet approved.
func TestMyVisits(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	ivan, ivanP := w.staffUser(t, "E1", "Ivan Sokolov", w.storeA)
	olga, olgaP := w.staffUser(t, "E2", "Olga Orlova", w.storeA)
	_, borisP := w.staffUser(t, "E3", "Boris Belov", w.storeB)

	named := w.pushStaffVisit(t, w.storeA, ivan.ID, 1, true)
	nobody := w.pushStaffVisit(t, w.storeA, "", 2, true)
	olgas := w.pushStaffVisit(t, w.storeA, olga.ID, 3, true)
	pending := w.pushStaffVisit(t, w.storeA, ivan.ID, 4, false)
	otherStore := w.pushStaffVisit(t, w.storeB, "", 5, true)
	// Ivan moves to B-1 from day 10; B-1's unnamed visit after that is
	// his, A-1's is no longer.
	_, _, err := w.app.TransferStaff(ctx, audit.Scope{All: true}, ivan.ID, w.storeB.ID, w.day.AddDate(0, 0, 10).Format(time.DateOnly), w.admin.UserID)
	require.NoError(t, err)
	afterMoveB := w.pushStaffVisit(t, w.storeB, "", 11, true)
	afterMoveA := w.pushStaffVisit(t, w.storeA, "", 12, true)

	ids := func(p audit.Principal) []string {
		t.Helper()
		list, err := w.app.MyVisits(ctx, p, w.day.Format("2006-01"))
		require.NoError(t, err)
		var out []string
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	assert.ElementsMatch(t, []string{named, nobody, afterMoveB}, ids(ivanP))
	assert.ElementsMatch(t, []string{nobody, olgas, afterMoveA}, ids(olgaP))
	assert.ElementsMatch(t, []string{otherStore, afterMoveB}, ids(borisP))

	d, err := w.app.MyVisit(ctx, ivanP, named)
	require.NoError(t, err)
	assert.Equal(t, ivan.ID, d.StaffID)
	for _, id := range []string{olgas, pending, otherStore, afterMoveA, "no-such-visit"} {
		_, err := w.app.MyVisit(ctx, ivanP, id)
		requireCode(t, audit.ENOTFOUND, err)
	}
	_, err = w.app.MyVisits(ctx, w.mA, w.day.Format("2006-01"))
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.MyVisit(ctx, w.admin, named)
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.MyVisits(ctx, ivanP, "last month")
	requireCode(t, audit.EINVALID, err)
	list, err := w.app.MyVisits(ctx, ivanP, w.day.AddDate(0, 1, 0).Format("2006-01"))
	require.NoError(t, err)
	assert.Empty(t, list, "another month")
	pay, err := w.app.MyPay(ctx, ivanP, w.day.Format("2006-01"))
	require.NoError(t, err)
	assert.Empty(t, pay, "no approved run")
}

func TestStaffInvitation(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	for _, s := range []*audit.Staff{
		{EmployeeNumber: "E1", Name: "Ivan Sokolov", StoreID: w.storeA.ID},
		{EmployeeNumber: "E2", Name: "Olga Orlova", StoreID: w.storeA.ID},
		{EmployeeNumber: "E3", Name: "Boris Belov", StoreID: w.storeB.ID},
	} {
		require.NoError(t, w.app.CreateStaff(ctx, audit.Scope{All: true}, s))
	}
	_, err := w.app.SetStaffDeactivated(ctx, audit.Scope{All: true}, mustStaff(t, w, "E3").ID, true)
	require.NoError(t, err)

	// A bulk with problems stores nothing and names every one.
	_, err = w.app.InviteStaff(ctx, w.admin, []app.StaffInvite{
		{EmployeeNumber: "E1", Email: "ivan@example.com"},
		{EmployeeNumber: "E9", Email: "x@example.com"},
		{EmployeeNumber: "E3", Email: "boris@example.com"},
		{EmployeeNumber: "E2", Email: "not an e-mail"},
		{EmployeeNumber: "E1", Email: "again@example.com"},
	})
	requireCode(t, audit.ENOTFOUND, err)
	msg := audit.ErrorMessage(err)
	for _, want := range []string{"no employee has the number E9", "Boris Belov (E3) has left", "Olga Orlova (E2)", "employee E1 is asked for twice"} {
		assert.Contains(t, msg, want)
	}
	_, err = w.db.Users().FindByStaff(ctx, mustStaff(t, w, "E1").ID)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = w.app.InviteStaff(ctx, w.admin, nil)
	requireCode(t, audit.EINVALID, err)
	_, err = w.app.InviteStaff(ctx, w.admin, []app.StaffInvite{{EmployeeNumber: "E2", Email: "a@example.com"}})
	requireCode(t, audit.EEXISTS, err)
	assert.Contains(t, audit.ErrorMessage(err), "Olga Orlova (E2)", "the e-mail is the manager's")
	_, err = w.app.InviteStaff(ctx, w.mA, []app.StaffInvite{{EmployeeNumber: "E3", Email: "b3@example.com"}})
	requireCode(t, audit.ENOTFOUND, err) // outside the manager's stores

	inv, err := w.app.InviteStaff(ctx, w.admin, []app.StaffInvite{{EmployeeNumber: "E1", Email: " Ivan@Example.com "}, {EmployeeNumber: "E2", Email: "olga@example.com"}})
	require.NoError(t, err)
	require.Len(t, inv, 2)
	assert.Equal(t, "ivan@example.com", inv[0].User.Email)
	assert.Equal(t, audit.RoleStaff, inv[0].User.Role)
	assert.Equal(t, w.clock.Add(audit.InvitationTTL), inv[0].ExpiresAt)
	_, err = w.app.InviteStaff(ctx, w.admin, []app.StaffInvite{{EmployeeNumber: "E1", Email: "ivan2@example.com"}})
	requireCode(t, audit.EEXISTS, err)
	assert.Contains(t, audit.ErrorMessage(err), "Ivan Sokolov (E1) has an account already (ivan@example.com)")

	got, err := w.app.CheckInvitation(ctx, inv[0].Token)
	require.NoError(t, err)
	assert.Equal(t, "Ivan Sokolov", got.Staff.Name)
	_, err = w.app.CheckInvitation(ctx, "nonsense")
	requireCode(t, audit.ENOTFOUND, err)
	_, err = w.app.CheckInvitation(ctx, "")
	requireCode(t, audit.EINVALID, err)

	_, err = w.app.AcceptInvitation(ctx, inv[0].Token, "hash-1", "")
	require.NoError(t, err)
	_, hash, err := w.db.Users().FindByEmail(ctx, "ivan@example.com")
	require.NoError(t, err)
	assert.Equal(t, "hash-1", hash)
	_, err = w.app.AcceptInvitation(ctx, inv[0].Token, "hash-2", "")
	requireCode(t, audit.EPRECONDITION, err)
	assert.Contains(t, audit.ErrorMessage(err), "Ivan Sokolov (E1) was used on")

	// Olga's link runs out after seven days.
	w.clock = w.clock.Add(audit.InvitationTTL)
	_, err = w.app.AcceptInvitation(ctx, inv[1].Token, "hash-3", "")
	requireCode(t, audit.EPRECONDITION, err)
	assert.Contains(t, audit.ErrorMessage(err), "Olga Orlova (E2) expired on")
	_, hash, err = w.db.Users().FindByEmail(ctx, "olga@example.com")
	require.NoError(t, err)
	assert.Empty(t, hash, "an expired link sets nothing")
}

func mustStaff(t *testing.T, w *world, number string) *audit.Staff {
	t.Helper()
	s, err := w.db.Staff().FindByNumber(context.Background(), audit.Scope{All: true}, number)
	require.NoError(t, err)
	return s
}
