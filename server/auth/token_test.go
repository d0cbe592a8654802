package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// tokenFixture is a key store, an Issuer and a Verifier on a fake clock.
type tokenFixture struct {
	clock    *fakeClock
	cfg      TokenConfig
	ks       *KeyStore
	db       storage.SigningKeys
	issuer   *Issuer
	verifier *Verifier
}

// newTokenFixture returns a tokenFixture with the default TokenConfig.
func newTokenFixture(tb testing.TB) *tokenFixture {
	tb.Helper()
	clock := newFakeClock()
	cfg := TokenConfig{Now: clock.Now}
	ks, db := MustOpenKeyStore(tb, cfg)
	return &tokenFixture{
		clock:    clock,
		cfg:      cfg,
		ks:       ks,
		db:       db,
		issuer:   NewIssuer(ks, cfg),
		verifier: ks.Verifier(cfg),
	}
}

// issue returns a token for a shopper on a device, failing the test on error.
func (f *tokenFixture) issue(tb testing.TB) (string, AccessClaims) {
	tb.Helper()
	token, c, err := f.issuer.IssueAccess("user-1", string(audit.RoleShopper), "device-1")
	require.NoError(tb, err)
	return token, c
}

// header returns the header of a valid access token by the active key.
func (f *tokenFixture) header() map[string]any {
	kid, _ := f.ks.activeKey()
	return map[string]any{"alg": "EdDSA", "kid": kid, "typ": AccessTokenType}
}

// claims returns the claims of a valid access token issued now.
func (f *tokenFixture) claims() map[string]any {
	now := f.clock.Now().Unix()
	return map[string]any{
		"iss":  DefaultIssuer,
		"aud":  DefaultAudience,
		"sub":  "user-1",
		"iat":  now,
		"nbf":  now,
		"exp":  now + int64(DefaultAccessTTL/time.Second),
		"jti":  "jti-1",
		"role": "manager",
		"sid":  "device-1",
	}
}

// sign signs header and claims with the active key.
func (f *tokenFixture) sign(tb testing.TB, header, claims map[string]any) string {
	tb.Helper()
	_, priv := f.ks.activeKey()
	return signCompact(tb, priv, header, claims)
}

// requireUnauthorized asserts that err is EUNAUTHORIZED with a generic
// message and that its text holds the given cause.
func requireUnauthorized(tb testing.TB, err error, cause string) {
	tb.Helper()
	require.Error(tb, err)
	require.Equal(tb, audit.EUNAUTHORIZED, audit.ErrorCode(err), "%v", err)
	require.Contains(tb, []string{"invalid access token", "access token expired"}, audit.ErrorMessage(err))
	require.Contains(tb, err.Error(), cause)
}

// with returns a copy of m with the given changes; a nil value deletes.
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func TestIssuer_IssueAccess(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newTokenFixture(t)
		token, c, err := f.issuer.IssueAccess("user-1", "hr", "device-1")
		require.NoError(t, err)

		now := f.clock.Now()
		assert.Equal(t, "user-1", c.Subject)
		assert.Equal(t, "hr", c.Role)
		assert.Equal(t, "device-1", c.SessionID)
		assert.NotEmpty(t, c.ID)
		assert.True(t, c.IssuedAt.Equal(now))
		assert.True(t, c.Expiry.Equal(now.Add(DefaultAccessTTL)))
		assert.Equal(t, audit.Principal{UserID: "user-1", Role: audit.RoleHR, SessionID: "device-1"}, c.Principal())

		h, p, _ := splitToken(t, token)
		var header map[string]any
		require.NoError(t, json.Unmarshal(mustB64Decode(t, h), &header))
		kid, _ := f.ks.activeKey()
		assert.Equal(t, map[string]any{"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}, header)

		var claims map[string]any
		require.NoError(t, json.Unmarshal(mustB64Decode(t, p), &claims))
		assert.Equal(t, map[string]any{
			"iss":  "shopscore",
			"aud":  "shopscore-api",
			"sub":  "user-1",
			"iat":  float64(now.Unix()),
			"nbf":  float64(now.Unix()),
			"exp":  float64(now.Add(10 * time.Minute).Unix()),
			"jti":  c.ID,
			"role": "hr",
			"sid":  "device-1",
		}, claims)

		got, err := f.verifier.Verify(token)
		require.NoError(t, err)
		assert.Equal(t, c.Subject, got.Subject)
		assert.Equal(t, c.ID, got.ID)
		assert.True(t, c.Expiry.Equal(got.Expiry))
	})

	t.Run("UniqueIDs", func(t *testing.T) {
		f := newTokenFixture(t)
		t1, c1 := f.issue(t)
		t2, c2 := f.issue(t)
		assert.NotEqual(t, t1, t2)
		assert.NotEqual(t, c1.ID, c2.ID)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		f := newTokenFixture(t)
		for _, args := range [][3]string{
			{"", "shopper", "device-1"},
			{"user-1", "", "device-1"},
			{"user-1", "root", "device-1"},
			{"user-1", "shopper", ""},
		} {
			_, _, err := f.issuer.IssueAccess(args[0], args[1], args[2])
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%q: %v", args, err)
		}
	})

	t.Run("ErrConfig", func(t *testing.T) {
		f := newTokenFixture(t)
		for _, cfg := range []TokenConfig{
			{AccessTTL: 16 * time.Minute},
			{AccessTTL: 15 * time.Minute}, // valid, but longer than the key store keeps keys
			{Leeway: -time.Second},
		} {
			_, _, err := NewIssuer(f.ks, cfg).IssueAccess("user-1", "shopper", "device-1")
			assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err), "%+v: %v", cfg, err)
		}
		_, _, err := NewIssuer(nil, TokenConfig{}).IssueAccess("user-1", "shopper", "device-1")
		assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err))
	})
}

