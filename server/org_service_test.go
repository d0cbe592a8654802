package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// orgFixture is the demo organisation plus a second manager with a store
// of his own and a second shopper, for authorization tests.
type orgFixture struct {
	c                                  Clients
	admin, managerA, managerB, hr      string
	shopperA, shopperB                 string
	shopperAID, shopperBID, managerBID string
	stores                             map[string]string // code → id
	storeB                             string            // managed by B only
}

func newOrgFixture(t *testing.T, ts *TestServer) *orgFixture {
	t.Helper()
	c := clientsOf(ts, http.DefaultClient)
	f := &orgFixture{c: c, stores: map[string]string{}}
	f.admin = mustLogin(t, c, audit.RoleAdmin, "fixture").Tokens.AccessToken
	f.hr = mustLogin(t, c, audit.RoleHR, "fixture").Tokens.AccessToken
	f.managerA = mustLogin(t, c, audit.RoleManager, "fixture").Tokens.AccessToken
	sa := mustLogin(t, c, audit.RoleShopper, "fixture")
	f.shopperA, f.shopperAID = sa.Tokens.AccessToken, sa.User.Id

	newUser := func(email string, role v1.Role) (string, string) {
		u, err := call(t, c.Admin.CreateUser, f.admin, &v1.CreateUserRequest{Email: email, Role: role, Password: "password of " + email})
		require.NoError(t, err)
		resp, err := c.Auth.Login(context.Background(), connect.NewRequest(&v1.LoginRequest{Email: email, Password: "password of " + email, DeviceId: "fixture"}))
		require.NoError(t, err)
		return resp.Msg.Tokens.AccessToken, u.User.Id
	}
	f.managerB, f.managerBID = newUser("manager-b@example.com", v1.Role_ROLE_MANAGER)
	f.shopperB, f.shopperBID = newUser("shopper-b@example.com", v1.Role_ROLE_SHOPPER)

	st, err := call(t, c.Org.CreateStore, f.admin, &v1.CreateStoreRequest{Store: &v1.Store{
		Code: "B-01", Name: "Store of manager B", Latitude: 44.43, Longitude: 26.10, GeofenceMeters: 100, ManagerIds: []string{f.managerBID}}})
	require.NoError(t, err)
	f.storeB = st.Store.Id
	all, err := call(t, c.Org.ListStores, f.admin, &v1.ListStoresRequest{})
	require.NoError(t, err)
	for _, s := range all.Stores {
		f.stores[s.Code] = s.Id
	}
	return f
}

func storeCodes(stores []*v1.Store) []string {
	var out []string
	for _, s := range stores {
		out = append(out, s.Code)
	}
	return out
}

