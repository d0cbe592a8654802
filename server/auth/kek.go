package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/shopscore/shopscore/audit"
)

// KEKLen is the length of a key-encryption key: AES-256.
const KEKLen = 32

// KEKFileName names the key-encryption key a server makes in its data
// folder when it is given none (SQLite's single server), which
// `shopscore migrate-to` reads by default.
const KEKFileName = "key-encryption.key"

// KEK is the key-encryption key: the one secret every server of an
// installation shares (SHOPSCORE_KEY_ENCRYPTION_KEY or a file), under
// which the private signing keys are sealed in the database (AES-256-GCM,
// the key's id and purpose as associated data), and from which the other
// shared secrets are derived (Derive: HKDF-SHA256 with a label). It never
// prints its bytes.
type KEK struct {
	raw  [KEKLen]byte
	aead cipher.AEAD
}

// NewKEK returns the key-encryption key of b, which must be KEKLen
// bytes. Errors: EINVALID.
func NewKEK(b []byte) (*KEK, error) {
	if len(b) != KEKLen {
		return nil, audit.Errorf(audit.EINVALID, "a key-encryption key is %d bytes, not %d", KEKLen, len(b))
	}
	k := &KEK{}
	copy(k.raw[:], b)
	block, err := aes.NewCipher(k.raw[:])
	if err != nil {
		return nil, fmt.Errorf("auth: key-encryption key: %w", err)
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("auth: key-encryption key: %w", err)
	}
	return k, nil
}

// GenerateKEK returns a new random key-encryption key.
func GenerateKEK() *KEK {
	b := make([]byte, KEKLen)
	rand.Read(b) // never fails (crypto/rand)
	k, err := NewKEK(b)
	if err != nil {
		panic(err) // KEKLen bytes always make a key
	}
	return k
}

// ParseKEK returns the key-encryption key written as text: standard
// base64 (padded or not) of KEKLen bytes, surrounding spaces ignored, as
// `openssl rand -base64 32` prints one. Errors: EINVALID, which never
// repeats the text.
func ParseKEK(s string) (*KEK, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, audit.Errorf(audit.EINVALID, "a key-encryption key is the base64 of %d random bytes (openssl rand -base64 32); this is not base64", KEKLen)
	}
	if len(b) != KEKLen {
		return nil, audit.Errorf(audit.EINVALID, "a key-encryption key is the base64 of %d random bytes (openssl rand -base64 32); this is %d bytes", KEKLen, len(b))
	}
	return NewKEK(b)
}

// Text returns the key as ParseKEK reads it (base64), for writing it to
// a file or a secret store.
func (k *KEK) Text() string { return base64.StdEncoding.EncodeToString(k.raw[:]) }

// String hides the key.
func (k *KEK) String() string { return "KEK(redacted)" }

// GoString hides the key.
func (k *KEK) GoString() string { return "auth.KEK(redacted)" }

// ReadKEKFile reads the key-encryption key in path (its base64 text, as
// ParseKEK), refusing a file other users may access. The errors name the
// file, never its content.
func ReadKEKFile(path string) (*KEK, error) {
	b, err := ReadPrivateFile(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file: %w", err)
	}
	k, err := ParseKEK(string(b))
	if err != nil {
		return nil, fmt.Errorf("key-encryption key file %s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateKEKFile reads the key-encryption key in path, or, when
// there is no file, makes a new one there (mode 0600, in a folder of
// mode 0700 if it must create one) and reports that it did. The file
// appears whole or not at all, so two processes starting at once agree
// on one key. This is the single-server default (the data folder); with
// several servers the key comes from the environment or a shared file.
func LoadOrCreateKEKFile(path string) (k *KEK, created bool, err error) {
	k, err = ReadKEKFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("key-encryption key: create folder: %w", err)
	}
	k = GenerateKEK()
	f, err := os.CreateTemp(dir, tempFilePrefix+"kek-*")
	if err != nil {
		return nil, false, fmt.Errorf("key-encryption key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(k.Text() + "\n")
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// A hard link fails when the file exists: the first process to
		// get there wins and the others read its key.
		err = os.Link(tmp, path)
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		k, err = ReadKEKFile(path)
		return k, false, err
	case err != nil:
		return nil, false, fmt.Errorf("key-encryption key: write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, false, fmt.Errorf("key-encryption key: %w", err)
	}
	return k, true, nil
}

// Derive returns n bytes derived from the key for the use label
// (HKDF-SHA256, no salt, the label as info): a shared secret every server
// computes alike, without storing it anywhere, and independent of every
// other label's.
func (k *KEK) Derive(label string, n int) []byte {
	b, err := hkdf.Key(sha256.New, k.raw[:], nil, "shopscore "+label, n)
	if err != nil {
		panic(fmt.Sprintf("auth: derive %d bytes: %v", n, err)) // n is the caller's constant
	}
	return b
}

// sealVersion starts every sealed value: the format (AES-256-GCM, a
// random 96-bit nonce after the version byte).
const sealVersion = 1

// sealAAD is the associated data of a sealed signing key: its purpose
// and kid, so that sealed bytes moved to another row do not open.
func sealAAD(purpose, kid string) []byte {
	return []byte("shopscore signing key\x00" + purpose + "\x00" + kid)
}

// seal encrypts plain for the key kid of purpose.
func (k *KEK) seal(purpose, kid string, plain []byte) []byte {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return k.aead.Seal(out, out[1:], plain, sealAAD(purpose, kid))
}

// open decrypts what seal made for the key kid of purpose. It fails, and
// says which key, when the bytes were sealed under another
// key-encryption key, for another key or purpose, or were changed.
func (k *KEK) open(purpose, kid string, sealed []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("auth: signing key %s: sealed in an unknown format", kid)
	}
	plain, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealAAD(purpose, kid))
	if err != nil {
		return nil, fmt.Errorf("auth: signing key %s does not open with this key-encryption key: it was sealed under another one "+
			"(check SHOPSCORE_KEY_ENCRYPTION_KEY or --key-encryption-key-file: every server must have the same) or the stored bytes were changed", kid)
	}
	return plain, nil
}
