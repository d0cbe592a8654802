package auth

import (
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/shopscore/shopscore/audit"
)

// AccessTokenType is the "typ" header of an access token (RFC 9068). A
// token of any other type, such as an ID token, is not an access token.
const AccessTokenType = "at+jwt"

// MaxTokenSize bounds the length of a token Verify will parse.
const MaxTokenSize = 4096

// accessAlgorithms is the one signature algorithm access tokens may use.
var accessAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA}

// AccessClaims are the claims of a verified access token.
type AccessClaims struct {
	Subject   string    // the user id ("sub")
	Role      string    // the user's role, one of audit.Roles ("role")
	SessionID string    // the server-side session id ("sid")
	ID        string    // a random token id ("jti")
	IssuedAt  time.Time // "iat", also "nbf"; UTC, whole seconds
	Expiry    time.Time // "exp"; UTC, whole seconds
}

// Principal returns the caller the claims describe.
func (c AccessClaims) Principal() audit.Principal {
	return audit.Principal{UserID: c.Subject, Role: audit.Role(c.Role), SessionID: c.SessionID}
}

// accessPayload is the JSON payload of an access token.
type accessPayload struct {
	jwt.Claims
	Role      string `json:"role"`
	SessionID string `json:"sid"`
	// LegacySession is the claim "dev", which held the session id in
	// tokens issued before it was named "sid". Verify accepts it in a
	// token without "sid": no issuer writes it any more and no access
	// token lives longer than MaxAccessTTL, so a token carrying it is
	// valid for at most one access-token lifetime after the upgrade.
	LegacySession string `json:"dev,omitempty"`
}

// Issuer signs access tokens with the active key of a KeyStore.
// It is safe for concurrent use.
type Issuer struct {
	ks  *KeyStore
	cfg TokenConfig
	err error // a configuration error, returned by every IssueAccess
}

// NewIssuer returns an Issuer that signs with the active key of ks. The
// cfg should be the one ks was opened with; if it is invalid, or its
// AccessTTL or Leeway exceeds those of ks (so that a token could outlive
// the publication of its key), every IssueAccess fails with EINTERNAL.
func NewIssuer(ks *KeyStore, cfg TokenConfig) *Issuer {
	i := &Issuer{ks: ks, cfg: cfg.withDefaults()}
	switch err := cfg.Validate(); {
	case ks == nil:
		i.err = errors.New("auth: issuer has no key store")
	case err != nil:
		i.err = fmt.Errorf("auth: issuer config: %v", err) // internal, not the caller's EINVALID
	case i.cfg.retention() > ks.cfg.retention():
		i.err = fmt.Errorf("auth: issuer AccessTTL+Leeway %v exceeds the key store's %v",
			i.cfg.retention(), ks.cfg.retention())
	}
	return i
}

