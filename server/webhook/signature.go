package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of the Standard Webhooks scheme.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix starts the text form of a secret, as the scheme writes it.
const secretPrefix = "whsec_"

// Secret sizes: NewSecret makes secretBytes; ParseSecret accepts what the
// scheme allows (24 to 64 bytes of key).
const (
	secretBytes    = 32
	minSecretBytes = 24
	maxSecretBytes = 64
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock before Verify refuses it as a replay.
const DefaultTolerance = 5 * time.Minute

// maxIDLength bounds a message id; ids are short opaque tokens.
const maxIDLength = 256

// ErrVerification is wrapped by every error Verify returns.
var ErrVerification = errors.New("webhook: signature not verified")

// Secret is an endpoint's HMAC key. Its String and GoString methods never
// show the key, so a secret printed into a log shows nothing; Encode gives
// the text form that is shown to the admin once and kept by storage.
type Secret struct {
	key []byte
}

// NewSecret makes a secret from crypto/rand.
func NewSecret() (Secret, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return Secret{}, fmt.Errorf("webhook: new secret: %w", err)
	}
	return Secret{key: key}, nil
}

// ParseSecret reads the text form `whsec_<base64 key>` that Encode writes
// (and that other Standard Webhooks senders give their receivers). It
// refuses another prefix, bad base64 and a key shorter than 24 or longer
// than 64 bytes.
func ParseSecret(text string) (Secret, error) {
	b64, ok := strings.CutPrefix(text, secretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf("webhook: a secret starts with %q", secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return Secret{}, fmt.Errorf("webhook: a secret is base64 after %q: %w", secretPrefix, err)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return Secret{}, fmt.Errorf("webhook: a secret holds %d to %d bytes, not %d", minSecretBytes, maxSecretBytes, len(key))
	}
	return Secret{key: key}, nil
}

// Encode returns the secret's text form, `whsec_` and the key in base64.
func (s Secret) Encode() string {
	return secretPrefix + base64.StdEncoding.EncodeToString(s.key)
}

// String hides the key.
func (s Secret) String() string { return secretPrefix + "…" }

// GoString hides the key from %#v.
func (s Secret) GoString() string { return "webhook.Secret{…}" }

// IsZero reports whether the secret holds no key.
func (s Secret) IsZero() bool { return len(s.key) == 0 }

// sign returns the raw HMAC-SHA256 of "id.timestamp.body" under the secret.
func (s Secret) sign(id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign sets the three Standard Webhooks headers on h for a message with
// this id and body sent at ts: one `v1,<signature>` per secret, separated
// by spaces, so that a receiver holding either the old or the new secret
// of a rotation accepts it. It refuses an id Verify would refuse and an
// empty list of secrets.
func Sign(h http.Header, id string, ts time.Time, body []byte, secrets []Secret) error {
	if err := checkID(id); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return errors.New("webhook: no secret to sign with")
	}
	unix := ts.Unix()
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if s.IsZero() {
			return errors.New("webhook: an empty secret")
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(s.sign(id, unix, body)))
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(unix, 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return nil
}

// checkID keeps ids to letters, digits, '_' and '-', so that the signed
// text "id.timestamp.body" splits only one way and a header holds nothing
// a proxy might rewrite.
func checkID(id string) error {
	if id == "" || len(id) > maxIDLength {
		return fmt.Errorf("webhook: a message id holds 1 to %d characters", maxIDLength)
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return fmt.Errorf("webhook: a message id holds only letters, digits, '_' and '-', not %q", c)
		}
	}
	return nil
}

// Verify checks a delivery as a receiver does: the headers are present
// and well formed, the timestamp is within tolerance of now (either way;
// DefaultTolerance when tolerance is zero), and at least one `v1`
// signature matches the body under one of the secrets, compared in
// constant time. Signatures of other versions are skipped, as the scheme
// says. It returns the message id, by which a receiver removes the
// duplicates that at-least-once delivery brings. Every error wraps
// ErrVerification.
func Verify(h http.Header, body []byte, secrets []Secret, now time.Time, tolerance time.Duration) (id string, err error) {
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: "+format, append([]any{ErrVerification}, args...)...)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if len(secrets) == 0 {
		return fail("no secret to verify with")
	}
	for _, name := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
		if n := len(h.Values(name)); n != 1 {
			return fail("%d %s headers, want one", n, name)
		}
	}
	id = h.Get(HeaderID)
	if err := checkID(id); err != nil {
		return fail("%v", err)
	}
	tsText := h.Get(HeaderTimestamp)
	ts, err := parseTimestamp(tsText)
	if err != nil {
		return fail("%v", err)
	}
	sent := time.Unix(ts, 0)
	if d := now.Sub(sent); d > tolerance || d < -tolerance {
		return fail("timestamp %s is %s from now, more than %s", tsText, d.Round(time.Second), tolerance)
	}
	sigText := h.Get(HeaderSignature)
	if sigText == "" || len(sigText) > 64*1024 {
		return fail("empty or oversized %s", HeaderSignature)
	}
	// The whole header is read before any comparison, so a malformed
	// entry is refused wherever it stands.
	var v1 [][]byte
	for _, entry := range strings.Split(sigText, " ") {
		version, b64, ok := strings.Cut(entry, ",")
		if !ok || version == "" || b64 == "" {
			return fail("signature %q is not version,signature", entry)
		}
		if version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(got) != sha256.Size {
			return fail("signature %q is not a base64 HMAC-SHA256", entry)
		}
		v1 = append(v1, got)
	}
	if len(v1) == 0 {
		return fail("no v1 signature")
	}
	for _, s := range secrets {
		if s.IsZero() {
			continue
		}
		want := s.sign(id, ts, body)
		for _, got := range v1 {
			if hmac.Equal(got, want) {
				return id, nil
			}
		}
	}
	return fail("no signature matches")
}

