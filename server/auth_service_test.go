package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	v1 "github.com/shopscore/shopscore/api/shopscore/v1"
	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/demo"
)

func TestAuthService_Login(t *testing.T) {
	ts := MustRunServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			ctx := context.Background()
			t.Run("OK", func(t *testing.T) {
				resp := mustLogin(t, c, audit.RoleShopper, "phone-"+p.name)
				assert.Equal(t, v1.Role_ROLE_SHOPPER, resp.User.Role)
				assert.NotEmpty(t, resp.SessionId)
				tok := resp.Tokens
				assert.True(t, strings.HasPrefix(tok.RefreshToken, auth.RefreshTokenPrefix))
				ttl := time.Until(tok.AccessTokenExpireTime.AsTime())
				assert.True(t, ttl > 0 && ttl <= 15*time.Minute, "access token lives %v", ttl)

				who, err := c.Auth.WhoAmI(ctx, withToken(connect.NewRequest(&v1.WhoAmIRequest{}), tok.AccessToken))
				require.NoError(t, err)
				assert.Equal(t, demo.Users[audit.RoleShopper], who.Msg.User.Email)
				assert.Equal(t, resp.SessionId, who.Msg.SessionId)
			})
			t.Run("ErrWrongPassword", func(t *testing.T) {
				_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
					Email: demo.Users[audit.RoleHR], Password: "wrong password", DeviceId: "d"}))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("ErrUnknownEmail", func(t *testing.T) {
				_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
					Email: "nobody@example.com", Password: demoPassword, DeviceId: "d"}))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("ErrInvalid", func(t *testing.T) {
				for _, req := range []*v1.LoginRequest{
					{Password: demoPassword, DeviceId: "d"},
					{Email: demo.Users[audit.RoleHR], DeviceId: "d"},
					{Email: demo.Users[audit.RoleHR], Password: demoPassword},
					{Email: demo.Users[audit.RoleHR], Password: demoPassword, DeviceId: strings.Repeat("x", 200)},
				} {
					_, err := c.Auth.Login(ctx, connect.NewRequest(req))
					requireCode(t, connect.CodeInvalidArgument, err)
				}
			})
		})
	}
}

func TestAuthService_Refresh(t *testing.T) {
	ts := MustRunServer(t, nil)
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			ctx := context.Background()
			refresh := func(token, device string) (*v1.Tokens, error) {
				resp, err := c.Auth.Refresh(ctx, connect.NewRequest(&v1.RefreshRequest{RefreshToken: token, DeviceId: device}))
				if err != nil {
					return nil, err
				}
				return resp.Msg.Tokens, nil
			}
			whoami := func(access string) error {
				_, err := c.Auth.WhoAmI(ctx, withToken(connect.NewRequest(&v1.WhoAmIRequest{}), access))
				return err
			}

			t.Run("RotationAndReuse", func(t *testing.T) {
				device := "rotating-" + p.name
				first := mustLogin(t, c, audit.RoleShopper, device).Tokens
				second, err := refresh(first.RefreshToken, device)
				require.NoError(t, err)
				assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "refresh tokens rotate on every use")
				require.NoError(t, whoami(second.AccessToken))
				third, err := refresh(second.RefreshToken, device)
				require.NoError(t, err)
				require.NoError(t, whoami(third.AccessToken))

				// Presenting the rotated first token again is reuse: the
				// whole family dies, including the newest tokens.
				_, err = refresh(first.RefreshToken, device)
				requireCode(t, connect.CodeUnauthenticated, err)
				_, err = refresh(third.RefreshToken, device)
				requireCode(t, connect.CodeUnauthenticated, err)
				requireCode(t, connect.CodeUnauthenticated, whoami(third.AccessToken))
			})
			t.Run("LostAnswerRetry", func(t *testing.T) {
				// The answer to a refresh is lost: the device presents
				// the same token again within the grace and gets a new
				// pair; the pair it never received is retired.
				device := "unlucky-" + p.name
				first := mustLogin(t, c, audit.RoleShopper, device).Tokens
				lost, err := refresh(first.RefreshToken, device)
				require.NoError(t, err)
				retried, err := refresh(first.RefreshToken, device)
				require.NoError(t, err, "a retry within the grace is not reuse")
				assert.NotEqual(t, lost.RefreshToken, retried.RefreshToken)
				require.NoError(t, whoami(retried.AccessToken))
				next, err := refresh(retried.RefreshToken, device)
				require.NoError(t, err)

				// Another device never retries: presenting a used token
				// from it is reuse.
				_, err = refresh(retried.RefreshToken, "thief-unlucky-"+p.name)
				requireCode(t, connect.CodeUnauthenticated, err)
				requireCode(t, connect.CodeUnauthenticated, whoami(next.AccessToken))
			})
			t.Run("ReuseAfterLaterUse", func(t *testing.T) {
				device := "later-" + p.name
				first := mustLogin(t, c, audit.RoleManager, device).Tokens
				_, err := refresh(first.RefreshToken, device)
				require.NoError(t, err)
				retried, err := refresh(first.RefreshToken, device)
				require.NoError(t, err)
				next, err := refresh(retried.RefreshToken, device)
				require.NoError(t, err)
				// Once a later token has been used, the old one is reuse.
				_, err = refresh(first.RefreshToken, device)
				requireCode(t, connect.CodeUnauthenticated, err)
				requireCode(t, connect.CodeUnauthenticated, whoami(next.AccessToken))
			})
			t.Run("ErrOtherDevice", func(t *testing.T) {
				tok := mustLogin(t, c, audit.RoleShopper, "owner-"+p.name).Tokens
				_, err := refresh(tok.RefreshToken, "thief-"+p.name)
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("ErrGarbage", func(t *testing.T) {
				_, err := refresh("ssr_not-a-token", "d")
				requireCode(t, connect.CodeUnauthenticated, err)
				_, err = refresh("", "d")
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("Logout", func(t *testing.T) {
				device := "leaving-" + p.name
				tok := mustLogin(t, c, audit.RoleManager, device).Tokens
				_, err := c.Auth.Logout(ctx, withToken(connect.NewRequest(&v1.LogoutRequest{}), tok.AccessToken))
				require.NoError(t, err)
				requireCode(t, connect.CodeUnauthenticated, whoami(tok.AccessToken))
				_, err = refresh(tok.RefreshToken, device)
				requireCode(t, connect.CodeUnauthenticated, err)
			})
		})
	}
}

