package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
)

// TestSyncService_Pull_NewStaff shows that a phone learns of a new member
// of staff at a store it has work for on its next pull, so the shopper can
// name who served him.
func TestSyncService_Pull_NewStaff(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	f := newField(t, ts, c)
	_, cursor, _ := pullAll(t, c, f.token, "", 500)

	_, err := call(t, c.Org.CreateStaff, f.admin, &v1.CreateStaffRequest{Staff: &v1.Staff{
		EmployeeNumber: "E7777", Name: "Oksana New", Position: "cashier", Department: "sales", StoreId: f.stores["MSK-01"]}})
	require.NoError(t, err)

	changes, _, _ := pullAll(t, c, f.token, cursor, 500)
	var names []string
	for _, ch := range changes {
		if up := ch.GetAssignmentUpsert(); up != nil {
			require.Equal(t, f.stores["MSK-01"], up.Store.Id, "only the store's assignments move")
			for _, s := range up.Staff {
				names = append(names, s.Name)
			}
		}
	}
	assert.Contains(t, names, "Oksana New")
}