// parseTimestamp reads Unix seconds written in decimal digits only (no
// sign, no spaces, no exponent).
func parseTimestamp(text string) (int64, error) {
	if text == "" || len(text) > 12 {
		return 0, fmt.Errorf("timestamp %q is not Unix seconds", text)
	}
	for _, c := range []byte(text) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("timestamp %q is not Unix seconds", text)
		}
	}
	return strconv.ParseInt(text, 10, 64)
}

// EndpointSecret is one of an endpoint's secrets: the current one has a
// zero Retires; a rotated one keeps signing until Retires, so receivers
// have that long to change to the new secret.
type EndpointSecret struct {
	Secret  Secret
	Retires time.Time
}

// Active returns the secrets that sign a message sent at now: the current
// one and those rotated out less than their overlap ago.
func Active(secrets []EndpointSecret, now time.Time) []Secret {
	var active []Secret
	for _, s := range secrets {
		if s.Retires.IsZero() || now.Before(s.Retires) {
			active = append(active, s.Secret)
		}
	}
	return active
}

// Rotate makes a new current secret at now: the secrets still current
// retire at now+overlap, those already retired are dropped, and the new
// secret is returned on its own as well, to be shown to the admin once.
func Rotate(secrets []EndpointSecret, now time.Time, overlap time.Duration) ([]EndpointSecret, Secret, error) {
	fresh, err := NewSecret()
	if err != nil {
		return nil, Secret{}, err
	}
	next := make([]EndpointSecret, 0, len(secrets)+1)
	for _, s := range secrets {
		switch {
		case s.Retires.IsZero():
			if overlap > 0 {
				next = append(next, EndpointSecret{Secret: s.Secret, Retires: now.Add(overlap)})
			}
		case now.Before(s.Retires):
			next = append(next, s)
		}
	}
	return append(next, EndpointSecret{Secret: fresh}), fresh, nil
}
