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
	"github.com/shopscore/shopscore/server/demo"
)

// TestAdminService_ListUsers_Filters checks the console's user list
// filters: by role, by a text in the e-mail or name (any case), both at
// once and paged.
func TestAdminService_ListUsers_Filters(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	tag := uuid.NewString()[:6]
	for _, u := range []struct {
		name string
		role v1.Role
	}{{"Анна Кузнецова", v1.Role_ROLE_SHOPPER}, {"Анна Петрова", v1.Role_ROLE_MANAGER}, {"Boris Kuznetsov", v1.Role_ROLE_SHOPPER}} {
		_, err := call(t, c.Admin.CreateUser, admin, &v1.CreateUserRequest{Email: "u-" + uuid.NewString()[:6] + "-" + tag + "@example.com",
			DisplayName: u.name, Role: u.role, Password: demoPassword})
		require.NoError(t, err)
	}
	names := func(req *v1.ListUsersRequest) []string {
		t.Helper()
		var out []string
		for {
			resp, err := call(t, c.Admin.ListUsers, admin, req)
			require.NoError(t, err)
			for _, u := range resp.Users {
				out = append(out, u.DisplayName)
			}
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				return out
			}
		}
	}

	assert.ElementsMatch(t, []string{"Анна Кузнецова", "Анна Петрова", "Boris Kuznetsov"}, names(&v1.ListUsersRequest{Query: tag}))
	assert.ElementsMatch(t, []string{"Анна Кузнецова", "Boris Kuznetsov"}, names(&v1.ListUsersRequest{Query: tag, Role: v1.Role_ROLE_SHOPPER, PageSize: 1}))
	assert.ElementsMatch(t, []string{"Анна Кузнецова", "Анна Петрова"}, names(&v1.ListUsersRequest{Query: "анна"}), "a name, any case")
	assert.ElementsMatch(t, []string{"Boris Kuznetsov"}, names(&v1.ListUsersRequest{Query: "KUZNETSOV"}))
	admins := names(&v1.ListUsersRequest{Role: v1.Role_ROLE_ADMIN})
	require.NotEmpty(t, admins)
	all, err := call(t, c.Admin.ListUsers, admin, &v1.ListUsersRequest{PageSize: 500})
	require.NoError(t, err)
	for _, u := range all.Users {
		if u.Role == v1.Role_ROLE_ADMIN {
			assert.Contains(t, admins, u.DisplayName)
		}
	}
	assert.Less(t, len(admins), len(all.Users))

	_, err = call(t, c.Admin.ListUsers, admin, &v1.ListUsersRequest{Role: v1.Role(42)})
	requireCode(t, connect.CodeInvalidArgument, err)
}

// TestAdminService_ListSessions_Console checks that sessions name their
// users and that active_only leaves revoked sessions out.
func TestAdminService_ListSessions_Console(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	kept := mustLogin(t, c, audit.RoleHR, "hr-laptop")
	gone := mustLogin(t, c, audit.RoleHR, "hr-phone")
	_, err := call(t, c.Admin.RevokeSession, admin, &v1.RevokeSessionRequest{SessionId: gone.SessionId})
	require.NoError(t, err)

	list := func(activeOnly bool) map[string]*v1.Session {
		t.Helper()
		resp, err := call(t, c.Admin.ListSessions, admin, &v1.ListSessionsRequest{UserId: kept.User.Id, ActiveOnly: activeOnly})
		require.NoError(t, err)
		out := map[string]*v1.Session{}
		for _, s := range resp.Sessions {
			out[s.Id] = s
		}
		return out
	}
	every := list(false)
	require.Contains(t, every, kept.SessionId)
	require.Contains(t, every, gone.SessionId)
	assert.NotNil(t, every[gone.SessionId].RevokeTime)
	for _, s := range every {
		assert.Equal(t, demo.Users[audit.RoleHR], s.UserEmail)
		assert.Equal(t, kept.User.DisplayName, s.UserName)
		assert.NotEmpty(t, s.UserName)
	}
	active := list(true)
	assert.Contains(t, active, kept.SessionId)
	assert.NotContains(t, active, gone.SessionId, "a revoked session is left out")
	for _, s := range active {
		assert.Nil(t, s.RevokeTime)
	}

	revoked, err := call(t, c.Admin.RevokeSession, admin, &v1.RevokeSessionRequest{SessionId: kept.SessionId})
	require.NoError(t, err)
	assert.Equal(t, kept.User.DisplayName, revoked.Session.UserName, "the revoked session names its user too")
}

// TestAuthService_WhoAmI_ManagedStores checks that a manager learns the
// stores he manages from WhoAmI, so the console can offer them, and that
// other roles get none.
func TestAuthService_WhoAmI_ManagedStores(t *testing.T) {
	ts := mustRunSyncServer(t, nil)
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "desk").Tokens.AccessToken
	manager := mustLogin(t, c, audit.RoleManager, "desk")

	me, err := call(t, c.Auth.WhoAmI, manager.Tokens.AccessToken, &v1.WhoAmIRequest{})
	require.NoError(t, err)
	viaAdmin, err := call(t, c.Admin.GetUser, admin, &v1.GetUserRequest{UserId: manager.User.Id})
	require.NoError(t, err)
	require.NotEmpty(t, viaAdmin.User.ManagedStores)
	var mine, want []string
	for _, s := range me.User.ManagedStores {
		mine = append(mine, s.Code+" "+s.Name)
	}
	for _, s := range viaAdmin.User.ManagedStores {
		want = append(want, s.Code+" "+s.Name)
	}
	assert.Equal(t, want, mine)
	var codes []string
	for _, s := range me.User.ManagedStores {
		codes = append(codes, s.Code)
		assert.NotEmpty(t, s.Name)
	}
	assert.Contains(t, codes, "MSK-01", "the demo manager manages MSK-01")

	other := newManager(t, c, admin)
	none, err := call(t, c.Auth.WhoAmI, other, &v1.WhoAmIRequest{})
	require.NoError(t, err)
	assert.Empty(t, none.User.ManagedStores, "a manager of no store")
	adm, err := call(t, c.Auth.WhoAmI, admin, &v1.WhoAmIRequest{})
	require.NoError(t, err)
	assert.Empty(t, adm.User.ManagedStores, "an admin sees every store; he manages none by name")
}