// forge signs claims with the server's own active key, so that only the
// property under test is wrong.
func forge(t *testing.T, key jose.JSONWebKey, alg jose.SignatureAlgorithm, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", key.KeyID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key.Key}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := signer.Sign(payload)
	require.NoError(t, err)
	s, err := jws.CompactSerialize()
	require.NoError(t, err)
	return s
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestAccessToken_Refused(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			login := mustLogin(t, c, audit.RoleAdmin, "admin-"+p.name)
			key := activeKey(t, ts)
			now := time.Now()
			valid := func() map[string]any {
				return map[string]any{
					"iss": "shopscore", "aud": "shopscore-api", "sub": login.User.Id, "role": "admin",
					"sid": login.SessionId, "jti": "x", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
				}
			}
			with := func(k string, v any) map[string]any {
				m := valid()
				if v == nil {
					delete(m, k)
				} else {
					m[k] = v
				}
				return m
			}
			expired := func(ago time.Duration) map[string]any {
				m := valid()
				m["iat"], m["nbf"], m["exp"] = now.Add(-10*time.Minute-ago).Unix(), now.Add(-10*time.Minute-ago).Unix(), now.Add(-ago).Unix()
				return m
			}
			// The classic confusion attack: HMAC keyed with the public key,
			// as raw bytes and as the published JWK.
			pubJSON, err := json.Marshal(key.Public())
			require.NoError(t, err)
			hs256 := func(secret []byte) string {
				signing := b64(map[string]string{"alg": "HS256", "typ": "at+jwt", "kid": key.KeyID}) + "." + b64(valid())
				mac := hmac.New(sha256.New, secret)
				mac.Write([]byte(signing))
				return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
			}
			unknownKID := func() string {
				k := key
				k.KeyID = "not-a-key-of-ours"
				return forge(t, k, jose.EdDSA, "at+jwt", valid())
			}

			// The forgery machinery works: a token with every property right
			// is accepted, so each refusal below is for its one wrong property.
			good := forge(t, key, jose.EdDSA, "at+jwt", valid())
			_, err = c.Admin.ListUsers(ctx, withToken(connect.NewRequest(&v1.ListUsersRequest{}), good))
			require.NoError(t, err)

			cases := map[string]string{
				"alg none":                            b64(map[string]string{"alg": "none", "typ": "at+jwt", "kid": key.KeyID}) + "." + b64(valid()) + ".",
				"HS256 with the public key as secret": hs256(key.Public().Key.(ed25519.PublicKey)),
				"HS256 with the public JWK as secret": hs256(pubJSON),
				"unknown kid":                         unknownKID(),
				"no exp":                              forge(t, key, jose.EdDSA, "at+jwt", with("exp", nil)),
				"expired beyond leeway":               forge(t, key, jose.EdDSA, "at+jwt", expired(2*time.Minute)),
				"wrong audience":                      forge(t, key, jose.EdDSA, "at+jwt", with("aud", "some-other-api")),
				"wrong issuer":                        forge(t, key, jose.EdDSA, "at+jwt", with("iss", "evil")),
				"wrong type":                          forge(t, key, jose.EdDSA, "JWT", valid()),
				"refresh token as access token":       login.Tokens.RefreshToken,
				"garbage":                             "eyJ.eyJ.abc",
			}
			for name, token := range cases {
				t.Run(name, func(t *testing.T) {
					_, err := c.Admin.ListUsers(ctx, withToken(connect.NewRequest(&v1.ListUsersRequest{}), token))
					requireCode(t, connect.CodeUnauthenticated, err)
				})
			}
			t.Run("expired within leeway", func(t *testing.T) {
				tok := forge(t, key, jose.EdDSA, "at+jwt", expired(10*time.Second))
				_, err := c.Admin.ListUsers(ctx, withToken(connect.NewRequest(&v1.ListUsersRequest{}), tok))
				require.NoError(t, err)
			})
			t.Run("no token", func(t *testing.T) {
				_, err := c.Admin.ListUsers(ctx, connect.NewRequest(&v1.ListUsersRequest{}))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("streaming call without a token", func(t *testing.T) {
				stream, err := c.Admin.StreamSecurityEvents(ctx, connect.NewRequest(&v1.StreamSecurityEventsRequest{}))
				require.NoError(t, err)
				for stream.Receive() {
					t.Fatal("an unauthenticated stream must not send anything")
				}
				requireCode(t, connect.CodeUnauthenticated, stream.Err())
			})
			t.Run("streaming call with a token", func(t *testing.T) {
				stream, err := c.Admin.StreamSecurityEvents(ctx, withToken(connect.NewRequest(&v1.StreamSecurityEventsRequest{}), login.Tokens.AccessToken))
				require.NoError(t, err)
				var kinds []string
				for stream.Receive() {
					kinds = append(kinds, stream.Msg().Kind)
				}
				require.NoError(t, stream.Err())
				assert.Contains(t, kinds, audit.EventLogin)
			})
		})
	}
}

