package webhook

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example of the Standard Webhooks specification: its secret, message
// and the signature it publishes for them.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSecret(tb testing.TB) Secret {
	tb.Helper()
	s, err := NewSecret()
	require.NoError(tb, err)
	return s
}

func TestSignMatchesTheSpecificationExample(t *testing.T) {
	s, err := ParseSecret(specSecret)
	require.NoError(t, err)
	h := http.Header{}
	require.NoError(t, Sign(h, specID, time.Unix(specTimestamp, 0), []byte(specBody), []Secret{s}))
	assert.Equal(t, specID, h.Get(HeaderID))
	assert.Equal(t, strconv.Itoa(specTimestamp), h.Get(HeaderTimestamp))
	assert.Equal(t, specSignature, h.Get(HeaderSignature))

	id, err := Verify(h, []byte(specBody), []Secret{s}, time.Unix(specTimestamp+30, 0), 0)
	require.NoError(t, err)
	assert.Equal(t, specID, id)
}

// TestSignatureAgainstPython checks both directions against an
// implementation that shares no code with this package: Python's hmac.
func TestSignatureAgainstPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is needed for the independent signature check (CI=true: not skipping)")
		}
		t.Skip("SKIPPED: python3 not found; the independent signature check did not run")
	}
	secret := mustSecret(t)
	body := []byte(`{"type":"visit.approved","store":{"code":"MSK-01","name":"Тверская"}}`)
	ts := time.Now()
	h := http.Header{}
	require.NoError(t, Sign(h, "evt_01HZX", ts, body, []Secret{mustSecret(t), secret}))

	// Python verifies our header with the secret's text form.
	script := `
import base64, hashlib, hmac, sys
secret, msg_id, ts, header = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret[len("whsec_"):])
want = base64.b64encode(hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()).decode()
ok = any(hmac.compare_digest(part.split(",", 1)[1], want) for part in header.split(" ") if part.startswith("v1,"))
print("v1," + want)
sys.exit(0 if ok else 1)
`
	cmd := exec.Command(python, "-c", script, secret.Encode(), h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature))
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.Output()
	require.NoError(t, err, "python3 refused our signature")

	// And our Verify accepts the signature Python made on its own.
	ph := http.Header{}
	ph.Set(HeaderID, h.Get(HeaderID))
	ph.Set(HeaderTimestamp, h.Get(HeaderTimestamp))
	ph.Set(HeaderSignature, strings.TrimSpace(string(out)))
	_, err = Verify(ph, body, []Secret{secret}, ts, 0)
	require.NoError(t, err)
}

func TestVerifyRefuses(t *testing.T) {
	secret := mustSecret(t)
	other := mustSecret(t)
	body := []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	signed := func(ts time.Time) http.Header {
		h := http.Header{}
		require.NoError(t, Sign(h, "msg_1", ts, body, []Secret{secret}))
		return h
	}
	sig := strings.TrimPrefix(signed(now).Get(HeaderSignature), "v1,")
	with := func(name, value string) http.Header {
		h := signed(now)
		h.Set(name, value)
		return h
	}
	without := func(name string) http.Header {
		h := signed(now)
		h.Del(name)
		return h
	}
	twice := signed(now)
	twice.Add(HeaderSignature, "v1,"+sig)
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))

	for _, tc := range []struct {
		name    string
		h       http.Header
		body    []byte
		secrets []Secret
		want    string
	}{
		{"no id", without(HeaderID), body, nil, "webhook-id"},
		{"no timestamp", without(HeaderTimestamp), body, nil, "webhook-timestamp"},
		{"no signature", without(HeaderSignature), body, nil, "webhook-signature"},
		{"two signature headers", twice, body, nil, "2 webhook-signature"},
		{"id with a dot", with(HeaderID, "msg.1"), body, nil, "message id"},
		{"empty id", with(HeaderID, ""), body, nil, "message id"},
		{"signed timestamp", with(HeaderTimestamp, "+1800000000"), body, nil, "not Unix seconds"},
		{"fractional timestamp", with(HeaderTimestamp, "1800000000.5"), body, nil, "not Unix seconds"},
		{"timestamp with a space", with(HeaderTimestamp, " 1800000000"), body, nil, "not Unix seconds"},
		{"huge timestamp", with(HeaderTimestamp, "99999999999999999999"), body, nil, "not Unix seconds"},
		{"too old", signed(now.Add(-DefaultTolerance - time.Second)), body, nil, "from now"},
		{"from the future", signed(now.Add(DefaultTolerance + time.Second)), body, nil, "from now"},
		{"changed body", signed(now), []byte(`{"a":2}`), nil, "no signature matches"},
		{"another secret", signed(now), body, []Secret{other}, "no signature matches"},
		{"no secrets", signed(now), body, []Secret{}, "no secret"},
		{"entry without a comma", with(HeaderSignature, "v1"+sig), body, nil, "not version,signature"},
		{"empty signature", with(HeaderSignature, "v1,"), body, nil, "not version,signature"},
		{"double space", with(HeaderSignature, "v1,"+sig+"  v1,"+sig), body, nil, "not version,signature"},
		{"not base64", with(HeaderSignature, "v1,!!!!"), body, nil, "not a base64 HMAC-SHA256"},
		{"too short", with(HeaderSignature, "v1,"+short), body, nil, "not a base64 HMAC-SHA256"},
		{"only another version", with(HeaderSignature, "v1a,"+sig), body, nil, "no v1 signature"},
		{"empty header", with(HeaderSignature, ""), body, nil, "empty or oversized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secrets := tc.secrets
			if secrets == nil {
				secrets = []Secret{secret}
			}
			_, err := Verify(tc.h, tc.body, secrets, now, 0)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrVerification), "%v wraps ErrVerification", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	secret := mustSecret(t)
	body := []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name      string
		ts        time.Time
		tolerance time.Duration
		sigs      func(v1 string) string
	}{
		{"on time", now, 0, func(v1 string) string { return v1 }},
		{"at the edge of the past", now.Add(-DefaultTolerance), 0, func(v1 string) string { return v1 }},
		{"at the edge of the future", now.Add(DefaultTolerance), 0, func(v1 string) string { return v1 }},
		{"a wider tolerance", now.Add(-time.Hour), 2 * time.Hour, func(v1 string) string { return v1 }},
		{"after an unknown version", now, 0, func(v1 string) string { return "v1a,abc " + v1 }},
		{"after another secret's", now, 0, func(v1 string) string {
			return "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32)) + " " + v1
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			require.NoError(t, Sign(h, "msg_ok-1", tc.ts, body, []Secret{secret}))
			h.Set(HeaderSignature, tc.sigs(h.Get(HeaderSignature)))
			id, err := Verify(h, body, []Secret{secret}, now, tc.tolerance)
			require.NoError(t, err)
			assert.Equal(t, "msg_ok-1", id)
		})
	}
}

