package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

func TestNewRefreshToken(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		token, hash, err := NewRefreshToken()
		require.NoError(t, err)
		rest, ok := strings.CutPrefix(token, "ssr_")
		require.True(t, ok, token)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
		require.NoError(t, err)
		assert.Len(t, raw, 32)
		assert.Len(t, token, 4+43)

		want := sha256.Sum256([]byte(token))
		assert.Equal(t, want[:], hash)
		assert.Equal(t, hash, HashRefreshToken(token))
		assert.NoError(t, CheckRefreshToken(token))
	})

	t.Run("Unique", func(t *testing.T) {
		seen := make(map[string]bool)
		for range 100 {
			token, _, err := NewRefreshToken()
			require.NoError(t, err)
			require.False(t, seen[token])
			seen[token] = true
		}
	})
}

func TestHashRefreshToken(t *testing.T) {
	a, b := HashRefreshToken("ssr_a"), HashRefreshToken("ssr_b")
	assert.Len(t, a, sha256.Size)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a, HashRefreshToken("ssr_a"))
}

func TestCheckRefreshToken(t *testing.T) {
	token, _, err := NewRefreshToken()
	require.NoError(t, err)
	body := strings.TrimPrefix(token, RefreshTokenPrefix)
	for name, s := range map[string]string{
		"empty":        "",
		"no prefix":    body,
		"other prefix": "ssx_" + body,
		"short":        token[:len(token)-1],
		"long":         token + "A",
		"bad base64":   RefreshTokenPrefix + "!" + body[1:],
		"padded":       RefreshTokenPrefix + body[:len(body)-1] + "=",
		"access token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln",
	} {
		err := CheckRefreshToken(s)
		assert.Equal(t, audit.EUNAUTHORIZED, audit.ErrorCode(err), name)
		assert.Equal(t, "invalid refresh token", audit.ErrorMessage(err), name)
	}
}
