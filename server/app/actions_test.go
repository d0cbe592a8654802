package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/app"
	"github.com/shopscore/shopscore/server/storage"
	"github.com/shopscore/shopscore/sync/protocol"
)

// actionWorld is the world with checklist "price": a critical price-tag
// question, a question that opens an action when failed and a plain one.
type actionWorld struct {
	*world
	version *audit.ChecklistVersion
	n       int
}

func newActionWorld(t *testing.T) *actionWorld {
	t.Helper()
	ctx := context.Background()
	w := &actionWorld{world: newWorld(t)}
	c := &audit.Checklist{ID: "price", Name: "Prices", Channel: audit.ChannelStoreVisit,
		Standards: []audit.Standard{{Code: "PR-1", Clause: "Every item on sale has a price tag", Category: audit.CategoryPoliteness}},
		Sections: []audit.Section{{ID: "s", Title: "Shelves", Questions: []audit.Question{
			{ID: "tags", Type: audit.QuestionYesNo, Text: "Price tags on every item?", StandardCode: "PR-1", Critical: true, Required: true},
			{ID: "clean", Type: audit.QuestionYesNo, Text: "Shelves clean?", OpensAction: true, Required: true},
			{ID: "music", Type: audit.QuestionYesNo, Text: "Music playing?", Required: true},
		}}}}
	_, err := w.app.SaveDraft(ctx, c, "me")
	require.NoError(t, err)
	w.version, err = w.app.PublishVersion(ctx, "price", 1)
	require.NoError(t, err)
	return w
}

// approve pushes a visit of s1 at A-1 with the answers (question id →
// yes) and has mA approve it; it returns the visit's id.
func (w *actionWorld) approve(t *testing.T, ans map[string]bool) string {
	t.Helper()
	ctx := context.Background()
	w.n++
	a := &audit.Assignment{StoreID: w.storeA.ID, ChecklistID: "price", ShopperID: w.s1, CreatedBy: w.mA.UserID,
		WindowStart: w.clock, WindowEnd: w.clock.Add(72 * time.Hour)}
	require.NoError(t, w.app.CreateAssignment(ctx, audit.Scope{All: true}, a))
	sess, err := w.app.CreateSession(ctx, w.s1, "phone-"+a.ID, "phone", []byte("refresh-"+a.ID), w.clock.Add(time.Hour), "")
	require.NoError(t, err)
	v := &audit.Visit{ID: "v-" + a.ID, AssignmentID: a.ID, StoreID: w.storeA.ID, ShopperID: w.s1, ChecklistID: "price",
		ChecklistVersion: 1, ContentHash: w.version.ContentHash, Channel: audit.ChannelStoreVisit,
		StartedAt: w.clock.Add(time.Hour), FinishedAt: w.clock.Add(90 * time.Minute)}
	for _, q := range []string{"tags", "clean", "music"} {
		b := ans[q]
		v.Answers = append(v.Answers, audit.Answer{QuestionID: q, Bool: &b})
	}
	w.clock = w.clock.Add(2 * time.Hour)
	res, err := w.app.Push(ctx, app.Device{UserID: w.s1, SessionID: sess.ID}, w.clock,
		[]app.Mutation{{Seq: 1, ID: "m-" + a.ID, DeviceTime: w.clock, Digest: protocol.VisitDigest(v), Visit: v}})
	require.NoError(t, err)
	require.Equal(t, storage.MutationApplied, res.Results[0].Status, "%v", res.Results[0].Err)
	_, err = w.app.ReviewVisit(ctx, w.mA, v.ID, audit.ActionStartReview, "", nil)
	require.NoError(t, err)
	_, err = w.app.ReviewVisit(ctx, w.mA, v.ID, audit.ActionApprove, "", nil)
	require.NoError(t, err)
	return v.ID
}

