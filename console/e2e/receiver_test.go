package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hookCall is one request a receiver got, when (on the server's clock)
// and the code it answered.
type hookCall struct {
	ID, Timestamp, Signature string
	Body                     []byte
	At                       time.Time
	Status                   int
}

// receiver is an integrator's webhook endpoint on loopback. It answers
// 204, or 500 while failing; POST /control/fail and /control/ok switch
// it, so that a browser journey can make it fail mid-way.
type receiver struct {
	URL string // where events go
	now func() time.Time

	mu      sync.Mutex
	failing bool
	calls   []hookCall
}

// newReceiver starts a receiver that reads the time on now, the clock of
// the server that sends to it.
func newReceiver(t *testing.T, now func() time.Time) *receiver {
	rc := &receiver{now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /control/fail", func(w http.ResponseWriter, _ *http.Request) { rc.setFailing(true) })
	mux.HandleFunc("POST /control/ok", func(w http.ResponseWriter, _ *http.Request) { rc.setFailing(false) })
	mux.HandleFunc("POST /hooks", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		c := hookCall{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			Signature: r.Header.Get("webhook-signature"), Body: body, At: rc.now(), Status: http.StatusNoContent}
		if rc.failing {
			c.Status = http.StatusInternalServerError
		}
		rc.calls = append(rc.calls, c)
		w.WriteHeader(c.Status)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/hooks"
	return rc
}

// control is the address journeys.mjs switches the receiver with.
func (rc *receiver) control() string { return strings.TrimSuffix(rc.URL, "/hooks") + "/control" }

func (rc *receiver) setFailing(f bool) {
	rc.mu.Lock()
	rc.failing = f
	rc.mu.Unlock()
}

// got returns a copy of the calls so far.
func (rc *receiver) got() []hookCall {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookCall(nil), rc.calls...)
}

// waitFor waits until cond holds of the calls, or fails the test.
func (rc *receiver) waitFor(t *testing.T, what string, cond func([]hookCall) bool) []hookCall {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		calls := rc.got()
		if cond(calls) {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver never got %s; it got %d call(s)", what, len(calls))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// byID counts the calls per webhook-id and lists the ids in the order
// they first arrived: at-least-once delivery may repeat an id, and
// receivers keep each once.
func byID(calls []hookCall) (order []string, n map[string]int) {
	n = map[string]int{}
	for _, c := range calls {
		if n[c.ID] == 0 {
			order = append(order, c.ID)
		}
		n[c.ID]++
	}
	return order, n
}

// verifySignature checks a call by the Standard Webhooks scheme, written
// here from the specification rather than with package webhook: the
// secret is base64 after "whsec_"; the signature header holds
// space-separated "v1,<base64 HMAC-SHA256 of id.timestamp.body>"; one
// match is enough. The timestamp must be within tolerance of the time the
// call arrived.
func verifySignature(secret string, c hookCall, tolerance time.Duration) error {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return fmt.Errorf("secret %q does not start with whsec_", secret)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	var ts int64
	if _, err := fmt.Sscan(c.Timestamp, &ts); err != nil {
		return fmt.Errorf("webhook-timestamp %q: %w", c.Timestamp, err)
	}
	if d := c.At.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp %s is %s from now", c.Timestamp, d)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(c.ID + "." + c.Timestamp + "."))
	mac.Write(c.Body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(c.Signature) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no v1 signature in %q matches", c.Signature)
}

// requireSigned checks every call with secret.
func requireSigned(t *testing.T, secret string, calls []hookCall) {
	t.Helper()
	for _, c := range calls {
		require.NoError(t, verifySignature(secret, c, time.Minute), "call of %s", c.ID)
	}
}
