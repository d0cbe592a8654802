package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/demo"
)

// headerKID returns the kid of an access token.
func headerKID(tb testing.TB, token string) string {
	tb.Helper()
	h, _, ok := strings.Cut(token, ".")
	require.True(tb, ok)
	b, err := base64.RawURLEncoding.DecodeString(h)
	require.NoError(tb, err)
	var header struct{ KID string }
	require.NoError(tb, json.Unmarshal(b, &header))
	return header.KID
}

// TestServers_OneDatabase runs two servers on one database and data
// folder (docs/DESIGN.md §9): they sign with one key, a key rotated on
// one is honoured and used by the other within seconds, the login limits
// per account hold for both together, and the local store's upload URLs
// of one are accepted by the other.
func TestServers_OneDatabase(t *testing.T) {
	dir := t.TempDir()
	const reload = 300 * time.Millisecond
	cfg := server.Config{DataDir: dir, KeyReload: reload, LoginRate: server.Rate{Burst: 4, Every: time.Hour}}
	a := MustRunServer(t, &cfg)
	b := MustRunServer(t, &cfg)
	ca, cb := clientsOf(a, http.DefaultClient), clientsOf(b, http.DefaultClient)
	ctx := context.Background()

	admin := mustLogin(t, ca, audit.RoleAdmin, "desk")
	first := headerKID(t, admin.Tokens.AccessToken)
	_, err := call(t, cb.Auth.WhoAmI, admin.Tokens.AccessToken, &v1.WhoAmIRequest{})
	require.NoError(t, err, "a token of one server is good on the other")

	rotated, err := call(t, ca.Admin.RotateSigningKey, admin.Tokens.AccessToken, &v1.RotateSigningKeyRequest{})
	require.NoError(t, err)
	require.NotEqual(t, first, rotated.KeyId)
	shopper := mustLogin(t, ca, audit.RoleShopper, "phone")
	require.Equal(t, rotated.KeyId, headerKID(t, shopper.Tokens.AccessToken))
	_, err = call(t, cb.Auth.WhoAmI, shopper.Tokens.AccessToken, &v1.WhoAmIRequest{})
	require.NoError(t, err, "the other server verifies the new key's token at once")
	_, err = call(t, cb.Auth.WhoAmI, admin.Tokens.AccessToken, &v1.WhoAmIRequest{})
	require.NoError(t, err, "and the retired key's")

	deadline := time.Now().Add(reload + 5*time.Second)
	for {
		lr := mustLogin(t, cb, audit.RoleManager, "tablet")
		if headerKID(t, lr.Tokens.AccessToken) == rotated.KeyId {
			break
		}
		require.True(t, time.Now().Before(deadline), "the other server still signs with the old key")
		time.Sleep(reload / 3)
	}

	t.Run("LoginLimitsAcrossServers", func(t *testing.T) {
		login := func(c Clients) connect.Code {
			_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{Email: demo.Users[audit.RoleHR], Password: "guess", DeviceId: "d"}))
			return connect.CodeOf(err)
		}
		var codes []connect.Code
		for i := range 6 {
			codes = append(codes, login([]Clients{ca, cb}[i%2]))
		}
		u := connect.CodeUnauthenticated
		assert.Equal(t, []connect.Code{u, u, u, u, connect.CodeResourceExhausted, connect.CodeResourceExhausted}, codes,
			"four guesses in all, not four per server")
	})

	t.Run("UploadURLAcrossServers", func(t *testing.T) {
		f := newField(t, a, ca)
		rec, _ := f.pushedVisit(t)
		ph := rec.visit.Photos[0]
		slot, err := f.slot(t, rec.visit.ID, ph)
		require.NoError(t, err)
		u, err := url.Parse(slot.Url)
		require.NoError(t, err)
		other, err := url.Parse(b.URL)
		require.NoError(t, err)
		u.Host = other.Host
		slot.Url = u.String()
		assert.Equal(t, http.StatusOK, upload(t, slot, rec.photos[ph.SHA256]), "the other server checks the URL one signed")
		fb := *f
		fb.ts, fb.c = b, cb
		_, err = fb.finalize(t, rec.visit.ID, ph)
		require.NoError(t, err)
	})
}