// actionEvents returns the types of the action events in the outbox, with
// the action's state each reported.
func (w *actionWorld) actionEvents(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, e := range w.events(t) {
		if !strings.HasPrefix(e.Type, "action.") {
			continue
		}
		var b struct {
			Data struct {
				Action struct {
					State    string `json:"state"`
					Question struct{ ID, Text string }
					Store    struct{ Code, Name string }
					Owner    *struct{ Name string }
				} `json:"action"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(e.Body, &b))
		x := b.Data.Action
		require.Equal(t, "A-1", x.Store.Code, "events name the store")
		require.NotEmpty(t, x.Question.Text, "events name the question")
		out = append(out, e.Type+" "+x.Question.ID+" "+x.State)
	}
	return out
}

func TestActions_OpenedVerifiedReopened(t *testing.T) {
	ctx := context.Background()
	w := newActionWorld(t)
	v1 := w.approve(t, map[string]bool{"tags": false, "clean": false, "music": false})

	list, err := w.app.ListActions(ctx, w.mA, app.ActionList{StoreID: w.storeA.ID})
	require.NoError(t, err)
	require.Len(t, list, 2, "the critical question and the one marked opens_action; the plain one opens nothing")
	byQ := map[string]*audit.Action{}
	for _, a := range list {
		byQ[a.QuestionID] = a
	}
	tags, clean := byQ["tags"], byQ["clean"]
	require.NotNil(t, tags)
	require.NotNil(t, clean)
	assert.Equal(t, audit.SeverityCritical, tags.Severity)
	assert.Equal(t, audit.SeverityMajor, clean.Severity)
	assert.Equal(t, "2026-12-04", tags.DueDate, "three days for a critical action, from the day of the approval in Moscow time")
	assert.Equal(t, "2026-12-15", clean.DueDate)
	assert.Equal(t, w.mA.UserID, tags.OwnerID, "the store's manager owns it")
	assert.Equal(t, "a@example.com", tags.OwnerName)
	assert.Equal(t, "PR-1", tags.StandardCode)
	assert.Equal(t, v1, tags.VisitID)
	assert.Equal(t, audit.ActionOpen, tags.State)
	var types []string
	for _, e := range w.events(t) {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{app.EventVisitSubmitted, app.EventVisitComplete, app.EventVisitApproved, app.EventActionOpened, app.EventActionOpened}, types,
		"the approval's event comes before the actions it opened")

	mine, err := w.app.ListActions(ctx, w.mA, app.ActionList{Mine: true})
	require.NoError(t, err)
	assert.Len(t, mine, 2)
	_, err = w.app.GetAction(ctx, w.mB, tags.ID)
	requireCode(t, audit.ENOTFOUND, err)
	_, err = w.app.MoveAction(ctx, w.mB, tags.ID, audit.StepStart, "", nil)
	requireCode(t, audit.ENOTFOUND, err)
	other, err := w.app.ListActions(ctx, w.mB, app.ActionList{})
	require.NoError(t, err)
	assert.Empty(t, other, "a manager sees his stores' actions only")

	// A second failing visit while it is open changes nothing.
	w.approve(t, map[string]bool{"tags": false, "clean": true, "music": true})
	got, err := w.app.GetAction(ctx, w.mA, tags.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionOpen, got.State)

	_, err = w.app.MoveAction(ctx, w.mA, tags.ID, audit.StepVerify, "", nil)
	requireCode(t, audit.EPRECONDITION, err)
	_, err = w.app.MoveAction(ctx, w.mA, tags.ID, audit.StepStart, "", nil)
	require.NoError(t, err)
	_, err = w.app.MoveAction(ctx, w.mA, tags.ID, audit.StepDone, "  ", nil)
	requireCode(t, audit.EINVALID, err)
	_, err = w.app.MoveAction(ctx, w.mA, tags.ID, audit.StepDone, "tags printed",
		[]audit.ActionProof{{SHA256: "nothex", Size: 10, ContentType: "image/jpeg"}})
	requireCode(t, audit.EINVALID, err)
	sha := strings.Repeat("ab", 32)
	got, err = w.app.MoveAction(ctx, w.mA, tags.ID, audit.StepDone, "tags printed",
		[]audit.ActionProof{{SHA256: sha, Size: 10, ContentType: "image/jpeg", FileName: "shelf.jpg"}})
	require.NoError(t, err)
	assert.Equal(t, audit.ActionDone, got.State)
	assert.Equal(t, "tags printed", got.Note)
	require.Len(t, got.Proof, 1)
	assert.False(t, got.Proof[0].Verified)

	// The proof's bytes verified through the evidence path.
	require.NoError(t, w.app.RecordVerifiedPhoto(ctx, storage.VerifiedBlob{SHA256: sha, Size: 10, ContentType: "image/jpeg"}))
	got, err = w.app.GetAction(ctx, w.mA, tags.ID)
	require.NoError(t, err)
	assert.True(t, got.Proof[0].Verified)

	// A failing visit reopens it.
	v3 := w.approve(t, map[string]bool{"tags": false, "clean": false, "music": true})
	got, err = w.app.GetAction(ctx, w.mA, tags.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionReopened, got.State)
	assert.Equal(t, v3, got.ResolvedByVisitID)

	// Done again, and a passing visit verifies it.
	_, err = w.app.MoveAction(ctx, w.mA, tags.ID, audit.StepDone, "tags printed again", nil)
	require.NoError(t, err)
	v4 := w.approve(t, map[string]bool{"tags": true, "clean": false, "music": false})
	got, err = w.app.GetAction(ctx, w.mA, tags.ID)
	require.NoError(t, err)
	assert.Equal(t, audit.ActionVerified, got.State)
	assert.Equal(t, v4, got.ResolvedByVisitID)
	var steps []string
	for _, h := range got.History {
		steps = append(steps, string(h.From)+">"+string(h.To)+" "+h.ActorRole)
	}
	assert.Equal(t, []string{">open system", "open>in_progress manager", "in_progress>done manager", "done>reopened system",
		"reopened>done manager", "done>verified system"}, steps)

	// A failing visit after verification opens a new action.
	w.approve(t, map[string]bool{"tags": false, "clean": true, "music": true})
	open, err := w.app.ListActions(ctx, w.admin, app.ActionList{States: []audit.ActionState{audit.ActionOpen}})
	require.NoError(t, err)
	var openQ []string
	for _, a := range open {
		openQ = append(openQ, a.QuestionID)
	}
	assert.ElementsMatch(t, []string{"tags", "clean"}, openQ, "a new action on tags; clean still open from the first visit, never done")

	assert.Equal(t, []string{
		"action.opened tags open", "action.opened clean open",
		"action.done tags done",
		"action.reopened tags reopened",
		"action.done tags done",
		"action.verified tags verified",
		"action.opened tags open",
	}, w.actionEvents(t))
}

func TestActions_OverdueReportedOnce(t *testing.T) {
	ctx := context.Background()
	w := newActionWorld(t)
	w.approve(t, map[string]bool{"tags": false, "clean": true, "music": true})
	n, err := w.app.ReportOverdueActions(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not due yet")
	counts, err := w.app.OverdueActionCounts(ctx, w.mA)
	require.NoError(t, err)
	assert.Empty(t, counts)

	// Due 2026-12-04 in Moscow: still not overdue at 23:30 that day there.
	w.clock = time.Date(2026, 12, 4, 20, 30, 0, 0, time.UTC)
	n, err = w.app.ReportOverdueActions(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	w.clock = time.Date(2026, 12, 4, 21, 30, 0, 0, time.UTC) // 00:30 on the 5th in Moscow
	n, err = w.app.ReportOverdueActions(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = w.app.ReportOverdueActions(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "reported once")

	list, err := w.app.ListActions(ctx, w.mA, app.ActionList{Overdue: true})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, list[0].Overdue)
	counts, err = w.app.OverdueActionCounts(ctx, w.admin)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{w.storeA.ID: 1}, counts)
	counts, err = w.app.OverdueActionCounts(ctx, w.mB)
	require.NoError(t, err)
	assert.Empty(t, counts)
	assert.Equal(t, []string{"action.opened tags open", "action.overdue tags open"}, w.actionEvents(t))

	// The audit workbook's Actions sheet lists it, overdue, in scope.
	sheet := func(p audit.Principal) [][]string {
		t.Helper()
		var buf bytes.Buffer
		require.NoError(t, w.app.WriteAuditWorkbook(ctx, app.AuditQuery{Scope: audit.ScopeOf(p), From: "2026-12", Location: time.UTC}, &buf,
			app.AuditWorkbookOptions{}))
		f, err := excelize.OpenReader(&buf)
		require.NoError(t, err)
		rows, err := f.GetRows("Actions")
		require.NoError(t, err)
		return rows
	}
	rows := sheet(w.mA)
	require.Len(t, rows, 2, "a header and one action: %v", rows)
	assert.Equal(t, []string{"Store", "Store name", "Question", "Question text", "Standard", "Severity", "State", "Owner", "Opened", "Due",
		"Overdue", "Visit", "Resolved by visit", "Note", "Action"}, rows[0])
	assert.Equal(t, []string{"A-1", "Store A-1", "tags", "Price tags on every item?", "PR-1", "critical", "open", "a@example.com"}, rows[1][:8])
	assert.Equal(t, []string{"2026-12-04", "yes", list[0].VisitID}, rows[1][9:12])
	assert.Len(t, sheet(w.mB), 1, "another store's manager: the header only")
}

func TestActions_Reassign(t *testing.T) {
	ctx := context.Background()
	w := newActionWorld(t)
	w.approve(t, map[string]bool{"tags": false, "clean": true, "music": true})
	list, err := w.app.ListActions(ctx, w.mA, app.ActionList{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	id := list[0].ID
	_, err = w.app.ReassignAction(ctx, w.mA, id, w.mB.UserID, "")
	requireCode(t, audit.EINVALID, err)
	assert.Contains(t, audit.ErrorMessage(err), "does not manage store A-1 Store A-1")
	_, err = w.app.ReassignAction(ctx, w.mA, id, w.s1, "")
	requireCode(t, audit.EINVALID, err)
	_, err = w.app.ReassignAction(ctx, audit.Principal{UserID: w.s1, Role: audit.RoleShopper}, id, w.admin.UserID, "")
	requireCode(t, audit.EFORBIDDEN, err)
	_, err = w.app.ReassignAction(ctx, w.mA, id, w.mA.UserID, "")
	requireCode(t, audit.EINVALID, err)
	assert.Contains(t, audit.ErrorMessage(err), "owns the action already")
	_, err = w.app.ReassignAction(ctx, w.mB, id, w.admin.UserID, "")
	requireCode(t, audit.ENOTFOUND, err)

	// Who may own it: the store's active managers and the admins, the
	// owner marked; another store's manager may not even ask.
	owners, err := w.app.ActionOwners(ctx, w.mA, id)
	require.NoError(t, err)
	var names []string
	for _, o := range owners {
		names = append(names, o.Name)
		assert.Equal(t, o.User.ID == w.mA.UserID, o.Current, o.Name)
	}
	assert.ElementsMatch(t, []string{"a@example.com", "admin@example.com"}, names)
	_, err = w.app.ActionOwners(ctx, w.mB, id)
	requireCode(t, audit.ENOTFOUND, err)

	got, err := w.app.ReassignAction(ctx, w.mA, id, w.admin.UserID, "  away until Monday  ")
	require.NoError(t, err)
	assert.Equal(t, w.admin.UserID, got.OwnerID)
	assert.Equal(t, "admin@example.com", got.OwnerName)
	assert.Equal(t, audit.ActionOpen, got.State, "a reassignment keeps the state")
	last := got.History[len(got.History)-1]
	assert.True(t, last.Reassigned)
	assert.Equal(t, "admin@example.com", last.OwnerName)
	assert.Equal(t, "away until Monday", last.Note, "the history keeps the note")
	mine, err := w.app.ListActions(ctx, w.admin, app.ActionList{Mine: true})
	require.NoError(t, err)
	assert.Len(t, mine, 1)
}

func TestOrgSettings_ActionDays(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	_, err := w.app.UpdateOrgSettings(ctx, w.admin, audit.OrgSettings{ActionDaysCritical: 400})
	requireCode(t, audit.EINVALID, err)
	assert.Contains(t, audit.ErrorMessage(err), "action_days_critical")
	s, err := w.app.UpdateOrgSettings(ctx, w.admin, audit.OrgSettings{ActionDaysCritical: 1, ActionDaysMajor: 30})
	require.NoError(t, err)
	assert.Equal(t, 1, s.ActionDays(audit.SeverityCritical))
	assert.Equal(t, 30, s.ActionDays(audit.SeverityMajor))
}
