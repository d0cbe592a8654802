package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/shopscore/shopscore/audit"
)

// RefreshTokenPrefix starts every refresh token, so that one is easy to
// recognise in a leak scan and never mistaken for an access token.
const RefreshTokenPrefix = "ssr_"

// refreshTokenBytes is the number of random bytes in a refresh token.
const refreshTokenBytes = 32

// refreshTokenLen is the length of a refresh token string.
var refreshTokenLen = len(RefreshTokenPrefix) + base64.RawURLEncoding.EncodedLen(refreshTokenBytes)

// NewRefreshToken returns a new opaque refresh token, RefreshTokenPrefix
// followed by 32 random bytes in unpadded base64url, and its SHA-256 hash,
// which is all the server stores. It returns EINTERNAL if the system has
// no randomness.
func NewRefreshToken() (token string, hash []byte, err error) {
	s, err := randomString(refreshTokenBytes)
	if err != nil {
		return "", nil, err
	}
	token = RefreshTokenPrefix + s
	return token, HashRefreshToken(token), nil
}

// HashRefreshToken returns the SHA-256 hash of a refresh token, the key
// under which the server stores it.
func HashRefreshToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CheckRefreshToken returns EUNAUTHORIZED ("invalid refresh token") if
// token cannot be a refresh token from NewRefreshToken, so that a caller
// can refuse garbage before looking its hash up; nil otherwise.
func CheckRefreshToken(token string) error {
	rest, ok := strings.CutPrefix(token, RefreshTokenPrefix)
	if !ok || len(token) != refreshTokenLen {
		return fmt.Errorf("%w: malformed (%d bytes)", audit.Errorf(audit.EUNAUTHORIZED, "invalid refresh token"), len(token))
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(rest); err != nil {
		return fmt.Errorf("%w: %w", audit.Errorf(audit.EUNAUTHORIZED, "invalid refresh token"), err)
	}
	return nil
}