func TestAccessToken_RevokedOnNextCall(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			admin := mustLogin(t, c, audit.RoleAdmin, "console-"+p.name).Tokens.AccessToken
			whoami := func(access string) error {
				_, err := c.Auth.WhoAmI(ctx, withToken(connect.NewRequest(&v1.WhoAmIRequest{}), access))
				return err
			}
			t.Run("revoked device", func(t *testing.T) {
				phone := mustLogin(t, c, audit.RoleShopper, "lost-phone-"+p.name)
				require.NoError(t, whoami(phone.Tokens.AccessToken))
				resp, err := c.Admin.RevokeSession(ctx, withToken(connect.NewRequest(&v1.RevokeSessionRequest{SessionId: phone.SessionId}), admin))
				require.NoError(t, err)
				assert.NotNil(t, resp.Msg.Session.RevokeTime)
				requireCode(t, connect.CodeUnauthenticated, whoami(phone.Tokens.AccessToken))
				_, err = c.Auth.Refresh(ctx, connect.NewRequest(&v1.RefreshRequest{RefreshToken: phone.Tokens.RefreshToken, DeviceId: "lost-phone-" + p.name}))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
			t.Run("disabled user", func(t *testing.T) {
				created, err := c.Admin.CreateUser(ctx, withToken(connect.NewRequest(&v1.CreateUserRequest{
					Email: "leaver-" + p.name + "@example.com", Role: v1.Role_ROLE_SHOPPER, Password: "a long password"}), admin))
				require.NoError(t, err)
				login, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
					Email: created.Msg.User.Email, Password: "a long password", DeviceId: "leaver"}))
				require.NoError(t, err)
				require.NoError(t, whoami(login.Msg.Tokens.AccessToken))
				_, err = c.Admin.DisableUser(ctx, withToken(connect.NewRequest(&v1.DisableUserRequest{UserId: created.Msg.User.Id}), admin))
				require.NoError(t, err)
				requireCode(t, connect.CodeUnauthenticated, whoami(login.Msg.Tokens.AccessToken))
				_, err = c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
					Email: created.Msg.User.Email, Password: "a long password", DeviceId: "leaver"}))
				requireCode(t, connect.CodeUnauthenticated, err)
			})
		})
	}
}

