package server_test

import (
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// TestOrgService_Console covers what the console's store and staff screens
// and its settings page call: lookups by code, update, deactivate,
// transfers dated from a day on, paged staff, and the organisation's time
// zone.
func TestOrgService_Console(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk-"+uuid.NewString()).Tokens.AccessToken
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	hr := mustLogin(t, c, audit.RoleHR, "desk-"+uuid.NewString()).Tokens.AccessToken
	shopper := mustLogin(t, c, audit.RoleShopper, "phone-"+uuid.NewString()).Tokens.AccessToken
	other := newManager(t, c, admin)

	msk, err := call(t, c.Org.GetStore, manager, &v1.GetStoreRequest{StoreCode: " MSK-01 "})
	require.NoError(t, err)
	store := msk.Store
	assert.Equal(t, "MSK-01", store.Code)
	assert.Len(t, store.ManagerNames, len(store.ManagerIds))

	t.Run("GetStore errors", func(t *testing.T) {
		_, err := call(t, c.Org.GetStore, manager, &v1.GetStoreRequest{})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "store_code")
		_, err = call(t, c.Org.GetStore, other, &v1.GetStoreRequest{StoreCode: "MSK-01"})
		requireCode(t, connect.CodeNotFound, err, "another manager's store")
	})

	t.Run("UpdateStore", func(t *testing.T) {
		upd := &v1.Store{Id: store.Id, Code: store.Code, Name: store.Name + " (renovated)", Address: "Tverskaya 1", Region: store.Region,
			Latitude: store.Latitude, Longitude: store.Longitude, GeofenceMeters: 120, ManagerIds: store.ManagerIds}
		got, err := call(t, c.Org.UpdateStore, manager, &v1.UpdateStoreRequest{Store: upd})
		require.NoError(t, err)
		assert.Equal(t, "Tverskaya 1", got.Store.Address)
		assert.Equal(t, 120.0, got.Store.GeofenceMeters)

		upd.ManagerIds = nil
		_, err = call(t, c.Org.UpdateStore, manager, &v1.UpdateStoreRequest{Store: upd})
		requireCode(t, connect.CodePermissionDenied, err, "a manager cannot drop the managers")
		upd.ManagerIds = store.ManagerIds
		_, err = call(t, c.Org.UpdateStore, other, &v1.UpdateStoreRequest{Store: upd})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Org.UpdateStore, hr, &v1.UpdateStoreRequest{Store: upd})
		requireCode(t, connect.CodePermissionDenied, err)
		bad := proto.CloneOf(upd)
		bad.Latitude = 123
		_, err = call(t, c.Org.UpdateStore, manager, &v1.UpdateStoreRequest{Store: bad})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "latitude")
		_, err = call(t, c.Org.UpdateStore, manager, &v1.UpdateStoreRequest{Store: &v1.Store{Code: "X"}})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "store.id")
	})

	t.Run("DeactivateStore", func(t *testing.T) {
		code := "TMP-" + uuid.NewString()[:6]
		created, err := call(t, c.Org.CreateStore, admin, &v1.CreateStoreRequest{Store: &v1.Store{Code: code, Name: "Pop-up"}})
		require.NoError(t, err)
		_, err = call(t, c.Org.DeactivateStore, manager, &v1.DeactivateStoreRequest{StoreId: created.Store.Id})
		requireCode(t, connect.CodePermissionDenied, err)
		_, err = call(t, c.Org.DeactivateStore, admin, &v1.DeactivateStoreRequest{})
		requireCode(t, connect.CodeInvalidArgument, err)
		got, err := call(t, c.Org.DeactivateStore, admin, &v1.DeactivateStoreRequest{StoreId: created.Store.Id})
		require.NoError(t, err)
		assert.True(t, got.Store.Deactivated)
		list, err := call(t, c.Org.ListStores, admin, &v1.ListStoresRequest{Query: code})
		require.NoError(t, err)
		assert.Empty(t, list.Stores, "deactivated stores are left out")
		list, err = call(t, c.Org.ListStores, admin, &v1.ListStoresRequest{Query: code, IncludeDeactivated: true})
		require.NoError(t, err)
		assert.Len(t, list.Stores, 1)
		from, to := window(7)
		_, err = call(t, c.Assignment.CreateAssignment, admin, &v1.CreateAssignmentRequest{Spec: &v1.AssignmentSpec{StoreCode: code, ChecklistId: "store-visit",
			WindowStartTime: from, WindowEndTime: to}})
		requireCode(t, connect.CodeFailedPrecondition, err, "a closed store takes no assignments")
		back, err := call(t, c.Org.ReactivateStore, admin, &v1.ReactivateStoreRequest{StoreId: created.Store.Id})
		require.NoError(t, err)
		assert.False(t, back.Store.Deactivated)
		made, err := call(t, c.Assignment.CreateAssignment, admin, &v1.CreateAssignmentRequest{Spec: &v1.AssignmentSpec{StoreCode: code, ChecklistId: "store-visit",
			WindowStartTime: from, WindowEndTime: to}})
		require.NoError(t, err, "by store code, once open again")
		assert.Equal(t, code, made.Assignment.StoreCode)
		assert.Equal(t, "Pop-up", made.Assignment.StoreName)
		assert.NotEmpty(t, made.Assignment.ChecklistName)
		listed, err := call(t, c.Assignment.ListAssignments, admin, &v1.ListAssignmentsRequest{StoreCode: code, ChecklistId: "store-visit", FromTime: from, ToTime: to})
		require.NoError(t, err)
		require.Len(t, listed.Assignments, 1)
		assert.Equal(t, code, listed.Assignments[0].StoreCode)
		_, err = call(t, c.Assignment.CreateAssignment, other, &v1.CreateAssignmentRequest{Spec: &v1.AssignmentSpec{StoreCode: code, ChecklistId: "store-visit",
			WindowStartTime: from, WindowEndTime: to}})
		requireCode(t, connect.CodeNotFound, err, "not his store")
	})

	t.Run("Staff paging, update, deactivate", func(t *testing.T) {
		var all []*v1.Staff
		token := ""
		for {
			page, err := call(t, c.Org.ListStaff, hr, &v1.ListStaffRequest{PageSize: 2, PageToken: token})
			require.NoError(t, err)
			all = append(all, page.Staff...)
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		full, err := call(t, c.Org.ListStaff, hr, &v1.ListStaffRequest{PageSize: 500})
		require.NoError(t, err)
		require.Equal(t, len(full.Staff), len(all))
		_, err = call(t, c.Org.ListStaff, hr, &v1.ListStaffRequest{PageSize: 501})
		requireCode(t, connect.CodeInvalidArgument, err)

		mine, err := call(t, c.Org.ListStaff, manager, &v1.ListStaffRequest{StoreCode: "MSK-01"})
		require.NoError(t, err)
		require.NotEmpty(t, mine.Staff)
		s := mine.Staff[0]
		assert.Equal(t, "MSK-01", s.StoreCode)
		assert.NotEmpty(t, s.StoreName)

		got, err := call(t, c.Org.GetStaff, manager, &v1.GetStaffRequest{EmployeeNumber: s.EmployeeNumber})
		require.NoError(t, err)
		assert.Equal(t, s.Id, got.Staff.Id)
		_, err = call(t, c.Org.GetStaff, other, &v1.GetStaffRequest{StaffId: s.Id})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Org.GetStaff, manager, &v1.GetStaffRequest{})
		requireCode(t, connect.CodeInvalidArgument, err)

		upd, err := call(t, c.Org.UpdateStaff, manager, &v1.UpdateStaffRequest{Staff: &v1.Staff{Id: s.Id, EmployeeNumber: s.EmployeeNumber,
			Name: "Ирина Петрова", Position: "senior cashier", Department: s.Department}})
		require.NoError(t, err)
		assert.Equal(t, "Ирина Петрова", upd.Staff.Name)
		_, err = call(t, c.Org.UpdateStaff, manager, &v1.UpdateStaffRequest{Staff: &v1.Staff{Id: s.Id, EmployeeNumber: s.EmployeeNumber}})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "name")
		_, err = call(t, c.Org.UpdateStaff, other, &v1.UpdateStaffRequest{Staff: &v1.Staff{Id: s.Id, EmployeeNumber: "X", Name: "X"}})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Org.UpdateStaff, shopper, &v1.UpdateStaffRequest{Staff: &v1.Staff{Id: s.Id}})
		requireCode(t, connect.CodePermissionDenied, err)

		gone, err := call(t, c.Org.DeactivateStaff, manager, &v1.DeactivateStaffRequest{StaffId: s.Id})
		require.NoError(t, err)
		assert.True(t, gone.Staff.Deactivated)
		after, err := call(t, c.Org.ListStaff, manager, &v1.ListStaffRequest{StoreCode: "MSK-01"})
		require.NoError(t, err)
		assert.Len(t, after.Staff, len(mine.Staff)-1)
		_, err = call(t, c.Org.DeactivateStaff, other, &v1.DeactivateStaffRequest{StaffId: s.Id})
		requireCode(t, connect.CodeNotFound, err)
		back, err := call(t, c.Org.ReactivateStaff, manager, &v1.ReactivateStaffRequest{StaffId: s.Id})
		require.NoError(t, err)
		assert.False(t, back.Staff.Deactivated)
	})

	t.Run("TransferStaff", func(t *testing.T) {
		stores, err := call(t, c.Org.ListStores, admin, &v1.ListStoresRequest{})
		require.NoError(t, err)
		var target *v1.Store
		for _, st := range stores.Stores {
			if st.Id != store.Id {
				target = st
			}
		}
		require.NotNil(t, target)
		mine, err := call(t, c.Org.ListStaff, admin, &v1.ListStaffRequest{StoreId: store.Id})
		require.NoError(t, err)
		s := mine.Staff[len(mine.Staff)-1]

		_, err = call(t, c.Org.TransferStaff, admin, &v1.TransferStaffRequest{StaffId: s.Id, ToStoreCode: target.Code, EffectiveDate: "31.12.2026"})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "effective_date")
		_, err = call(t, c.Org.TransferStaff, admin, &v1.TransferStaffRequest{StaffId: s.Id})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Org.TransferStaff, other, &v1.TransferStaffRequest{StaffId: s.Id, ToStoreId: target.Id})
		requireCode(t, connect.CodeNotFound, err)

		later := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
		pending, err := call(t, c.Org.TransferStaff, admin, &v1.TransferStaffRequest{StaffId: s.Id, ToStoreCode: target.Code, EffectiveDate: later})
		require.NoError(t, err)
		assert.False(t, pending.Transfer.Applied)
		assert.Equal(t, store.Id, pending.Staff.StoreId, "a later date waits for its day")
		require.NotNil(t, pending.Staff.PendingTransfer)
		assert.Equal(t, target.Code, pending.Staff.PendingTransfer.ToStoreCode)

		now, err := call(t, c.Org.TransferStaff, admin, &v1.TransferStaffRequest{StaffId: s.Id, ToStoreId: target.Id, EffectiveDate: "2020-01-01"})
		require.NoError(t, err)
		assert.True(t, now.Transfer.Applied)
		assert.Equal(t, target.Id, now.Staff.StoreId)
		assert.Equal(t, "2020-01-01", now.Staff.StoreSinceDate)
		assert.Nil(t, now.Staff.PendingTransfer, "the later transfer was replaced")
		got, err := call(t, c.Org.GetStaff, admin, &v1.GetStaffRequest{StaffId: s.Id})
		require.NoError(t, err)
		require.Len(t, got.Transfers, 1)
		assert.Equal(t, "MSK-01", got.Transfers[0].FromStoreCode)
		assert.NotEmpty(t, got.Transfers[0].CreatedByName)
	})

	t.Run("OrgSettings", func(t *testing.T) {
		got, err := call(t, c.Org.GetOrgSettings, shopper, &v1.GetOrgSettingsRequest{})
		require.NoError(t, err)
		assert.Equal(t, "Europe/Moscow", got.Settings.TimeZone)
		assert.Equal(t, "RUB", got.Settings.Currency)
		_, err = call(t, c.Org.UpdateOrgSettings, manager, &v1.UpdateOrgSettingsRequest{Settings: &v1.OrgSettings{TimeZone: "Europe/Chisinau"}})
		requireCode(t, connect.CodePermissionDenied, err)
		_, err = call(t, c.Org.UpdateOrgSettings, admin, &v1.UpdateOrgSettingsRequest{Settings: &v1.OrgSettings{TimeZone: "Mars/Olympus"}})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "time_zone")
		_, err = call(t, c.Org.UpdateOrgSettings, admin, &v1.UpdateOrgSettingsRequest{Settings: &v1.OrgSettings{Currency: "rubles"}})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "currency")
		set, err := call(t, c.Org.UpdateOrgSettings, admin, &v1.UpdateOrgSettingsRequest{Settings: &v1.OrgSettings{TimeZone: "Europe/Chisinau"}})
		require.NoError(t, err)
		assert.Equal(t, "Europe/Chisinau", set.Settings.TimeZone)
		assert.Equal(t, "ru-RU", set.Settings.Locale, "empty fields keep their value")
		assert.NotEmpty(t, set.Settings.UpdatedBy)
	})
}
