package server_test

import (
	"testing"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

func assignmentIDs(as []*v1.Assignment) map[string]bool {
	out := map[string]bool{}
	for _, a := range as {
		out[a.Id] = true
	}
	return out
}

func TestAssignmentService(t *testing.T) {
	ts := MustRunServer(t, nil)
	f := newOrgFixture(t, ts)
	c := f.c
	start, end := window(7)
	spec := func(store, shopper string) *v1.AssignmentSpec {
		return &v1.AssignmentSpec{StoreId: store, ChecklistId: "store-visit", WindowStartTime: start, WindowEndTime: end, ShopperId: shopper}
	}

	var mine *v1.Assignment
	t.Run("Create", func(t *testing.T) {
		resp, err := call(t, c.Assignment.CreateAssignment, f.managerA, &v1.CreateAssignmentRequest{Spec: spec(f.stores["MSK-01"], f.shopperAID)})
		require.NoError(t, err)
		mine = resp.Assignment
		assert.Equal(t, v1.AssignmentState_ASSIGNMENT_STATE_ACCEPTED, mine.State)
		assert.Equal(t, int32(1), mine.ChecklistVersion, "version 0 resolves to the latest published")
		assert.Equal(t, v1.Channel_CHANNEL_STORE_VISIT, mine.Channel)

		open, err := call(t, c.Assignment.CreateAssignment, f.managerA, &v1.CreateAssignmentRequest{Spec: spec(f.stores["MSK-02"], "")})
		require.NoError(t, err)
		assert.Equal(t, v1.AssignmentState_ASSIGNMENT_STATE_OPEN, open.Assignment.State)
	})
	t.Run("CreateErrors", func(t *testing.T) {
		bad := spec(f.stores["MSK-01"], f.shopperAID)
		bad.WindowEndTime = bad.WindowStartTime
		draft := spec(f.stores["MSK-01"], "")
		draft.ChecklistId = "no-such-checklist"
		cases := []struct {
			name  string
			token string
			spec  *v1.AssignmentSpec
			code  connect.Code
		}{
			{"another manager's store", f.managerA, spec(f.storeB, f.shopperAID), connect.CodeNotFound},
			{"empty window", f.managerA, bad, connect.CodeInvalidArgument},
			{"no store", f.managerA, spec("", ""), connect.CodeInvalidArgument},
			{"unknown checklist", f.managerA, draft, connect.CodeNotFound},
			{"a manager is no shopper", f.managerA, spec(f.stores["MSK-01"], f.managerBID), connect.CodeFailedPrecondition},
			{"shoppers cannot assign", f.shopperA, spec(f.stores["MSK-01"], f.shopperAID), connect.CodePermissionDenied},
			{"HR cannot assign", f.hr, spec(f.stores["MSK-01"], f.shopperAID), connect.CodePermissionDenied},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := call(t, c.Assignment.CreateAssignment, tc.token, &v1.CreateAssignmentRequest{Spec: tc.spec})
				requireCode(t, tc.code, err)
			})
		}
	})
	t.Run("BulkCreate", func(t *testing.T) {
		resp, err := call(t, c.Assignment.BulkCreateAssignments, f.managerA, &v1.BulkCreateAssignmentsRequest{Specs: []*v1.AssignmentSpec{
			spec(f.stores["MSK-01"], f.shopperBID),
			spec(f.storeB, f.shopperBID),
			spec(f.stores["DEPOT-1"], ""),
			{StoreId: f.stores["MSK-01"]},
		}})
		require.NoError(t, err)
		require.Len(t, resp.Results, 4)
		assert.NotNil(t, resp.Results[0].Assignment)
		assert.Equal(t, "not_found", resp.Results[1].ErrorCode, "one bad item does not stop the others")
		assert.NotNil(t, resp.Results[2].Assignment)
		assert.Equal(t, "invalid_argument", resp.Results[3].ErrorCode)
		assert.NotEmpty(t, resp.Results[3].ErrorMessage)

		_, err = call(t, c.Assignment.BulkCreateAssignments, f.managerA, &v1.BulkCreateAssignmentsRequest{})
		requireCode(t, connect.CodeInvalidArgument, err)
	})
	t.Run("ListIsScoped", func(t *testing.T) {
		a, err := call(t, c.Assignment.ListAssignments, f.shopperA, &v1.ListAssignmentsRequest{})
		require.NoError(t, err)
		for _, as := range a.Assignments {
			assert.Equal(t, f.shopperAID, as.ShopperId)
		}
		assert.True(t, assignmentIDs(a.Assignments)[mine.Id])

		b, err := call(t, c.Assignment.ListAssignments, f.shopperB, &v1.ListAssignmentsRequest{ShopperId: f.shopperAID})
		require.NoError(t, err)
		assert.Empty(t, b.Assignments, "a shopper never sees another shopper's assignments, whatever he asks for")

		mb, err := call(t, c.Assignment.ListAssignments, f.managerB, &v1.ListAssignmentsRequest{})
		require.NoError(t, err)
		assert.Empty(t, mb.Assignments, "manager B has no assignments in his store yet")
		_, err = call(t, c.Assignment.CancelAssignment, f.managerB, &v1.CancelAssignmentRequest{AssignmentId: mine.Id})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Assignment.ReassignAssignment, f.managerB, &v1.ReassignAssignmentRequest{AssignmentId: mine.Id, ShopperId: f.shopperBID})
		requireCode(t, connect.CodeNotFound, err)
	})
	t.Run("Pagination", func(t *testing.T) {
		seen := map[string]bool{}
		token := ""
		pages := 0
		for {
			resp, err := call(t, c.Assignment.ListAssignments, f.admin, &v1.ListAssignmentsRequest{PageSize: 2, PageToken: token})
			require.NoError(t, err)
			for _, a := range resp.Assignments {
				assert.False(t, seen[a.Id], "assignment %s listed twice", a.Id)
				seen[a.Id] = true
			}
			pages++
			if token = resp.NextPageToken; token == "" {
				break
			}
		}
		all, err := call(t, c.Assignment.ListAssignments, f.admin, &v1.ListAssignmentsRequest{PageSize: 500})
		require.NoError(t, err)
		assert.Equal(t, assignmentIDs(all.Assignments), seen)
		assert.Greater(t, pages, 3)
		_, err = call(t, c.Assignment.ListAssignments, f.admin, &v1.ListAssignmentsRequest{PageToken: "garbage!"})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Assignment.ListAssignments, f.admin, &v1.ListAssignmentsRequest{PageSize: 501})
		requireCode(t, connect.CodeInvalidArgument, err)
	})
	t.Run("Reassign", func(t *testing.T) {
		resp, err := call(t, c.Assignment.ReassignAssignment, f.managerA, &v1.ReassignAssignmentRequest{AssignmentId: mine.Id, ShopperId: f.shopperBID})
		require.NoError(t, err)
		assert.Equal(t, f.shopperBID, resp.Assignment.ShopperId)
		a, err := call(t, c.Assignment.ListAssignments, f.shopperA, &v1.ListAssignmentsRequest{})
		require.NoError(t, err)
		assert.False(t, assignmentIDs(a.Assignments)[mine.Id])
		b, err := call(t, c.Assignment.ListAssignments, f.shopperB, &v1.ListAssignmentsRequest{})
		require.NoError(t, err)
		assert.True(t, assignmentIDs(b.Assignments)[mine.Id])

		opened, err := call(t, c.Assignment.ReassignAssignment, f.managerA, &v1.ReassignAssignmentRequest{AssignmentId: mine.Id})
		require.NoError(t, err)
		assert.Equal(t, v1.AssignmentState_ASSIGNMENT_STATE_OPEN, opened.Assignment.State)
	})
	t.Run("Cancel", func(t *testing.T) {
		resp, err := call(t, c.Assignment.CancelAssignment, f.managerA, &v1.CancelAssignmentRequest{AssignmentId: mine.Id, Reason: "store closed for inventory"})
		require.NoError(t, err)
		assert.Equal(t, v1.AssignmentState_ASSIGNMENT_STATE_CANCELLED, resp.Assignment.State)
		assert.Equal(t, "store closed for inventory", resp.Assignment.CancelReason)
		_, err = call(t, c.Assignment.CancelAssignment, f.managerA, &v1.CancelAssignmentRequest{AssignmentId: mine.Id})
		requireCode(t, connect.CodeFailedPrecondition, err)
		_, err = call(t, c.Assignment.ReassignAssignment, f.managerA, &v1.ReassignAssignmentRequest{AssignmentId: mine.Id, ShopperId: f.shopperAID})
		requireCode(t, connect.CodeFailedPrecondition, err)
		_, err = call(t, c.Assignment.CancelAssignment, f.shopperA, &v1.CancelAssignmentRequest{AssignmentId: mine.Id})
		requireCode(t, connect.CodePermissionDenied, err)
	})
	t.Run("RetireInUseAtAnotherManagersStores", func(t *testing.T) {
		// store-visit 1 has an open assignment at manager A's MSK-02:
		// manager B may not retire it for him.
		_, err := call(t, c.Checklist.RetireVersion, f.managerB, &v1.RetireVersionRequest{ChecklistId: "store-visit", Version: 1})
		requireCode(t, connect.CodePermissionDenied, err)
		assert.Contains(t, err.Error(), "MSK-02")
		v, err := call(t, c.Checklist.GetChecklistVersion, f.managerA, &v1.GetChecklistVersionRequest{ChecklistId: "store-visit", Version: 1})
		require.NoError(t, err)
		assert.Equal(t, v1.ChecklistVersionState_CHECKLIST_VERSION_STATE_PUBLISHED, v.Version.State)
	})
	t.Run("RetiredVersion", func(t *testing.T) {
		_, err := call(t, c.Checklist.RetireVersion, f.managerA, &v1.RetireVersionRequest{ChecklistId: "delivery", Version: 1})
		require.NoError(t, err)
		s := spec(f.stores["DEPOT-1"], f.shopperAID)
		s.ChecklistId, s.ChecklistVersion = "delivery", 1
		_, err = call(t, c.Assignment.CreateAssignment, f.managerA, &v1.CreateAssignmentRequest{Spec: s})
		requireCode(t, connect.CodeFailedPrecondition, err)
	})
}
