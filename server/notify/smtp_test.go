package notify

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/server/notify/notifytest"
)

// The tests in this file send through a real SMTP server on loopback:
// aiosmtpd (Debian's python3-aiosmtpd) with the handler in
// testdata/smtpsink.py, which keeps what it accepts as files the test reads
// back and refuses the recipients it is told to.

type sinkMode int

const (
	sinkPlain    sinkMode = iota
	sinkStartTLS          // offers and requires STARTTLS
	sinkSMTPS             // implicit TLS
)

// startSink starts aiosmtpd (notifytest) on a free loopback port; rules
// are "address=reply" refusals. For the TLS modes it serves tls.
func startSink(t *testing.T, mode sinkMode, tls *testCert, rules ...string) *notifytest.Sink {
	t.Helper()
	o := notifytest.Options{Rules: rules, StartTLS: mode == sinkStartTLS, SMTPS: mode == sinkSMTPS}
	if tls != nil {
		o.CertFile, o.KeyFile = tls.certFile, tls.keyFile
	}
	return notifytest.Start(t, o)
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	require.NoError(t, err)
	return s
}

func mailerFor(t *testing.T, c Config) *Mailer {
	t.Helper()
	m, err := NewMailer(c)
	require.NoError(t, err)
	return m
}

func plainConfig(port int) Config {
	return Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "shopscore <noreply@shopscore.test>", Timeout: 10 * time.Second}
}

func sampleAction() ActionAssigned {
	msk, _ := time.LoadLocation("Europe/Moscow")
	return ActionAssigned{
		Action: Action{
			ActionID: "act-1", Store: Store{Code: "M-014", Name: "Тверская <b>&"},
			Question: "Ценники стоят на всех товарах?", Clause: "SB-4.2", Critical: true,
			VisitID: "visit-1", VisitedAt: time.Date(2026, 3, 5, 11, 30, 0, 0, time.UTC),
			Staff: []Staff{{Name: "Иванова Анна", EmployeeNumber: "0042"}},
			Due:   time.Date(2026, 3, 12, 0, 0, 0, 0, msk),
		},
		OwnerName: "Олег Петров", AssignedBy: "Мария Соколова",
	}
}

func TestSendDeliversBothPartsInRussian(t *testing.T) {
	s := startSink(t, sinkPlain, nil)
	msk, err := time.LoadLocation("Europe/Moscow")
	require.NoError(t, err)
	content, err := sampleAction().Render(Reader{Locale: "ru-RU", TimeZone: msk, ConsoleURL: "https://audit.example.com"})
	require.NoError(t, err)

	to := Address{Name: "Олег Петров", Email: "oleg@example.com"}
	require.NoError(t, mailerFor(t, plainConfig(s.Port)).Send(context.Background(), to, content))

	got := s.Messages(t)
	require.Len(t, got, 1)
	m := got[0]
	assert.Equal(t, "noreply@shopscore.test", m.Envelope.MailFrom)
	assert.Equal(t, []string{"oleg@example.com"}, m.Envelope.RcptTos)
	assert.False(t, m.Envelope.TLS)

	from, err := mail.ParseAddress(m.Header.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, mail.Address{Name: "shopscore", Address: "noreply@shopscore.test"}, *from)
	rcpt, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(m.Header.Get("To"))
	require.NoError(t, err)
	assert.Equal(t, mail.Address{Name: "Олег Петров", Address: "oleg@example.com"}, *rcpt)
	subject := decodeHeader(t, m.Header.Get("Subject"))
	assert.Equal(t, "Вам назначено корректирующее действие: M-014 «Тверская <b>&», SB-4.2", subject)
	assert.Equal(t, content.Subject, subject)
	date, err := m.Header.Date()
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), date, time.Minute)
	assert.Regexp(t, `^<[^<>@\s]+@[^<>@\s]+>$`, m.Header.Get("Message-ID"))
	assert.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))
	assert.Equal(t, "1.0", m.Header.Get("MIME-Version"))

	assert.Contains(t, strings.ToLower(m.TextType), "charset=utf-8")
	assert.Contains(t, strings.ToLower(m.HTMLType), "charset=utf-8")
	assert.Equal(t, content.Text, m.Text, "the plain part arrives as rendered")
	for _, want := range []string{
		"Здравствуйте, Олег Петров!", "Мария Соколова назначает вам корректирующее действие.",
		"Магазин: M-014 «Тверская <b>&»", "Вопрос: Ценники стоят на всех товарах?",
		"Пункт стандарта: SB-4.2 (критический)", "Визит: 05.03.2026 14:30 MSK",
		"Сотрудники: Иванова Анна (таб. № 0042)", "Срок: 12.03.2026",
		"https://audit.example.com/visits/visit-1",
	} {
		assert.Contains(t, m.Text, want)
	}
	assert.Equal(t, content.HTML, m.HTML, "the HTML part arrives as rendered")
	assert.Contains(t, m.HTML, `<html lang="ru">`)
	assert.Contains(t, m.HTML, "M-014 «Тверская &lt;b&gt;&amp;»")
	assert.NotContains(t, m.HTML, "<b>&")
	assert.Contains(t, m.HTML, `<a href="https://audit.example.com/visits/visit-1">`)
}

