package auth

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
)

// phcPattern matches a PHC string with HashPassword's parameters.
var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h1, err := HashPassword("correct horse")
		require.NoError(t, err)
		assert.Regexp(t, phcPattern, h1)

		h2, err := HashPassword("correct horse")
		require.NoError(t, err)
		assert.NotEqual(t, h1, h2, "a random salt each time")

		ok, err := CheckPassword(h1, "correct horse")
		require.NoError(t, err)
		assert.True(t, ok)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, pw := range []string{"", "1234567", strings.Repeat("x", MaxPasswordLen+1)} {
			_, err := HashPassword(pw)
			assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), "%d bytes", len(pw))
		}
		for _, pw := range []string{"12345678", strings.Repeat("x", MaxPasswordLen)} {
			_, err := HashPassword(pw)
			assert.NoError(t, err, "%d bytes", len(pw))
		}
	})
}

func TestCheckPassword(t *testing.T) {
	hash, err := HashPassword("s3cret-pass")
	require.NoError(t, err)

	t.Run("OK", func(t *testing.T) {
		ok, err := CheckPassword(hash, "s3cret-pass")
		require.NoError(t, err)
		assert.True(t, ok)
	})

	t.Run("WrongPassword", func(t *testing.T) {
		for _, pw := range []string{"s3cret-pasS", "s3cret-pass ", "", strings.Repeat("x", MaxPasswordLen+1)} {
			ok, err := CheckPassword(hash, pw)
			require.NoError(t, err)
			assert.False(t, ok, "%q", pw)
		}
	})

	t.Run("ParamsParsed", func(t *testing.T) {
		// A hash made with other parameters checks with those parameters.
		p := argonParams{memory: 8 * 1024, time: 1, threads: 1, salt: []byte("0123456789abcdef")}
		p.key = p.derive("old-password", 16)
		encoded := p.String()
		assert.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$m=8192,t=1,p=1$"), encoded)

		got, err := parseArgonParams(encoded)
		require.NoError(t, err)
		assert.Equal(t, p, got)

		ok, err := CheckPassword(encoded, "old-password")
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = CheckPassword(encoded, "new-password")
		require.NoError(t, err)
		assert.False(t, ok)

		got, err = parseArgonParams(hash)
		require.NoError(t, err)
		assert.Equal(t, uint32(65536), got.memory)
		assert.Equal(t, uint32(3), got.time)
		assert.Equal(t, uint8(2), got.threads)
		assert.Len(t, got.salt, 16)
		assert.Len(t, got.key, 32)
	})

	t.Run("ErrMalformed", func(t *testing.T) {
		parts := strings.Split(hash, "$")
		salt, key := parts[4], parts[5]
		for name, encoded := range map[string]string{
			"empty":          "",
			"bcrypt":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
			"argon2i":        "$argon2i$v=19$m=65536,t=3,p=2$" + salt + "$" + key,
			"no version":     "$argon2id$m=65536,t=3,p=2$" + salt + "$" + key,
			"old version":    "$argon2id$v=16$m=65536,t=3,p=2$" + salt + "$" + key,
			"params order":   "$argon2id$v=19$t=3,m=65536,p=2$" + salt + "$" + key,
			"params junk":    "$argon2id$v=19$m=65536,t=3,p=2,x=1$" + salt + "$" + key,
			"leading zero":   "$argon2id$v=19$m=065536,t=3,p=2$" + salt + "$" + key,
			"negative":       "$argon2id$v=19$m=-1,t=3,p=2$" + salt + "$" + key,
			"zero time":      "$argon2id$v=19$m=65536,t=0,p=2$" + salt + "$" + key,
			"zero threads":   "$argon2id$v=19$m=65536,t=3,p=0$" + salt + "$" + key,
			"many threads":   "$argon2id$v=19$m=65536,t=3,p=256$" + salt + "$" + key,
			"huge memory":    "$argon2id$v=19$m=4294967295,t=3,p=2$" + salt + "$" + key,
			"huge time":      "$argon2id$v=19$m=65536,t=100000,p=2$" + salt + "$" + key,
			"tiny memory":    "$argon2id$v=19$m=8,t=3,p=2$" + salt + "$" + key,
			"padded salt":    "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "==$" + key,
			"bad salt":       "$argon2id$v=19$m=65536,t=3,p=2$!!!!$" + key,
			"short salt":     "$argon2id$v=19$m=65536,t=3,p=2$YWJj$" + key,
			"empty hash":     "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$",
			"missing field":  "$argon2id$v=19$m=65536,t=3,p=2$" + salt,
			"extra field":    hash + "$x",
			"no leading $":   strings.TrimPrefix(hash, "$"),
			"urlsafe base64": "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key) + "-_",
		} {
			ok, err := CheckPassword(encoded, "s3cret-pass")
			assert.False(t, ok, name)
			assert.ErrorIs(t, err, errMalformedHash, name)
			assert.Equal(t, audit.EINTERNAL, audit.ErrorCode(err), name)
		}
	})

	t.Run("DummyHash", func(t *testing.T) {
		assert.Regexp(t, phcPattern, DummyHash, "the same parameters, so the same cost")
		ok, err := CheckPassword(DummyHash, "s3cret-pass")
		require.NoError(t, err)
		assert.False(t, ok)
	})
}