func TestAuthorization(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := clientsOf(ts, p.client, p.opts...)
			for _, role := range audit.Roles {
				tok := mustLogin(t, c, role, "authz-"+p.name).Tokens.AccessToken
				_, err := c.Admin.ListUsers(ctx, withToken(connect.NewRequest(&v1.ListUsersRequest{}), tok))
				if role == audit.RoleAdmin {
					require.NoError(t, err)
				} else {
					requireCode(t, connect.CodePermissionDenied, err)
				}
				stream, err := c.Admin.StreamSecurityEvents(ctx, withToken(connect.NewRequest(&v1.StreamSecurityEventsRequest{}), tok))
				require.NoError(t, err)
				for stream.Receive() {
				}
				if role == audit.RoleAdmin {
					require.NoError(t, stream.Err())
				} else {
					requireCode(t, connect.CodePermissionDenied, stream.Err())
				}
			}
			t.Run("unknown procedure", func(t *testing.T) {
				tok := mustLogin(t, c, audit.RoleAdmin, "authz-"+p.name).Tokens.AccessToken
				unknown := connect.NewClient[v1.ListUsersRequest, v1.ListUsersResponse](p.client, ts.URL+"/shopscore.v1.AdminService/DropDatabase", p.opts...)
				_, err := unknown.CallUnary(ctx, withToken(connect.NewRequest(&v1.ListUsersRequest{}), tok))
				requireCode(t, connect.CodeUnimplemented, err)
			})
		})
	}
}

