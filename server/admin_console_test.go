package server_test

import (
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
)

// TestAdminService_Console covers the console's user administration: a
// manager created with his stores, a password reset that signs him out,
// a role change, and the security log newest first, filtered and paged.
func TestAdminService_Console(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk-"+uuid.NewString())
	manager := mustLogin(t, c, audit.RoleManager, "desk-"+uuid.NewString()).Tokens.AccessToken
	tok := admin.Tokens.AccessToken

	email := "new-manager-" + uuid.NewString()[:6] + "@example.com"
	_, err := call(t, c.Admin.CreateUser, tok, &v1.CreateUserRequest{Email: email, Role: v1.Role_ROLE_MANAGER, Password: demoPassword, ManagedStoreCodes: []string{"NOPE"}})
	requireCode(t, connect.CodeNotFound, err)
	_, err = call(t, c.Admin.CreateUser, tok, &v1.CreateUserRequest{Email: email, Role: v1.Role_ROLE_SHOPPER, Password: demoPassword, ManagedStoreCodes: []string{"MSK-01"}})
	requireCode(t, connect.CodeInvalidArgument, err)
	created, err := call(t, c.Admin.CreateUser, tok, &v1.CreateUserRequest{Email: email, DisplayName: "Новый менеджер", Role: v1.Role_ROLE_MANAGER,
		Password: demoPassword, ManagedStoreCodes: []string{"MSK-01"}})
	require.NoError(t, err)
	require.Len(t, created.User.ManagedStores, 1)
	assert.Equal(t, "MSK-01", created.User.ManagedStores[0].Code)
	id := created.User.Id

	lr, err := c.Auth.Login(t.Context(), connect.NewRequest(&v1.LoginRequest{Email: email, Password: demoPassword, DeviceId: "d1"}))
	require.NoError(t, err)
	theirs := lr.Msg.Tokens.AccessToken
	got, err := call(t, c.Org.GetStore, theirs, &v1.GetStoreRequest{StoreCode: "MSK-01"})
	require.NoError(t, err, "he manages MSK-01")
	assert.Equal(t, "MSK-01", got.Store.Code)

	t.Run("refused", func(t *testing.T) {
		_, err := call(t, c.Admin.ResetPassword, manager, &v1.ResetPasswordRequest{UserId: id, NewPassword: "longenough"})
		requireCode(t, connect.CodePermissionDenied, err)
		_, err = call(t, c.Admin.ChangeRole, manager, &v1.ChangeRoleRequest{UserId: id, Role: v1.Role_ROLE_ADMIN})
		requireCode(t, connect.CodePermissionDenied, err)
		_, err = call(t, c.Admin.ListSecurityEvents, manager, &v1.ListSecurityEventsRequest{})
		requireCode(t, connect.CodePermissionDenied, err)
		_, err = call(t, c.Admin.SetManagedStores, manager, &v1.SetManagedStoresRequest{UserId: id})
		requireCode(t, connect.CodePermissionDenied, err)
		_, err = call(t, c.Admin.GetUser, manager, &v1.GetUserRequest{UserId: id})
		requireCode(t, connect.CodePermissionDenied, err)
	})

	t.Run("bad input", func(t *testing.T) {
		_, err := call(t, c.Admin.ResetPassword, tok, &v1.ResetPasswordRequest{UserId: id, NewPassword: "short"})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "new_password")
		_, err = call(t, c.Admin.ChangeRole, tok, &v1.ChangeRoleRequest{UserId: id})
		requireCode(t, connect.CodeInvalidArgument, err)
		assert.Contains(t, err.Error(), "role")
		_, err = call(t, c.Admin.ChangeRole, tok, &v1.ChangeRoleRequest{UserId: admin.User.Id, Role: v1.Role_ROLE_HR})
		requireCode(t, connect.CodeFailedPrecondition, err, "no admin demotes himself")
		_, err = call(t, c.Admin.GetUser, tok, &v1.GetUserRequest{UserId: "nobody"})
		requireCode(t, connect.CodeNotFound, err)
		_, err = call(t, c.Admin.ListSecurityEvents, tok, &v1.ListSecurityEventsRequest{PageToken: "!!"})
		requireCode(t, connect.CodeInvalidArgument, err)
	})

	t.Run("reset password signs him out", func(t *testing.T) {
		r, err := call(t, c.Admin.ResetPassword, tok, &v1.ResetPasswordRequest{UserId: id, NewPassword: "a new secret"})
		require.NoError(t, err)
		assert.Equal(t, int32(1), r.RevokedSessions)
		_, err = call(t, c.Auth.WhoAmI, theirs, &v1.WhoAmIRequest{})
		requireCode(t, connect.CodeUnauthenticated, err)
		_, err = c.Auth.Login(t.Context(), connect.NewRequest(&v1.LoginRequest{Email: email, Password: "a new secret", DeviceId: "d2"}))
		require.NoError(t, err)
	})

	t.Run("change role drops stores", func(t *testing.T) {
		r, err := call(t, c.Admin.ChangeRole, tok, &v1.ChangeRoleRequest{UserId: id, Role: v1.Role_ROLE_HR})
		require.NoError(t, err)
		assert.Equal(t, v1.Role_ROLE_HR, r.User.Role)
		_, err = call(t, c.Admin.SetManagedStores, tok, &v1.SetManagedStoresRequest{UserId: id, StoreCodes: []string{"MSK-01"}})
		requireCode(t, connect.CodeInvalidArgument, err, "HR manages no store")
		_, err = call(t, c.Admin.ChangeRole, tok, &v1.ChangeRoleRequest{UserId: id, Role: v1.Role_ROLE_MANAGER})
		require.NoError(t, err)
		u, err := call(t, c.Admin.GetUser, tok, &v1.GetUserRequest{UserId: id})
		require.NoError(t, err)
		assert.Empty(t, u.User.ManagedStores)
		s, err := call(t, c.Admin.SetManagedStores, tok, &v1.SetManagedStoresRequest{UserId: id, StoreCodes: []string{"MSK-01"}})
		require.NoError(t, err)
		assert.Len(t, s.User.ManagedStores, 1)
	})

	t.Run("security log", func(t *testing.T) {
		var all []*v1.SecurityEvent
		token := ""
		for {
			page, err := call(t, c.Admin.ListSecurityEvents, tok, &v1.ListSecurityEventsRequest{UserId: id, PageSize: 2, PageToken: token})
			require.NoError(t, err)
			all = append(all, page.Events...)
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		require.NotEmpty(t, all)
		for i := 1; i < len(all); i++ {
			assert.Greater(t, all[i-1].Seq, all[i].Seq, "newest first")
		}
		assert.Equal(t, email, all[0].UserEmail)
		kinds, err := call(t, c.Admin.ListSecurityEvents, tok, &v1.ListSecurityEventsRequest{UserId: id, Kinds: []string{audit.EventPasswordReset, audit.EventRoleChanged}})
		require.NoError(t, err)
		assert.Len(t, kinds.Events, 3, "one reset, two role changes")
	})
}