func TestOrgService(t *testing.T) {
	ts := MustRunServer(t, nil)
	f := newOrgFixture(t, ts)
	c := f.c

	t.Run("CreateStore", func(t *testing.T) {
		_, err := call(t, c.Org.CreateStore, f.admin, &v1.CreateStoreRequest{Store: &v1.Store{Code: "B-01", Name: "again"}})
		requireCode(t, connect.CodeAlreadyExists, err)
		_, err = call(t, c.Org.CreateStore, f.admin, &v1.CreateStoreRequest{Store: &v1.Store{Code: "X", Name: "x", Latitude: 91}})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Org.CreateStore, f.admin, &v1.CreateStoreRequest{Store: &v1.Store{Code: "X", Name: "x", ManagerIds: []string{f.shopperAID}}})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Org.CreateStore, f.admin, &v1.CreateStoreRequest{})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Org.CreateStore, f.managerA, &v1.CreateStoreRequest{Store: &v1.Store{Code: "X", Name: "x"}})
		requireCode(t, connect.CodePermissionDenied, err)
	})
	t.Run("ListStores", func(t *testing.T) {
		cases := map[string]struct {
			token string
			want  []string
		}{
			"admin":     {f.admin, []string{"B-01", "DEPOT-1", "HQ", "KIV-01", "MSK-01", "MSK-02"}},
			"hr":        {f.hr, []string{"B-01", "DEPOT-1", "HQ", "KIV-01", "MSK-01", "MSK-02"}},
			"manager A": {f.managerA, []string{"DEPOT-1", "MSK-01", "MSK-02"}},
			"manager B": {f.managerB, []string{"B-01"}},
			// The demo shopper's assignments: MSK-01, MSK-02, HQ (twice), DEPOT-1.
			"shopper A": {f.shopperA, []string{"DEPOT-1", "HQ", "MSK-01", "MSK-02"}},
			"shopper B": {f.shopperB, nil},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				resp, err := call(t, c.Org.ListStores, tc.token, &v1.ListStoresRequest{})
				require.NoError(t, err)
				assert.Equal(t, tc.want, storeCodes(resp.Stores))
			})
		}
		resp, err := call(t, c.Org.ListStores, f.admin, &v1.ListStoresRequest{Region: "Moldova"})
		require.NoError(t, err)
		assert.Equal(t, []string{"KIV-01"}, storeCodes(resp.Stores))
	})
	t.Run("CreateStaff", func(t *testing.T) {
		staff := &v1.Staff{EmployeeNumber: "E9001", Name: "Anna Belova", Position: "cashier", Department: "sales", StoreId: f.stores["MSK-01"]}
		resp, err := call(t, c.Org.CreateStaff, f.managerA, &v1.CreateStaffRequest{Staff: staff})
		require.NoError(t, err)
		assert.NotEmpty(t, resp.Staff.Id)
		_, err = call(t, c.Org.CreateStaff, f.managerA, &v1.CreateStaffRequest{Staff: staff})
		requireCode(t, connect.CodeAlreadyExists, err)

		other := &v1.Staff{EmployeeNumber: "E9002", Name: "Not yours", StoreId: f.storeB}
		_, err = call(t, c.Org.CreateStaff, f.managerA, &v1.CreateStaffRequest{Staff: other})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Org.CreateStaff, f.managerB, &v1.CreateStaffRequest{Staff: other})
		require.NoError(t, err)

		_, err = call(t, c.Org.CreateStaff, f.managerA, &v1.CreateStaffRequest{Staff: &v1.Staff{Name: "no number", StoreId: f.stores["MSK-01"]}})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Org.CreateStaff, f.managerA, &v1.CreateStaffRequest{Staff: &v1.Staff{EmployeeNumber: "E9003", Name: "no store"}})
		requireCode(t, connect.CodeInvalidArgument, err)
		_, err = call(t, c.Org.CreateStaff, f.shopperA, &v1.CreateStaffRequest{Staff: staff})
		requireCode(t, connect.CodePermissionDenied, err)
	})
	t.Run("ListStaff", func(t *testing.T) {
		a, err := call(t, c.Org.ListStaff, f.managerA, &v1.ListStaffRequest{})
		require.NoError(t, err)
		for _, s := range a.Staff {
			assert.NotEqual(t, f.storeB, s.StoreId, "manager A sees staff of manager B's store")
		}
		b, err := call(t, c.Org.ListStaff, f.managerB, &v1.ListStaffRequest{})
		require.NoError(t, err)
		require.Len(t, b.Staff, 1)
		assert.Equal(t, "E9002", b.Staff[0].EmployeeNumber)
		none, err := call(t, c.Org.ListStaff, f.managerA, &v1.ListStaffRequest{StoreId: f.storeB})
		require.NoError(t, err)
		assert.Empty(t, none.Staff)
		hr, err := call(t, c.Org.ListStaff, f.hr, &v1.ListStaffRequest{})
		require.NoError(t, err)
		assert.Len(t, hr.Staff, len(a.Staff)+len(b.Staff)+4, "HR sees everyone, including the head office (3) and Chisinau (1)")
		_, err = call(t, c.Org.ListStaff, f.shopperA, &v1.ListStaffRequest{})
		requireCode(t, connect.CodePermissionDenied, err)
	})
	t.Run("ListShoppers", func(t *testing.T) {
		resp, err := call(t, c.Org.ListShoppers, f.managerA, &v1.ListShoppersRequest{})
		require.NoError(t, err)
		assert.Len(t, resp.Shoppers, 2)
		_, err = call(t, c.Org.ListShoppers, f.shopperA, &v1.ListShoppersRequest{})
		requireCode(t, connect.CodePermissionDenied, err)
	})
}

func window(days int) (*timestamppb.Timestamp, *timestamppb.Timestamp) {
	start := time.Now().UTC().Truncate(time.Hour)
	return timestamppb.New(start), timestamppb.New(start.Add(time.Duration(days) * 24 * time.Hour))
}
