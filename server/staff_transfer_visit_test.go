package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// TestSyncService_Push_StaffTransferredAfterVisit shows that a visit is
// judged against the store's staff on the visit's day: a visit recorded
// at MSK-01 two days ago naming an employee who has since moved to another
// store, and pushed only after the move, is not flagged; the same
// employee named at his new store on a day before he moved is.
func TestSyncService_Push_StaffTransferredAfterVisit(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	from, to := f.stores["MSK-01"], ""
	for code, id := range f.stores {
		if code != "MSK-01" {
			to = id
			break
		}
	}
	require.NotEmpty(t, to)
	emp, err := call(t, c.Org.CreateStaff, f.admin, &v1.CreateStaffRequest{Staff: &v1.Staff{
		EmployeeNumber: "T-" + uuid.NewString()[:8], Name: "Павел Переводов", Position: "cashier", Department: "sales", StoreId: from}})
	require.NoError(t, err)

	// visitAt records a visit at store, started at start, naming the
	// employee; the assignment's window covers it.
	visitAt := func(store string, start time.Time) *v1.Mutation {
		a, err := call(t, c.Assignment.CreateAssignment, f.admin, &v1.CreateAssignmentRequest{Spec: &v1.AssignmentSpec{
			StoreId: store, ChecklistId: "store-visit", ShopperId: f.shopperID,
			WindowStartTime: timestamppb.New(start.Add(-time.Hour)), WindowEndTime: timestamppb.New(time.Now().Add(24 * time.Hour))}})
		require.NoError(t, err)
		rec := record(t, f.pulledUpsert(t, a.Assignment.Id).Checklist, a.Assignment.Id, store)
		rec.visit.StartedAt, rec.visit.FinishedAt = start, start.Add(20*time.Minute)
		rec.visit.StaffID = emp.Staff.Id
		f.seq++
		return submit(f.seq, rec.visit)
	}
	twoDaysAgo := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Millisecond)
	atOldStore := visitAt(from, twoDaysAgo) // recorded offline, before the move
	atNewStoreEarly := visitAt(to, twoDaysAgo)

	moved, err := call(t, c.Org.TransferStaff, f.admin, &v1.TransferStaffRequest{StaffId: emp.Staff.Id, ToStoreId: to})
	require.NoError(t, err)
	require.True(t, moved.Transfer.Applied, "a transfer dated today applies at once")
	atNewStore := visitAt(to, time.Now().Add(-30*time.Minute).UTC().Truncate(time.Millisecond))

	resp := f.mustPush(t, atOldStore, atNewStoreEarly, atNewStore)
	for _, r := range resp.Results {
		require.Equal(t, v1.MutationStatus_MUTATION_STATUS_APPLIED, r.Status, "result %v", r)
	}
	assert.NotContains(t, resp.Results[0].Receipt.Flags, "staff_not_in_store", "he worked at MSK-01 on the visit's day")
	assert.Contains(t, resp.Results[1].Receipt.Flags, "staff_not_in_store", "he had not moved yet on the visit's day")
	assert.NotContains(t, resp.Results[2].Receipt.Flags, "staff_not_in_store", "he works at the new store now")
}
