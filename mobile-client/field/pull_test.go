package field

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// TestClient_Pull_ErrUnknownEnum: a change with an enum value this client
// does not know is refused with EINVALID, never read as a default (an
// unknown assignment state used to become "open"), and nothing of its
// page is kept.
func TestClient_Pull_ErrUnknownEnum(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	withAssignment := func(edit func(a *v1.Assignment)) *v1.Change {
		c := fx.assignment("a1")
		edit(c.GetAssignmentUpsert().GetAssignment())
		return c
	}
	receipt := func(state v1.VisitState) *v1.Change {
		return &v1.Change{Kind: &v1.Change_VisitReceipt{VisitReceipt: &v1.VisitReceipt{VisitId: "v1", State: state}}}
	}
	removal := func(r *v1.AssignmentRemoval) *v1.Change {
		return &v1.Change{Kind: &v1.Change_AssignmentRemoval{AssignmentRemoval: r}}
	}
	for name, tc := range map[string]struct {
		bad  *v1.Change
		want string
	}{
		"assignment state": {withAssignment(func(a *v1.Assignment) { a.State = 42 }), "unknown assignment state 42"},
		"no assignment state": {withAssignment(func(a *v1.Assignment) { a.State = v1.AssignmentState_ASSIGNMENT_STATE_UNSPECIFIED }),
			"assignment state is not set"},
		"channel":          {withAssignment(func(a *v1.Assignment) { a.Channel = 42 }), "unknown channel 42"},
		"receipt state":    {receipt(42), "unknown visit state 42"},
		"no receipt state": {receipt(v1.VisitState_VISIT_STATE_UNSPECIFIED), "visit state is not set"},
		"removal code":     {removal(&v1.AssignmentRemoval{AssignmentId: "a1", ReasonCode: 42}), "unknown removal reason 42"},
		"removal text":     {removal(&v1.AssignmentRemoval{AssignmentId: "a1", Reason: "vanished"}), `unknown removal reason "vanished"`},
		"version state": {func() *v1.Change {
			c := fx.assignment("a1")
			up := c.GetAssignmentUpsert()
			up.Checklist = proto.Clone(up.Checklist).(*v1.ChecklistVersion)
			up.Checklist.State = 42
			return c
		}(), "unknown checklist version state 42"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t)
			f.setFeed(fx.assignment("a0"), tc.bad) // one page of two
			c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
			mustLogin(t, c)
			_, err := c.Pull(ctx)
			requireCode(t, audit.EINVALID, err)
			assert.Contains(t, err.Error(), tc.want)
			var cursor string
			require.NoError(t, c.db.QueryRow(`SELECT cursor FROM device`).Scan(&cursor))
			assert.Empty(t, cursor, "the cursor stays before the page")
			as, err := c.Assignments(ctx)
			require.NoError(t, err)
			assert.Empty(t, as, "nothing of the page is kept")
		})
	}
}

// TestClient_Pull_RemovalReasonCode: the tombstone's reason is read from
// reason_code; the text is for clients that predate it.
func TestClient_Pull_RemovalReasonCode(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	f := newFakeServer(t)
	f.setFeed(fx.assignment("a1"), fx.assignment("a2"),
		&v1.Change{Kind: &v1.Change_AssignmentRemoval{AssignmentRemoval: &v1.AssignmentRemoval{AssignmentId: "a1", ReasonCode: v1.RemovalReason_REMOVAL_REASON_EXPIRED}}},
		&v1.Change{Kind: &v1.Change_AssignmentRemoval{AssignmentRemoval: &v1.AssignmentRemoval{AssignmentId: "a2", ReasonCode: v1.RemovalReason_REMOVAL_REASON_REASSIGNED}}})
	c := MustOpenClient(t, t.TempDir(), f.URL, &fakeClock{boot: "b"})
	mustLogin(t, c)
	_, err := c.Pull(ctx)
	require.NoError(t, err)
	as, err := c.Assignments(ctx)
	require.NoError(t, err)
	assert.Empty(t, as, "both are hidden")
	for id, want := range map[string][2]string{"a1": {"expired", "expired"}, "a2": {"reassigned", "accepted"}} {
		var reason, state string
		require.NoError(t, c.db.QueryRow(`SELECT removed_reason, state FROM assignments WHERE id = ?`, id).Scan(&reason, &state))
		assert.Equal(t, want, [2]string{reason, state}, id)
	}
}
