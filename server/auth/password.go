package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/shopscore/shopscore/audit"
)

// Password length limits, in bytes.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// The Argon2id parameters of new hashes (RFC 9106's second recommended
// option with a smaller memory: 64 MiB, 3 passes, 2 lanes).
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 3
	argonThreads = 2
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters CheckPassword accepts, so that a corrupt or
// hostile hash cannot make a login cost unbounded memory or time.
const (
	maxArgonMemory = 1 << 20 // KiB, 1 GiB
	maxArgonTime   = 64
	minArgonLen    = 8
	maxArgonLen    = 256
)

// errMalformedHash is wrapped by every CheckPassword error.
var errMalformedHash = errors.New("auth: malformed password hash")

// DummyHash is a valid hash, with the parameters of HashPassword, of a
// random password nobody knows. Checking a password against it when no
// account has the given e-mail makes that login cost as much as one for a
// known account, so that response times do not reveal which e-mails exist.
// It is a literal, generated once with HashPassword from 32 random bytes
// that were then discarded, so that programs do not pay for a hash at
// start-up.
var DummyHash = "$argon2id$v=19$m=65536,t=3,p=2$E/MshuLaHsAasBDVu/jWPg$4sr7wZC/ORENevIzDiEMI1ozwaNSIJbAD3wlSQujHWo"

// HashPassword returns the Argon2id hash of password as a PHC string
// "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>", with a random 16-byte
// salt and both parts in unpadded standard base64. It returns EINVALID if
// password is shorter than MinPasswordLen or longer than MaxPasswordLen
// bytes, and EINTERNAL if the system has no randomness.
func HashPassword(password string) (string, error) {
	if n := len(password); n < MinPasswordLen || n > MaxPasswordLen {
		return "", audit.Errorf(audit.EINVALID, "password must be %d to %d bytes long", MinPasswordLen, MaxPasswordLen)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: password salt: %w", err)
	}
	p := argonParams{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	p.key = p.derive(password, argonKeyLen)
	return p.String(), nil
}

// CheckPassword reports whether password matches encoded, a hash from
// HashPassword; the parameters come from encoded itself, so hashes made
// with other parameters still check. The comparison takes constant time.
// It returns an error, EINTERNAL, only if encoded is malformed or its
// parameters are out of bounds; a wrong password is false and no error.
func CheckPassword(encoded, password string) (bool, error) {
	p, err := parseArgonParams(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil // HashPassword never accepted it
	}
	key := p.derive(password, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// argonParams is a decoded Argon2id PHC string.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// derive returns the Argon2id key of password with p's parameters.
func (p argonParams) derive(password string, keyLen uint32) []byte {
	return argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, keyLen)
}

// String returns p as a PHC string.
func (p argonParams) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(p.key))
}

// parseArgonParams decodes and bounds-checks an Argon2id PHC string.
func parseArgonParams(encoded string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, fmt.Errorf("%w: want 5 $-separated fields", errMalformedHash)
	}
	if parts[1] != "argon2id" {
		return p, fmt.Errorf("%w: algorithm %q, want argon2id", errMalformedHash, parts[1])
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || parts[2] != fmt.Sprintf("v=%d", version) {
		return p, fmt.Errorf("%w: version field %q", errMalformedHash, parts[2])
	}
	if version != argon2.Version {
		return p, fmt.Errorf("%w: version %d, want %d", errMalformedHash, version, argon2.Version)
	}
	var threads uint32
	params := parts[3]
	if _, err := fmt.Sscanf(params, "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil ||
		params != fmt.Sprintf("m=%d,t=%d,p=%d", p.memory, p.time, threads) {
		return p, fmt.Errorf("%w: parameters %q", errMalformedHash, params)
	}
	switch {
	case threads < 1 || threads > 255:
		return p, fmt.Errorf("%w: parallelism %d outside [1, 255]", errMalformedHash, threads)
	case p.time < 1 || p.time > maxArgonTime:
		return p, fmt.Errorf("%w: time %d outside [1, %d]", errMalformedHash, p.time, maxArgonTime)
	case p.memory < 8*threads || p.memory > maxArgonMemory:
		return p, fmt.Errorf("%w: memory %d KiB outside [%d, %d]", errMalformedHash, p.memory, 8*threads, maxArgonMemory)
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = decodeArgonField(parts[4]); err != nil {
		return p, fmt.Errorf("%w: salt: %v", errMalformedHash, err)
	}
	if p.key, err = decodeArgonField(parts[5]); err != nil {
		return p, fmt.Errorf("%w: hash: %v", errMalformedHash, err)
	}
	return p, nil
}

// decodeArgonField decodes a salt or hash field of a PHC string.
func decodeArgonField(s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) < minArgonLen || len(b) > maxArgonLen {
		return nil, fmt.Errorf("%d bytes, want %d to %d", len(b), minArgonLen, maxArgonLen)
	}
	return b, nil
}
