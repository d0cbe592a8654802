package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttemptSignsAndRecords(t *testing.T) {
	secret := mustSecret(t)
	body := []byte(`{"type":"visit.returned","visit":{"id":"v1"},"store":{"code":"SPB-7","name":"Невский"}}`)
	var got http.Header
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		gotBody, _ = io.ReadAll(r.Body)
		assert.Equal(t, http.MethodPost, r.Method)
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, strings.Repeat("é", 3000)) // 6000 bytes, two per character
	}))
	defer srv.Close()

	s := &Sender{Client: dev.Client(nil), ExcerptBytes: 101}
	ep := Endpoint{ID: "ep1", URL: srv.URL + "/hook", Secrets: []EndpointSecret{{Secret: secret}}}
	a, err := s.Attempt(context.Background(), ep, Message{ID: "evt_1", Body: body}, 3)
	require.NoError(t, err)

	assert.Equal(t, 3, a.Number)
	assert.Equal(t, http.StatusInternalServerError, a.StatusCode)
	assert.Equal(t, "HTTP 500", a.Error)
	assert.False(t, a.Delivered())
	assert.LessOrEqual(t, len(a.Excerpt), 101+len("\uFFFD"))
	assert.True(t, utf8.ValidString(a.Excerpt))
	assert.True(t, strings.HasPrefix(a.Excerpt, strings.Repeat("é", 50)))
	assert.Positive(t, a.Duration)
	assert.WithinDuration(t, time.Now(), a.Start, time.Minute)

	assert.Equal(t, body, gotBody)
	assert.Equal(t, "application/json", got.Get("Content-Type"))
	id, err := Verify(got, gotBody, []Secret{secret}, time.Now(), 0)
	require.NoError(t, err)
	assert.Equal(t, "evt_1", id)
	assert.Equal(t, a.Start.Unix(), mustUnix(t, got.Get(HeaderTimestamp)), "signed at the attempt's start")
}

func mustUnix(t *testing.T, s string) int64 {
	t.Helper()
	ts, err := parseTimestamp(s)
	require.NoError(t, err)
	return ts
}

func TestAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	s := &Sender{Client: dev.Client(nil), Timeout: 100 * time.Millisecond}
	ep := Endpoint{ID: "slow", URL: srv.URL, Secrets: []EndpointSecret{{Secret: mustSecret(t)}}}
	start := time.Now()
	a, err := s.Attempt(context.Background(), ep, Message{ID: "evt_t", Body: []byte(`{}`)}, 1)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Zero(t, a.StatusCode)
	assert.Contains(t, a.Error, "deadline exceeded")
	assert.False(t, a.Delivered())
}

func TestAttemptUnsendable(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	s := &Sender{Client: dev.Client(nil)}
	now := time.Now()
	secrets := []EndpointSecret{{Secret: mustSecret(t)}}
	for _, tc := range []struct {
		name string
		ep   Endpoint
		msg  Message
		want string
	}{
		{"not JSON", Endpoint{URL: srv.URL, Secrets: secrets}, Message{ID: "m", Body: []byte(`{"a":`)}, "not JSON"},
		{"bad id", Endpoint{URL: srv.URL, Secrets: secrets}, Message{ID: "m 1", Body: []byte(`{}`)}, "message id"},
		{"no active secret", Endpoint{URL: srv.URL, Secrets: []EndpointSecret{{Secret: mustSecret(t), Retires: now.Add(-time.Second)}}}, Message{ID: "m", Body: []byte(`{}`)}, "no secret"},
		{"bad URL", Endpoint{URL: "http://[::1", Secrets: secrets}, Message{ID: "m", Body: []byte(`{}`)}, "endpoint"},
	} {
		_, err := s.Attempt(context.Background(), tc.ep, tc.msg, 1)
		assert.ErrorContains(t, err, tc.want, tc.name)
	}
	assert.Zero(t, hits.Load(), "nothing was sent")

	// A URL the policy refuses is an attempt that failed, sent nowhere.
	strictSender := &Sender{Client: strict.Client(nil)}
	a, err := strictSender.Attempt(context.Background(), Endpoint{URL: srv.URL, Secrets: secrets}, Message{ID: "m", Body: []byte(`{}`)}, 1)
	require.NoError(t, err)
	assert.Contains(t, a.Error, "not allowed")
	assert.False(t, a.Delivered())
	assert.Zero(t, hits.Load())
}