func TestSendKeepsUserTextOutOfHeaders(t *testing.T) {
	s := startSink(t, sinkPlain, nil)
	m := mailerFor(t, plainConfig(s.Port))
	evil := "Отчёт\r\nBcc: evil@example.com\r\n\r\n<script>"
	err := m.Send(context.Background(), Address{Name: "Олег\r\nBcc: evil@example.com", Email: "oleg@example.com"},
		Content{Subject: evil, Text: "текст\r\nBcc: still body\r\n", HTML: "<p>x</p>"})
	require.NoError(t, err)

	got := s.Messages(t)
	require.Len(t, got, 1)
	h := got[0].Header
	assert.Equal(t, []string{"oleg@example.com"}, got[0].Envelope.RcptTos, "no recipient was added")
	assert.Empty(t, h.Get("Bcc"))
	assert.Equal(t, "Отчёт Bcc: evil@example.com <script>", decodeHeader(t, h.Get("Subject")))
	rcpt, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(h.Get("To"))
	require.NoError(t, err)
	assert.Equal(t, mail.Address{Name: "Олег Bcc: evil@example.com", Address: "oleg@example.com"}, *rcpt)
	assert.Contains(t, got[0].Text, "Bcc: still body", "the body keeps its lines")

	for _, bad := range []string{"oleg@example.com\r\nRCPT TO:<evil@example.com>", "Oleg <oleg@example.com>", "oleg", "a@b.c, d@e.f", ""} {
		err := m.Send(context.Background(), Address{Email: bad}, Content{Subject: "s", Text: "t"})
		var se *SendError
		require.ErrorAs(t, err, &se, "%q", bad)
		assert.Equal(t, StageMessage, se.Stage, "%q", bad)
		assert.False(t, se.Transient, "a bad address is permanent: %q", bad)
	}
	assert.Len(t, s.Messages(t), 1, "nothing else was sent")
}

func TestSendTellsPermanentFromTransientRefusals(t *testing.T) {
	s := startSink(t, sinkPlain, nil,
		"gone@example.com=550 5.1.1 No such mailbox here",
		"busy@example.com=451 4.3.0 Mailbox busy, try later")
	m := mailerFor(t, plainConfig(s.Port))
	msg := Content{Subject: "Проверка", Text: "Текст"}

	err := m.Send(context.Background(), Address{Email: "gone@example.com"}, msg)
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StageSend, se.Stage)
	assert.False(t, se.Transient, "5xx is permanent: %v", err)
	assert.False(t, IsTransient(err))
	assert.Equal(t, 550, se.Code)
	assert.Equal(t, "5.1.1", se.Enhanced)
	assert.Contains(t, err.Error(), "permanent")

	err = m.Send(context.Background(), Address{Email: "busy@example.com"}, msg)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StageSend, se.Stage)
	assert.True(t, se.Transient, "4xx is transient: %v", err)
	assert.True(t, IsTransient(err))
	assert.Equal(t, 451, se.Code)
	assert.Equal(t, "4.3.0", se.Enhanced)

	require.NoError(t, m.Send(context.Background(), Address{Email: "ok@example.com"}, msg))
	got := s.Messages(t)
	require.Len(t, got, 1, "only the accepted recipient got a message")
	assert.Equal(t, []string{"ok@example.com"}, got[0].Envelope.RcptTos)
	assert.Equal(t, "Текст", got[0].Text)
	assert.Equal(t, "quoted-printable", got[0].Header.Get("Content-Transfer-Encoding"))
}