func TestSignRefuses(t *testing.T) {
	h := http.Header{}
	assert.ErrorContains(t, Sign(h, "a b", time.Now(), nil, []Secret{mustSecret(t)}), "message id")
	assert.ErrorContains(t, Sign(h, strings.Repeat("a", maxIDLength+1), time.Now(), nil, []Secret{mustSecret(t)}), "message id")
	assert.ErrorContains(t, Sign(h, "msg", time.Now(), nil, nil), "no secret")
	assert.ErrorContains(t, Sign(h, "msg", time.Now(), nil, []Secret{{}}), "empty secret")
	assert.Empty(t, h, "nothing is set when signing is refused")
}

func TestSecret(t *testing.T) {
	a, b := mustSecret(t), mustSecret(t)
	assert.NotEqual(t, a.Encode(), b.Encode())
	assert.True(t, strings.HasPrefix(a.Encode(), "whsec_"))
	assert.Len(t, a.key, secretBytes)

	back, err := ParseSecret(a.Encode())
	require.NoError(t, err)
	assert.Equal(t, a.Encode(), back.Encode())

	// Printing a secret, on its own or inside a struct, shows no key.
	key := strings.TrimPrefix(a.Encode(), "whsec_")
	for _, text := range []string{
		fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a),
		fmt.Sprintf("%v %+v", EndpointSecret{Secret: a}, Endpoint{Secrets: []EndpointSecret{{Secret: a}}}),
	} {
		assert.NotContains(t, text, key)
		assert.NotContains(t, text, key[:8])
	}

	for _, bad := range []string{
		"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_not base64", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)),
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)),
	} {
		_, err := ParseSecret(bad)
		assert.Error(t, err, "%q", bad)
	}
	for _, n := range []int{24, 64} {
		_, err := ParseSecret("whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)))
		assert.NoError(t, err, "%d bytes", n)
	}
}

// TestRotationOverlap: after a rotation both secrets sign until the old
// one retires, so a receiver that still holds the old secret and one that
// already holds the new one both verify; afterwards only the new one does.
func TestRotationOverlap(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	old := mustSecret(t)
	secrets := []EndpointSecret{{Secret: old}}
	assert.Equal(t, []Secret{old}, Active(secrets, now))

	secrets, fresh, err := Rotate(secrets, now, 24*time.Hour)
	require.NoError(t, err)
	require.Len(t, secrets, 2)
	assert.Equal(t, now.Add(24*time.Hour), secrets[0].Retires)
	assert.True(t, secrets[1].Retires.IsZero())
	assert.Equal(t, fresh.Encode(), secrets[1].Secret.Encode())

	body := []byte(`{}`)
	verifyAt := func(at time.Time, receiver Secret) error {
		h := http.Header{}
		require.NoError(t, Sign(h, "msg_r", at, body, Active(secrets, at)))
		_, err := Verify(h, body, []Secret{receiver}, at, 0)
		return err
	}
	during := now.Add(23 * time.Hour)
	assert.Len(t, Active(secrets, during), 2)
	assert.NoError(t, verifyAt(during, old), "the old secret still verifies during the overlap")
	assert.NoError(t, verifyAt(during, fresh), "the new secret verifies at once")

	after := now.Add(24 * time.Hour)
	assert.Equal(t, []Secret{fresh}, Active(secrets, after))
	assert.ErrorIs(t, verifyAt(after, old), ErrVerification, "the old secret is retired")
	assert.NoError(t, verifyAt(after, fresh))

	// A second rotation within the overlap keeps the first retiring
	// secret until its own time; one after the overlap drops it.
	second, _, err := Rotate(secrets, during, time.Hour)
	require.NoError(t, err)
	require.Len(t, second, 3)
	assert.Equal(t, now.Add(24*time.Hour), second[0].Retires)
	assert.Equal(t, during.Add(time.Hour), second[1].Retires)
	late, _, err := Rotate(secrets, after, time.Hour)
	require.NoError(t, err)
	assert.Len(t, late, 2)

	// Without an overlap the old secret stops at once.
	cut, newest, err := Rotate([]EndpointSecret{{Secret: old}}, now, 0)
	require.NoError(t, err)
	assert.Equal(t, []Secret{newest}, Active(cut, now))
}
