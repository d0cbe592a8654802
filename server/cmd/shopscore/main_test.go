package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveOnce runs `shopscore serve --demo` on the data folder until it
// listens, stops it, and returns what it printed on stdout.
func serveOnce(t *testing.T, dir, password string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--data", dir, "--addr", "127.0.0.1:0"}, &stdout, &stderr,
			func(k string) string {
				if k == "SHOPSCORE_DEMO_PASSWORD" {
					return password
				}
				return ""
			})
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "shopscore listening") {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, stderr.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "serve did not listen: %s", stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	return stdout.String()
}

// TestServe_DemoAgain: a second `make run` says which password is in
// force and how to start over, instead of silently keeping the first.
func TestServe_DemoAgain(t *testing.T) {
	dir := t.TempDir()
	out := serveOnce(t, dir, "first-password")
	require.Contains(t, out, "Seeded demo data. Users (password first-password)")

	out = serveOnce(t, dir, "second-password")
	require.Contains(t, out, "already has users; demo data not seeded again")
	require.Contains(t, out, "The demo users keep the password they were first seeded with: SHOPSCORE_DEMO_PASSWORD is not it")
	require.Contains(t, out, "delete "+dir+" (`make reset`) and start it again")

	out = serveOnce(t, dir, "first-password")
	require.Contains(t, out, "The demo users' password is SHOPSCORE_DEMO_PASSWORD, as when they were seeded.")
	out = serveOnce(t, dir, "")
	require.Contains(t, out, "SHOPSCORE_DEMO_PASSWORD was not set")
}