func TestSendRefusedConnectionIsTransient(t *testing.T) {
	m := mailerFor(t, plainConfig(notifytest.FreePort(t))) // nothing listens there
	err := m.Send(context.Background(), Address{Email: "oleg@example.com"}, Content{Subject: "s", Text: "t"})
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StageConnect, se.Stage)
	assert.True(t, se.Transient, "%v", err)
	assert.Zero(t, se.Code)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// stallingServer accepts connections and, when greet is set, greets and
// then never answers; it closes them when the test ends.
func stallingServer(t *testing.T, greet bool) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if greet {
				_, _ = c.Write([]byte("220 slow.test ESMTP\r\n"))
			}
			go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(c)) }()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestSendTimeoutIsTransient(t *testing.T) {
	c := plainConfig(stallingServer(t, false))
	c.Timeout = 300 * time.Millisecond
	start := time.Now()
	err := mailerFor(t, c).Send(context.Background(), Address{Email: "oleg@example.com"}, Content{Subject: "s", Text: "t"})
	elapsed := time.Since(start)
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Transient, "%v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, elapsed, 5*time.Second, "the timeout bounds the message")
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	c := plainConfig(stallingServer(t, true)) // greets, then never answers EHLO
	c.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := mailerFor(t, c).Send(ctx, Address{Email: "oleg@example.com"}, Content{Subject: "s", Text: "t"})
	var se *SendError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Transient, "%v", err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 10*time.Second, "cancelling reaches a connection already open")
}

// testCert is a self-signed certificate for 127.0.0.1 and the pool that
// trusts it.
type testCert struct {
	certFile, keyFile string
	pool              *x509.CertPool
}

func newTestCert(t *testing.T) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shopscore test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	tc := &testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	require.NoError(t, os.WriteFile(tc.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(tc.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	tc.pool.AddCert(cert)
	return tc
}

func TestSendOverTLS(t *testing.T) {
	cert := newTestCert(t)
	msg := Content{Subject: "Расчёт премий", Text: "Итого: 1 234,56 ₽", HTML: "<p>Итого</p>"}
	to := Address{Email: "hr@example.com"}
	for _, tc := range []struct {
		name string
		sink sinkMode
		mode TLSMode
	}{
		{"starttls", sinkStartTLS, TLSStartTLS},
		{"implicit", sinkSMTPS, TLSImplicit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSink(t, tc.sink, cert)
			c := Config{Host: "127.0.0.1", Port: s.Port, TLS: tc.mode, From: "noreply@shopscore.test", RootCAs: cert.pool, Timeout: 10 * time.Second}
			require.NoError(t, mailerFor(t, c).Send(context.Background(), to, msg))
			got := s.Messages(t)
			require.Len(t, got, 1)
			assert.True(t, got[0].Envelope.TLS, "the message went over TLS")
			assert.Equal(t, "Итого: 1 234,56 ₽", got[0].Text)

			c.RootCAs = nil // the system's pool does not know the test's certificate
			err := mailerFor(t, c).Send(context.Background(), to, msg)
			var se *SendError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, StageConnect, se.Stage, "%v", err)
			assert.True(t, se.Transient, "a certificate problem is the configuration's, not the message's: %v", err)
			var unknown x509.UnknownAuthorityError
			assert.True(t, errors.As(err, &unknown), "%v", err)
			assert.Len(t, s.Messages(t), 1, "nothing was sent to an unverified server")
		})
	}

	t.Run("starttls required but not offered", func(t *testing.T) {
		s := startSink(t, sinkPlain, nil)
		c := Config{Host: "127.0.0.1", Port: s.Port, TLS: TLSStartTLS, From: "noreply@shopscore.test", RootCAs: cert.pool, Timeout: 10 * time.Second}
		err := mailerFor(t, c).Send(context.Background(), to, msg)
		var se *SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, StageConnect, se.Stage, "%v", err)
		assert.Contains(t, err.Error(), "STARTTLS")
		assert.Empty(t, s.Messages(t), "nothing was sent in clear text")
	})
}
