// Package auth holds the token and credential primitives of the shopscore
// server: Ed25519 signing keys and their rotation (KeyStore), short-lived
// access tokens (Issuer, Verifier), opaque refresh tokens, Argon2id password
// hashes and per-key rate limits (Limiter).
//
// Errors meant for a caller are domain errors from package audit: any token
// problem is audit.EUNAUTHORIZED with a generic message, while the error's
// text keeps the precise cause for the server's logs. The package has no
// storage and no transport; the server's AuthService and interceptor use it.
package auth

import (
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Defaults and limits of TokenConfig.
const (
	DefaultIssuer    = "shopscore"
	DefaultAudience  = "shopscore-api"
	DefaultAccessTTL = 10 * time.Minute
	DefaultLeeway    = 30 * time.Second

	// MaxAccessTTL bounds the lifetime of an access token: a revoked device
	// or user keeps working at most this long on a token it already holds.
	MaxAccessTTL = 15 * time.Minute
	// MaxLeeway bounds the clock skew tolerated when checking token times.
	MaxLeeway = 5 * time.Minute
)

// TokenConfig configures access tokens. The zero value is usable: every
// zero field takes its default. The same TokenConfig should be given to
// OpenKeyStore, NewIssuer and NewVerifier, so that a retired key stays
// published for as long as a token it signed can still be valid.
type TokenConfig struct {
	// Issuer is the "iss" claim; DefaultIssuer if empty.
	Issuer string
	// Audience is the "aud" claim of access tokens; DefaultAudience if empty.
	Audience string
	// AccessTTL is the lifetime of an access token; DefaultAccessTTL if
	// zero. It must not exceed MaxAccessTTL.
	AccessTTL time.Duration
	// Leeway is the clock skew tolerated when checking exp, nbf and iat;
	// DefaultLeeway if zero. It must not exceed MaxLeeway.
	Leeway time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// withDefaults returns c with every zero field set to its default.
func (c TokenConfig) withDefaults() TokenConfig {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate returns EINVALID if c, once its defaults are applied, has a
// negative duration, an AccessTTL above MaxAccessTTL or a Leeway above
// MaxLeeway, and nil otherwise.
func (c TokenConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.AccessTTL < time.Second:
		return audit.Errorf(audit.EINVALID, "auth: access token lifetime %v is below 1s", c.AccessTTL)
	case c.AccessTTL > MaxAccessTTL:
		return audit.Errorf(audit.EINVALID, "auth: access token lifetime %v exceeds %v", c.AccessTTL, MaxAccessTTL)
	case c.Leeway < 0:
		return audit.Errorf(audit.EINVALID, "auth: negative leeway %v", c.Leeway)
	case c.Leeway > MaxLeeway:
		return audit.Errorf(audit.EINVALID, "auth: leeway %v exceeds %v", c.Leeway, MaxLeeway)
	}
	return nil
}

// retention is how long a retired key must stay published: the longest a
// token it signed can still pass verification.
func (c TokenConfig) retention() time.Duration {
	return c.AccessTTL + c.Leeway
}
