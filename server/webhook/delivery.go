package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Defaults of a Sender.
const (
	DefaultAttemptTimeout = 15 * time.Second
	DefaultExcerptBytes   = 1024
)

// drainBytes is how much of an answer past the excerpt is read and
// dropped, so that the connection of an endpoint answering briefly is
// kept for the next delivery.
const drainBytes = 64 << 10

// userAgent names the sender to receivers.
const userAgent = "shopscore-webhook/1"

// Message is one event to deliver: its id (the same on every attempt, so a
// receiver removes duplicates by it) and its JSON body.
type Message struct {
	ID   string
	Body []byte
}

// Endpoint is where a message goes and the secrets that sign it.
type Endpoint struct {
	ID      string
	URL     string
	Secrets []EndpointSecret
}

// DeliveryAttempt is what one attempt did, for the endpoint's delivery
// log: when it started and how long it took, the HTTP status (0 when no
// answer came), the start of the answer's body, and why it failed.
type DeliveryAttempt struct {
	Number     int // 1 for the first attempt
	Start      time.Time
	Duration   time.Duration
	StatusCode int
	Excerpt    string // at most the Sender's ExcerptBytes, valid UTF-8
	Error      string // empty when delivered
}

// Delivered reports whether the endpoint accepted the message (a 2xx).
func (a DeliveryAttempt) Delivered() bool {
	return a.Error == "" && a.StatusCode >= 200 && a.StatusCode < 300
}

// Sender makes delivery attempts.
type Sender struct {
	// Client sends the requests; build it with Policy.Client so the
	// endpoint policy holds at connect time.
	Client *http.Client
	// Timeout bounds one attempt, answer included; DefaultAttemptTimeout
	// when zero.
	Timeout time.Duration
	// ExcerptBytes bounds the answer kept in the attempt;
	// DefaultExcerptBytes when zero.
	ExcerptBytes int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Attempt makes attempt number n to deliver msg to ep: one POST of the
// JSON body signed with the endpoint's active secrets at the attempt's
// time, under the attempt timeout. Whatever happens at the endpoint is in
// the returned attempt; the error is for a message or endpoint that can
// never be sent (a body that is not JSON, a bad id, no active secret, an
// unparsable URL), and then no request was made. A refusal of the policy
// (ErrForbidden, also when a name resolves to a refused address) is an
// attempt that failed: it shows in the delivery log and is retried, as
// the name may resolve elsewhere later.
func (s *Sender) Attempt(ctx context.Context, ep Endpoint, msg Message, n int) (DeliveryAttempt, error) {
	if s.Client == nil {
		return DeliveryAttempt{}, errors.New("webhook: a Sender without a Client")
	}
	if !json.Valid(msg.Body) {
		return DeliveryAttempt{}, fmt.Errorf("webhook: message %s: the body is not JSON", msg.ID)
	}
	start := s.now()
	req, err := http.NewRequest(http.MethodPost, ep.URL, bytes.NewReader(msg.Body))
	if err != nil {
		return DeliveryAttempt{}, fmt.Errorf("webhook: endpoint %s: %w", ep.ID, err)
	}
	if err := Sign(req.Header, msg.ID, start, msg.Body, Active(ep.Secrets, start)); err != nil {
		return DeliveryAttempt{}, fmt.Errorf("webhook: endpoint %s: %w", ep.ID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a := DeliveryAttempt{Number: n, Start: start}
	resp, err := s.Client.Do(req.WithContext(ctx))
	if err != nil {
		a.Duration = s.now().Sub(start)
		a.Error = err.Error()
		return a, nil
	}
	defer resp.Body.Close()
	a.StatusCode = resp.StatusCode
	limit := s.ExcerptBytes
	if limit <= 0 {
		limit = DefaultExcerptBytes
	}
	head, readErr := io.ReadAll(io.LimitReader(resp.Body, int64(limit)))
	// Read a little more so a short answer's connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	a.Excerpt = excerpt(head)
	a.Duration = s.now().Sub(start)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		a.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			a.Error += ": redirects are not followed"
		}
	case readErr != nil:
		a.Error = "reading the answer: " + readErr.Error()
	}
	return a, nil
}

// excerpt makes the kept start of an answer valid UTF-8 (a character cut
// at the limit becomes U+FFFD).
func excerpt(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
