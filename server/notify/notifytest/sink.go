// Package notifytest runs a real SMTP server for the tests that send
// e-mail: aiosmtpd (Debian's python3-aiosmtpd) with the handler in
// server/notify/testdata/smtpsink.py, which keeps each accepted message
// as files the test reads back (Sink.Messages) and refuses the
// recipients it is told to, for ever or a number of times.
package notifytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Python returns a python3 that can import aiosmtpd. Without one the
// test is skipped, or fails when CI=true.
func Python(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(name)
		if err == nil && exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("python3-aiosmtpd is needed for the SMTP tests (CI=true: not skipping); install it with apt-get install -y python3-aiosmtpd")
	}
	t.Skip("SKIPPED: no python3 with aiosmtpd (apt-get install -y python3-aiosmtpd); the SMTP tests did not run")
	return ""
}

// FreePort returns a loopback port nothing listens on (now).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// Options says how to run the sink. The zero value: clear text on a
// free port, refusing nobody.
type Options struct {
	Port int // 0: FreePort
	// StartTLS offers and requires STARTTLS; SMTPS speaks TLS from the
	// first byte; both with CertFile and KeyFile.
	StartTLS, SMTPS   bool
	CertFile, KeyFile string
	// Rules refuse recipients: "ADDRESS=REPLY" answers RCPT TO that
	// address REPLY ("gone@example.com=550 5.1.1 No such mailbox");
	// "ADDRESS=N*REPLY" does so the first N times only.
	Rules []string
}

// Sink is a running aiosmtpd.
type Sink struct {
	Dir  string
	Port int
}

// lockedBuffer collects the server's output for a failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// testdata is server/notify/testdata, wherever the test runs from.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// Start runs aiosmtpd on loopback until the test ends.
func Start(t testing.TB, o Options) *Sink {
	t.Helper()
	python := Python(t)
	s := &Sink{Dir: t.TempDir(), Port: o.Port}
	if s.Port == 0 {
		s.Port = FreePort(t)
	}
	args := []string{"-m", "aiosmtpd", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", s.Port)}
	switch {
	case o.StartTLS:
		args = append(args, "--tlscert", o.CertFile, "--tlskey", o.KeyFile)
	case o.SMTPS:
		args = append(args, "--smtpscert", o.CertFile, "--smtpskey", o.KeyFile)
	}
	args = append(args, "-c", "smtpsink.Sink", s.Dir)
	args = append(args, o.Rules...)
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+testdata(), "PYTHONDONTWRITEBYTECODE=1")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
		if err == nil {
			_ = c.Close()
			return s
		}
		select {
		case <-exited:
			t.Fatalf("aiosmtpd exited before listening: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("aiosmtpd did not listen on port %d within 20 s: %s", s.Port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Message is one message the sink accepted.
type Message struct {
	Header   mail.Header
	Subject  string // decoded
	Text     string
	HTML     string
	TextType string
	HTMLType string
	Envelope struct {
		MailFrom string   `json:"mail_from"`
		RcptTos  []string `json:"rcpt_tos"`
		TLS      bool     `json:"tls"`
	}
}

// Messages reads back what the sink accepted, in order. The sink answers
// DATA only after it has written the files, so a Send that returned nil
// has its message here.
func (s *Sink) Messages(t testing.TB) []Message {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	require.NoError(t, err)
	sort.Slice(names, func(i, j int) bool { return seqOf(names[i]) < seqOf(names[j]) })
	var out []Message
	for _, name := range names {
		out = append(out, readMessage(t, name))
	}
	return out
}

// seqOf is the number of a message file (<n>.eml).
func seqOf(name string) int {
	var n int
	_, _ = fmt.Sscanf(filepath.Base(name), "%d.eml", &n)
	return n
}

// WaitFor waits until the sink holds n messages, or fails the test, and
// returns them.
func (s *Sink) WaitFor(t testing.TB, n int, within time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := s.Messages(t)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SMTP server got %d messages in %v, want %d", len(got), within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readMessage(t testing.TB, name string) Message {
	t.Helper()
	raw, err := os.ReadFile(name)
	require.NoError(t, err)
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err, "%s is not a message", name)
	r := Message{Header: m.Header}
	r.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	env, err := os.ReadFile(strings.TrimSuffix(name, ".eml") + ".json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(env, &r.Envelope))
	media, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	if media == "text/plain" { // a message without an HTML part
		b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
		require.NoError(t, err)
		// the line end before the end of the message is the message's
		r.Text = strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		r.TextType = m.Header.Get("Content-Type")
		return r
	}
	require.Equal(t, "multipart/alternative", media, "the message's type")
	parts := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := parts.NextPart() // undoes quoted-printable itself
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			body = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		ct := p.Header.Get("Content-Type")
		switch media, _, _ := mime.ParseMediaType(ct); media {
		case "text/plain":
			r.Text, r.TextType = text, ct
		case "text/html":
			r.HTML, r.HTMLType = text, ct
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
	return r
}