func TestLimits(t *testing.T) {
	ts := MustRunServer(t, &server.Config{LoginRate: server.Rate{Burst: 3, Every: time.Hour}})
	ctx := context.Background()
	c := clientsOf(ts, http.DefaultClient)
	admin := mustLogin(t, c, audit.RoleAdmin, "limits").Tokens.AccessToken

	t.Run("oversized request", func(t *testing.T) {
		for _, p := range protocols {
			c := clientsOf(ts, p.client, p.opts...)
			_, err := c.Admin.CreateUser(ctx, withToken(connect.NewRequest(&v1.CreateUserRequest{
				Email: "big@example.com", Role: v1.Role_ROLE_SHOPPER, Password: "long enough", DisplayName: strings.Repeat("x", 5<<20)}), admin))
			requireCode(t, connect.CodeResourceExhausted, err)
		}
	})
	t.Run("gzip bomb", func(t *testing.T) {
		// 1 GiB of JSON whitespace compresses to about 1 MiB.
		var body bytes.Buffer
		zw, err := gzip.NewWriterLevel(&body, gzip.BestCompression)
		require.NoError(t, err)
		zw.Write([]byte(`{"displayName":"`))
		chunk := bytes.Repeat([]byte("a"), 1<<20)
		for range 1 << 10 {
			zw.Write(chunk)
		}
		zw.Write([]byte(`"}`))
		require.NoError(t, zw.Close())
		req, err := http.NewRequest("POST", ts.URL+"/shopscore.v1.AdminService/CreateUser", &body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Authorization", "Bearer "+admin)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var e struct{ Code string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		assert.Equal(t, "resource_exhausted", e.Code)
		// The server stops after the first 4 MiB; inflating the whole
		// gigabyte would take seconds.
		t.Logf("gzip bomb refused in %v", time.Since(start))
	})
	t.Run("too many failed logins", func(t *testing.T) {
		var codes []connect.Code
		for range 5 {
			_, err := c.Auth.Login(ctx, connect.NewRequest(&v1.LoginRequest{
				Email: demo.Users[audit.RoleHR], Password: "guess", DeviceId: "brute"}))
			codes = append(codes, connect.CodeOf(err))
		}
		assert.Equal(t, []connect.Code{connect.CodeUnauthenticated, connect.CodeUnauthenticated, connect.CodeUnauthenticated,
			connect.CodeResourceExhausted, connect.CodeResourceExhausted}, codes,
			"three failures spend the account's burst of 3")
		// Another account from the same address is not locked out by them.
		mustLogin(t, c, audit.RoleManager, "limits")
	})
}

// TestJWKS verifies a token the server issued using nothing but the JWKS
// document fetched over HTTP.
func TestJWKS(t *testing.T) {
	ts := MustRunServer(t, nil)
	ctx := context.Background()
	c := clientsOf(ts, http.DefaultClient)
	login := mustLogin(t, c, audit.RoleAdmin, "jwks")
	fetch := func() jose.JSONWebKeySet {
		resp, err := http.Get(ts.URL + "/.well-known/jwks.json")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var set jose.JSONWebKeySet
		require.NoError(t, json.Unmarshal(body, &set))
		for _, k := range set.Keys {
			require.True(t, k.IsPublic(), "the JWKS must hold public keys only")
		}
		return set
	}
	set := fetch()
	require.Len(t, set.Keys, 1)
	v := auth.NewVerifier(func() jose.JSONWebKeySet { return set }, auth.TokenConfig{})
	claims, err := v.Verify(login.Tokens.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, login.User.Id, claims.Subject)
	assert.Equal(t, "admin", claims.Role)
	assert.Equal(t, login.SessionId, claims.SessionID)

	t.Run("rotation keeps the old key published", func(t *testing.T) {
		rotated, err := c.Admin.RotateSigningKey(ctx, withToken(connect.NewRequest(&v1.RotateSigningKeyRequest{}), login.Tokens.AccessToken))
		require.NoError(t, err)
		set := fetch()
		require.Len(t, set.Keys, 2)
		v := auth.NewVerifier(func() jose.JSONWebKeySet { return set }, auth.TokenConfig{})
		_, err = v.Verify(login.Tokens.AccessToken)
		require.NoError(t, err, "a token signed before rotation stays valid until it expires")
		// The old token still works on the server, and new tokens use the new key.
		_, err = c.Auth.WhoAmI(ctx, withToken(connect.NewRequest(&v1.WhoAmIRequest{}), login.Tokens.AccessToken))
		require.NoError(t, err)
		fresh := mustLogin(t, c, audit.RoleAdmin, "jwks-2").Tokens.AccessToken
		header, _, _ := strings.Cut(fresh, ".")
		raw, err := base64.RawURLEncoding.DecodeString(header)
		require.NoError(t, err)
		assert.Contains(t, string(raw), rotated.Msg.KeyId)
		_, err = v.Verify(fresh)
		require.NoError(t, err)
	})
}

func TestHealth(t *testing.T) {
	ts := MustRunServer(t, nil)
	resp, err := http.Post(ts.URL+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"status":"SERVING_STATUS_SERVING"}`, string(body))
}

// TestAuthService_RefreshAfterGrace checks that a rotated token presented
// again after the retry grace is reuse, and revokes the session.
func TestAuthService_RefreshAfterGrace(t *testing.T) {
	ts := mustRunSyncServer(t, &server.Config{RefreshRetryGrace: time.Millisecond})
	c := clientsOf(ts, http.DefaultClient)
	ctx := context.Background()
	refresh := func(token string) (*connect.Response[v1.RefreshResponse], error) {
		return c.Auth.Refresh(ctx, connect.NewRequest(&v1.RefreshRequest{RefreshToken: token, DeviceId: "late"}))
	}
	first := mustLogin(t, c, audit.RoleShopper, "late").Tokens
	second, err := refresh(first.RefreshToken)
	require.NoError(t, err)
	time.Sleep(5 * time.Millisecond)
	_, err = refresh(first.RefreshToken)
	requireCode(t, connect.CodeUnauthenticated, err)
	_, err = refresh(second.Msg.Tokens.RefreshToken)
	requireCode(t, connect.CodeUnauthenticated, err)
}

// TestLogin_BehindTrustedProxy: behind a load balancer named in
// TrustedProxies, the limit of logins per client address counts each
// client (X-Forwarded-For), not the balancer: one client that exhausts
// its address's logins leaves another's untouched.
func TestLogin_BehindTrustedProxy(t *testing.T) {
	trusted, err := server.ParseTrustedProxies("127.0.0.1")
	require.NoError(t, err)
	ts := MustRunServer(t, &server.Config{LoginRate: server.Rate{Burst: 1, Every: time.Hour}, TrustedProxies: trusted})
	c := clientsOf(ts, http.DefaultClient)
	login := func(client, email string) error {
		req := connect.NewRequest(&v1.LoginRequest{Email: email, Password: "wrong password", DeviceId: "desk"})
		req.Header().Set("X-Forwarded-For", client)
		_, err := c.Auth.Login(context.Background(), req)
		return err
	}
	// The address's limit is ten times LoginRate for all accounts.
	var last error
	for i := range 11 {
		last = login("198.51.100.1", fmt.Sprintf("guess%d@example.com", i))
	}
	requireCode(t, connect.CodeResourceExhausted, last, "the eleventh guess from one client")
	requireCode(t, connect.CodeUnauthenticated, login("198.51.100.2", "guess0@example.com"), "another client behind the same balancer")
}