func TestVerifier_Verify(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newTokenFixture(t)
		token, want := f.issue(t)
		got, err := f.verifier.Verify(token)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})

	t.Run("OKHandSigned", func(t *testing.T) {
		// The helpers below build valid tokens, so each rejection is due to
		// the one thing a subtest changes.
		f := newTokenFixture(t)
		c, err := f.verifier.Verify(f.sign(t, f.header(), f.claims()))
		require.NoError(t, err)
		assert.Equal(t, "manager", c.Role)
	})

	t.Run("AlgNone", func(t *testing.T) {
		f := newTokenFixture(t)
		for _, alg := range []string{"none", "None", "NONE"} {
			token := jsonB64(t, with(f.header(), "alg", alg)) + "." + jsonB64(t, f.claims()) + "."
			_, err := f.verifier.Verify(token)
			requireUnauthorized(t, err, "unexpected signature algorithm")
		}
	})

	t.Run("HS256WithPublicKeyAsSecret", func(t *testing.T) {
		f := newTokenFixture(t)
		kid, priv := f.ks.activeKey()
		pub := priv.Public().(ed25519.PublicKey)
		jwk, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: "EdDSA", Use: "sig"})
		require.NoError(t, err)
		for name, secret := range map[string][]byte{"RawKey": pub, "JWK": jwk} {
			t.Run(name, func(t *testing.T) {
				input := jsonB64(t, with(f.header(), "alg", "HS256")) + "." + jsonB64(t, f.claims())
				mac := hmac.New(sha256.New, secret)
				mac.Write([]byte(input))
				token := input + "." + b64(mac.Sum(nil))
				_, err := f.verifier.Verify(token)
				requireUnauthorized(t, err, `unexpected signature algorithm "HS256"`)
			})
		}
	})

	t.Run("UnknownKID", func(t *testing.T) {
		f := newTokenFixture(t)
		_, err := f.verifier.Verify(f.sign(t, with(f.header(), "kid", "no-such-key"), f.claims()))
		requireUnauthorized(t, err, `unknown kid "no-such-key"`)

		attacker := newAttackerKey(t)
		_, err = f.verifier.Verify(signCompact(t, attacker, with(f.header(), "kid", "attacker"), f.claims()))
		requireUnauthorized(t, err, "unknown kid")
	})

	t.Run("NoKID", func(t *testing.T) {
		f := newTokenFixture(t)
		_, err := f.verifier.Verify(f.sign(t, with(f.header(), "kid", nil), f.claims()))
		requireUnauthorized(t, err, "no kid")
	})

	t.Run("NoExp", func(t *testing.T) {
		f := newTokenFixture(t)
		_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "exp", nil)))
		requireUnauthorized(t, err, "no exp")
	})

	t.Run("NoIat", func(t *testing.T) {
		f := newTokenFixture(t)
		_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "iat", nil)))
		requireUnauthorized(t, err, "no iat")
	})

	t.Run("Expired", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)

		f.clock.Advance(DefaultAccessTTL + DefaultLeeway) // within leeway
		_, err := f.verifier.Verify(token)
		require.NoError(t, err)

		f.clock.Advance(time.Second) // beyond leeway
		_, err = f.verifier.Verify(token)
		requireUnauthorized(t, err, "expired")
		assert.Equal(t, "access token expired", audit.ErrorMessage(err))
	})

	t.Run("NotYetValid", func(t *testing.T) {
		f := newTokenFixture(t)
		now := f.clock.Now().Unix()
		leeway := int64(DefaultLeeway / time.Second)

		_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "nbf", now+leeway)))
		require.NoError(t, err, "nbf within leeway")
		_, err = f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "nbf", now+leeway+1)))
		requireUnauthorized(t, err, "not valid yet")

		_, err = f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "iat", now+leeway, "nbf", nil)))
		require.NoError(t, err, "iat within leeway")
		_, err = f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "iat", now+leeway+1, "nbf", nil)))
		requireUnauthorized(t, err, "issued in the future")
	})

	t.Run("LifetimeTooLong", func(t *testing.T) {
		f := newTokenFixture(t)
		now := f.clock.Now().Unix()
		_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "exp", now+3600)))
		requireUnauthorized(t, err, "lifetime")
	})

	t.Run("WrongAudience", func(t *testing.T) {
		f := newTokenFixture(t)
		for _, aud := range []any{"shopscore-refresh", []string{"other"}, []string{DefaultAudience, "other"}, []string{}} {
			_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "aud", aud)))
			requireUnauthorized(t, err, "invalid audience")
		}
		_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "aud", nil)))
		requireUnauthorized(t, err, "invalid audience")
		_, err = f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "aud", []string{DefaultAudience})))
		require.NoError(t, err, "a one-element array is the same audience")
	})

	t.Run("WrongIssuer", func(t *testing.T) {
		f := newTokenFixture(t)
		for _, iss := range []any{"evil", "Shopscore", ""} {
			_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "iss", iss)))
			requireUnauthorized(t, err, "invalid issuer")
		}
	})

	t.Run("WrongTyp", func(t *testing.T) {
		f := newTokenFixture(t)
		for _, typ := range []any{"JWT", "rt+jwt", "application/jwt", 1} {
			_, err := f.verifier.Verify(f.sign(t, with(f.header(), "typ", typ), f.claims()))
			requireUnauthorized(t, err, "typ")
		}
		_, err := f.verifier.Verify(f.sign(t, with(f.header(), "typ", nil), f.claims()))
		requireUnauthorized(t, err, "typ")
	})

	t.Run("MissingClaims", func(t *testing.T) {
		f := newTokenFixture(t)
		for claim, cause := range map[string]string{"sub": "no sub", "sid": "no sid", "jti": "no jti", "role": "unknown role"} {
			_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), claim, nil)))
			requireUnauthorized(t, err, cause)
			_, err = f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), claim, "")))
			requireUnauthorized(t, err, cause)
		}
		_, err := f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "role", "root")))
		requireUnauthorized(t, err, "unknown role")
		_, err = f.verifier.Verify(f.sign(t, f.header(), with(f.claims(), "sid", 7)))
		requireUnauthorized(t, err, "claims")
	})

	t.Run("LegacySessionClaim", func(t *testing.T) {
		// A token issued before the session claim was named "sid" holds it
		// as "dev"; it is accepted in place of sid (within its own
		// lifetime, as every token), and a token with both is refused.
		f := newTokenFixture(t)
		legacy := with(f.claims(), "sid", nil)
		legacy["dev"] = "device-1"
		got, err := f.verifier.Verify(f.sign(t, f.header(), legacy))
		require.NoError(t, err)
		assert.Equal(t, "device-1", got.SessionID)
		both := f.claims()
		both["dev"] = "device-2"
		_, err = f.verifier.Verify(f.sign(t, f.header(), both))
		requireUnauthorized(t, err, "both sid and dev")
		f.clock.Advance(DefaultAccessTTL + time.Hour)
		_, err = f.verifier.Verify(f.sign(t, f.header(), legacy))
		requireUnauthorized(t, err, "expired")
	})

	t.Run("RefreshToken", func(t *testing.T) {
		f := newTokenFixture(t)
		refresh, _, err := NewRefreshToken()
		require.NoError(t, err)
		_, err = f.verifier.Verify(refresh)
		requireUnauthorized(t, err, "parse")
	})

	t.Run("EmbeddedJWK", func(t *testing.T) {
		f := newTokenFixture(t)
		attacker := newAttackerKey(t)
		jwk := jose.JSONWebKey{Key: attacker.Public(), Algorithm: "EdDSA", Use: "sig"}

		// The attacker names our kid and embeds his own key: our key checks it.
		_, err := f.verifier.Verify(signCompact(t, attacker, with(f.header(), "jwk", jwk), f.claims()))
		requireUnauthorized(t, err, "signature")

		// Without a kid, the embedded key is not a fallback.
		_, err = f.verifier.Verify(signCompact(t, attacker, with(f.header(), "jwk", jwk, "kid", nil), f.claims()))
		requireUnauthorized(t, err, "no kid")

		// The same with go-jose's own EmbedJWK option.
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: attacker},
			(&jose.SignerOptions{EmbedJWK: true}).WithType(AccessTokenType).WithHeader("kid", f.header()["kid"]))
		require.NoError(t, err)
		claims, err := json.Marshal(f.claims())
		require.NoError(t, err)
		jws, err := signer.Sign(claims)
		require.NoError(t, err)
		token, err := jws.CompactSerialize()
		require.NoError(t, err)
		require.Contains(t, string(mustB64Decode(t, strings.Split(token, ".")[0])), `"jwk"`)
		_, err = f.verifier.Verify(token)
		requireUnauthorized(t, err, "signature")
	})

	t.Run("JKUAndX5UIgnored", func(t *testing.T) {
		f := newTokenFixture(t)
		header := with(f.header(), "jku", "https://attacker.example/jwks.json", "x5u", "https://attacker.example/cert.pem")
		_, err := f.verifier.Verify(f.sign(t, header, f.claims()))
		require.NoError(t, err, "a token by our key is valid whatever the URLs say")

		attacker := newAttackerKey(t)
		_, err = f.verifier.Verify(signCompact(t, attacker, header, f.claims()))
		requireUnauthorized(t, err, "signature")
	})

	t.Run("Crit", func(t *testing.T) {
		f := newTokenFixture(t)
		_, err := f.verifier.Verify(f.sign(t, with(f.header(), "crit", []string{"exp"}, "exp", 1), f.claims()))
		requireUnauthorized(t, err, "crit")
	})

	t.Run("TamperedPayload", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)
		h, p, s := splitToken(t, token)
		var claims map[string]any
		require.NoError(t, json.Unmarshal(mustB64Decode(t, p), &claims))
		claims["role"] = "admin"
		_, err := f.verifier.Verify(h + "." + jsonB64(t, claims) + "." + s)
		requireUnauthorized(t, err, "signature")
	})

	t.Run("TamperedSignature", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)
		h, p, s := splitToken(t, token)
		sig := mustB64Decode(t, s)
		sig[0] ^= 1
		_, err := f.verifier.Verify(h + "." + p + "." + b64(sig))
		requireUnauthorized(t, err, "signature")
	})

	t.Run("Malformed", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)
		for _, s := range []string{"", "a", "a.b", "a.b.c.d", token + ".", strings.Repeat("a", MaxTokenSize+1)} {
			_, err := f.verifier.Verify(s)
			requireUnauthorized(t, err, "")
		}
	})

	t.Run("JSONSerialization", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)
		h, p, s := splitToken(t, token)
		_, err := f.verifier.Verify(`{"protected":"` + h + `","payload":"` + p + `","signature":"` + s + `"}`)
		requireUnauthorized(t, err, "parse")
	})

	t.Run("WrongKeyType", func(t *testing.T) {
		f := newTokenFixture(t)
		kid, _ := f.ks.activeKey()
		v := NewVerifier(func() jose.JSONWebKeySet {
			return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: kid}}}
		}, f.cfg)
		token, _ := f.issue(t)
		_, err := v.Verify(token)
		requireUnauthorized(t, err, "unknown kid")
	})

	t.Run("ErrConfig", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)
		_, err := NewVerifier(nil, f.cfg).Verify(token)
		assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err))
		_, err = NewVerifier(f.ks.JWKS, TokenConfig{AccessTTL: time.Hour}).Verify(token)
		assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err))
	})

	t.Run("OtherConfig", func(t *testing.T) {
		f := newTokenFixture(t)
		token, _ := f.issue(t)
		_, err := NewVerifier(f.ks.JWKS, TokenConfig{Now: f.clock.Now, Audience: "other-api"}).Verify(token)
		requireUnauthorized(t, err, "invalid audience")
		_, err = NewVerifier(f.ks.JWKS, TokenConfig{Now: f.clock.Now, Issuer: "other"}).Verify(token)
		requireUnauthorized(t, err, "invalid issuer")
	})
}

// TestVerifier_JWKSOverHTTP builds a Verifier from nothing but the JWKS
// document the server publishes.
func TestVerifier_JWKSOverHTTP(t *testing.T) {
	f := newTokenFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := f.ks.JWKSJSON()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	doc, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(doc), `"d"`, "no private key material")

	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(doc, &set))
	v := NewVerifier(func() jose.JSONWebKeySet { return set }, TokenConfig{Now: f.clock.Now})

	token, want := f.issue(t)
	got, err := v.Verify(token)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// TestVerifier_Concurrent issues and verifies tokens while keys rotate.
func TestVerifier_Concurrent(t *testing.T) {
	f := newTokenFixture(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				token, _, err := f.issuer.IssueAccess("user-1", "admin", "device-1")
				if !assert.NoError(t, err) {
					return
				}
				_, err = f.verifier.Verify(token)
				assert.NoError(t, err)
			}
		}()
	}
	for range 5 {
		_, err := f.ks.Rotate(context.Background())
		require.NoError(t, err)
	}
	wg.Wait()
}

// mustB64Decode decodes unpadded base64url.
func mustB64Decode(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(tb, err)
	return b
}