// IssueAccess returns a signed access token for the user with the given
// id and role on the given device session, and its claims. The token is a
// compact JWS signed with EdDSA, with headers kid and typ "at+jwt" and
// claims iss, aud, sub, exp, iat, nbf, jti, role and sid. It returns
// EINVALID if an argument is empty or role is not one of audit.Roles, and
// EINTERNAL if the Issuer is misconfigured or signing fails.
func (i *Issuer) IssueAccess(userID, role, sessionID string) (token string, c AccessClaims, err error) {
	if i.err != nil {
		return "", AccessClaims{}, i.err
	}
	switch {
	case userID == "":
		return "", AccessClaims{}, audit.Errorf(audit.EINVALID, "access token: user id is required")
	case sessionID == "":
		return "", AccessClaims{}, audit.Errorf(audit.EINVALID, "access token: session id is required")
	case !audit.Role(role).Valid():
		return "", AccessClaims{}, audit.Errorf(audit.EINVALID, "access token: unknown role %q", role)
	}
	jti, err := randomString(16)
	if err != nil {
		return "", AccessClaims{}, err
	}
	now := i.cfg.Now().UTC().Truncate(time.Second) // JWT times have whole seconds
	c = AccessClaims{
		Subject:   userID,
		Role:      role,
		SessionID: sessionID,
		ID:        jti,
		IssuedAt:  now,
		Expiry:    now.Add(i.cfg.AccessTTL),
	}

	kid, priv := i.ks.activeKey()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(AccessTokenType),
	)
	if err != nil {
		return "", AccessClaims{}, fmt.Errorf("auth: access token signer: %w", err)
	}
	token, err = jwt.Signed(signer).Claims(accessPayload{
		Claims: jwt.Claims{
			Issuer:    i.cfg.Issuer,
			Audience:  jwt.Audience{i.cfg.Audience},
			Subject:   userID,
			Expiry:    jwt.NewNumericDate(c.Expiry),
			IssuedAt:  jwt.NewNumericDate(c.IssuedAt),
			NotBefore: jwt.NewNumericDate(c.IssuedAt),
			ID:        jti,
		},
		Role:      role,
		SessionID: sessionID,
	}).Serialize()
	if err != nil {
		return "", AccessClaims{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return token, c, nil
}

// Verifier checks access tokens against a set of public keys.
// It is safe for concurrent use if its keys function is.
type Verifier struct {
	keys func() jose.JSONWebKeySet
	// miss, when set, is called for a kid keys does not have; when it
	// reports true, keys is asked once more (KeyStore.Verifier: the key
	// store reads the database again).
	miss func(kid string) bool
	cfg  TokenConfig
	err  error // a configuration error, returned by every Verify
}

// NewVerifier returns a Verifier that takes its public keys from keys,
// called once per Verify: KeyStore.JWKS, or a function that returns a
// JWKS document fetched from the server. If keys is nil or cfg is
// invalid, every Verify fails with EINTERNAL.
func NewVerifier(keys func() jose.JSONWebKeySet, cfg TokenConfig) *Verifier {
	v := &Verifier{keys: keys, cfg: cfg.withDefaults()}
	if keys == nil {
		v.err = errors.New("auth: verifier has no keys")
	} else if err := cfg.Validate(); err != nil {
		v.err = fmt.Errorf("auth: verifier config: %v", err) // internal, not the caller's EINVALID
	}
	return v
}

// Verify checks an access token and returns its claims. The token must be
// a compact JWS with exactly one EdDSA signature, by the key its kid names
// in the key set (embedded jwk, jku and x5u headers are never used), with
// typ "at+jwt". Its iss and aud must equal the configured ones; exp and
// iat are required and, with nbf if present, must hold at now give or take
// the Leeway; its lifetime may not exceed MaxAccessTTL; sub, role, sid and
// jti must be set, and role must be one of audit.Roles. A token issued
// before the session claim was named "sid" carries it as "dev", which is
// accepted in its place (see accessPayload.LegacySession); a token with
// both is refused.
//
// Any failure is EUNAUTHORIZED with the message "invalid access token", or
// "access token expired" for a genuine but expired token; the error's text
// and chain hold the precise cause. A misconfigured Verifier returns
// EINTERNAL.
func (v *Verifier) Verify(token string) (AccessClaims, error) {
	if v.err != nil {
		return AccessClaims{}, v.err
	}
	c, err := v.verify(token)
	if err != nil {
		msg := "invalid access token"
		if errors.Is(err, jwt.ErrExpired) {
			msg = "access token expired"
		}
		return AccessClaims{}, fmt.Errorf("%w: %w", audit.Errorf(audit.EUNAUTHORIZED, "%s", msg), err)
	}
	return c, nil
}

// verify does the work of Verify and returns the precise cause of failure.
func (v *Verifier) verify(token string) (AccessClaims, error) {
	if token == "" {
		return AccessClaims{}, errors.New("empty token")
	}
	if len(token) > MaxTokenSize {
		return AccessClaims{}, fmt.Errorf("token of %d bytes exceeds %d", len(token), MaxTokenSize)
	}
	// ParseSignedCompact is jose.ParseSigned without the JSON serialization
	// (ParseSigned is deprecated in go-jose v4.1): the algorithm is pinned
	// here, before any key is looked at, so "none" and HS256 never get
	// further.
	jws, err := jose.ParseSignedCompact(token, accessAlgorithms)
	if err != nil {
		return AccessClaims{}, fmt.Errorf("parse: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return AccessClaims{}, fmt.Errorf("%d signatures, want 1", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	if h.Algorithm != string(jose.EdDSA) {
		return AccessClaims{}, fmt.Errorf("alg %q, want %s", h.Algorithm, jose.EdDSA)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != AccessTokenType {
		return AccessClaims{}, fmt.Errorf("typ %q, want %q", h.ExtraHeaders[jose.HeaderType], AccessTokenType)
	}
	if _, ok := h.ExtraHeaders["crit"]; ok {
		return AccessClaims{}, errors.New("crit header is not allowed")
	}
	if h.KeyID == "" {
		return AccessClaims{}, errors.New("no kid header")
	}
	pub, err := v.publicKey(h.KeyID)
	if err != nil {
		return AccessClaims{}, err
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return AccessClaims{}, fmt.Errorf("signature: %w", err)
	}

	var p accessPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return AccessClaims{}, fmt.Errorf("claims: %w", err)
	}
	switch {
	case p.Issuer != v.cfg.Issuer:
		return AccessClaims{}, fmt.Errorf("%w: %q", jwt.ErrInvalidIssuer, p.Issuer)
	case len(p.Audience) != 1 || p.Audience[0] != v.cfg.Audience:
		return AccessClaims{}, fmt.Errorf("%w: %q", jwt.ErrInvalidAudience, []string(p.Audience))
	case p.Expiry == nil:
		return AccessClaims{}, errors.New("no exp claim")
	case p.IssuedAt == nil:
		return AccessClaims{}, errors.New("no iat claim")
	case p.Subject == "":
		return AccessClaims{}, errors.New("no sub claim")
	case p.SessionID != "" && p.LegacySession != "":
		return AccessClaims{}, errors.New("both sid and dev claims")
	case p.SessionID == "" && p.LegacySession == "":
		return AccessClaims{}, errors.New("no sid claim")
	case p.ID == "":
		return AccessClaims{}, errors.New("no jti claim")
	case !audit.Role(p.Role).Valid():
		return AccessClaims{}, fmt.Errorf("unknown role %q", p.Role)
	}
	iat, exp := p.IssuedAt.Time().UTC(), p.Expiry.Time().UTC()
	if life := exp.Sub(iat); life <= 0 || life > MaxAccessTTL {
		return AccessClaims{}, fmt.Errorf("lifetime %v outside (0, %v]", life, MaxAccessTTL)
	}
	now := v.cfg.Now()
	if err := p.Claims.ValidateWithLeeway(jwt.Expected{Time: now}, v.cfg.Leeway); err != nil {
		return AccessClaims{}, fmt.Errorf("%w (now %v, iat %v, exp %v)", err, now.UTC(), iat.UTC(), exp.UTC())
	}
	return AccessClaims{
		Subject:   p.Subject,
		Role:      p.Role,
		SessionID: cmp.Or(p.SessionID, p.LegacySession),
		ID:        p.ID,
		IssuedAt:  iat,
		Expiry:    exp,
	}, nil
}

// publicKey returns the one Ed25519 signing key the key set has for kid.
func (v *Verifier) publicKey(kid string) (ed25519.PublicKey, error) {
	set := v.keys()
	if len(set.Key(kid)) == 0 && v.miss != nil && v.miss(kid) {
		set = v.keys()
	}
	var found []ed25519.PublicKey
	for _, k := range set.Key(kid) {
		pub, ok := k.Key.(ed25519.PublicKey)
		if !ok || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(jose.EdDSA)) {
			continue
		}
		found = append(found, pub)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("unknown kid %q", kid)
	case 1:
		return found[0], nil
	default:
		return nil, fmt.Errorf("%d keys for kid %q", len(found), kid)
	}
}

// randomString returns n random bytes, base64url-encoded without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
