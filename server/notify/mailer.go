package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Content is one rendered message: a subject and its plain-text and HTML
// bodies, sent as multipart/alternative (the HTML part may be empty).
type Content struct {
	Subject string
	Text    string
	HTML    string
}

// Mailer sends messages through one SMTP server. It is safe for use by
// several goroutines; each Send opens a connection of its own.
type Mailer struct {
	cfg settled
}

// NewMailer checks the configuration (errors wrap ErrConfig) and returns
// a Mailer for it.
func NewMailer(c Config) (*Mailer, error) {
	s, err := c.settle()
	if err != nil {
		return nil, err
	}
	return &Mailer{cfg: s}, nil
}

// Send delivers one message to one recipient within the configured
// timeout (or ctx's earlier deadline), connection included. Its error is
// a *SendError that says whether to retry (IsTransient).
func (m *Mailer) Send(ctx context.Context, to Address, c Content) error {
	msg, err := m.message(to, c)
	if err != nil {
		return &SendError{Stage: StageMessage, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()

	var raw net.Conn
	defer func() {
		if raw != nil {
			_ = raw.Close()
		}
	}()
	client, err := gomail.NewClient(m.cfg.Host, m.options(ctx, &raw)...)
	if err != nil {
		return &SendError{Stage: StageConnect, Transient: true, Err: err}
	}
	smtp, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return classify(StageConnect, m.cause(ctx, err))
	}
	if err := client.SendWithSMTPClient(smtp, msg); err != nil {
		_ = client.CloseWithSMTPClient(smtp)
		return classify(StageSend, m.cause(ctx, err))
	}
	// The server has taken the message; a failed QUIT does not undo that.
	_ = client.CloseWithSMTPClient(smtp)
	return nil
}

// cause names the timeout or the cancellation when it is why err
// happened. The connection's deadline is the context's, and may fire a
// moment before the context itself says it is done.
func (m *Mailer) cause(ctx context.Context, err error) error {
	reason := ctx.Err()
	if deadline, ok := ctx.Deadline(); reason == nil && ok && !time.Now().Before(deadline) {
		reason = context.DeadlineExceeded
	}
	if reason != nil {
		return fmt.Errorf("%w (limit %v): %w", reason, m.cfg.Timeout, err)
	}
	return err
}

// message builds the library's message, with every header value on one
// line (headerText) and the recipient checked.
func (m *Mailer) message(to Address, c Content) (*gomail.Msg, error) {
	rcpt, err := to.mailAddress()
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	subject := headerText(c.Subject)
	if subject == "" || c.Text == "" {
		return nil, errors.New("a message needs a subject and a plain-text body")
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP), gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(m.cfg.from)
	msg.ToMailAddress(rcpt)
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	// RFC 3834: a machine wrote this; out-of-office replies stay away.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, c.Text)
	if c.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, c.HTML)
	}
	return msg, nil
}

// options configures the library's client for one message: the TLS mode,
// the credentials, and a dialler whose connection never outlives ctx.
func (m *Mailer) options(ctx context.Context, raw *net.Conn) []gomail.Option {
	s := m.cfg
	opts := []gomail.Option{
		gomail.WithPort(s.Port),
		gomail.WithTimeout(s.Timeout),
		gomail.WithTLSConfig(s.tlsConfig()),
		gomail.WithDialContextFunc(m.dialer(ctx, raw)),
	}
	switch s.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL()) // the dialler does the handshake
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	return opts
}

// dialer connects to the configured host and port (whatever address the
// library composes: it does not bracket IPv6), bounds the connection by
// msgCtx, and speaks TLS first in the implicit mode. The connection is
// kept in *raw so that Send closes it whatever happened.
func (m *Mailer) dialer(msgCtx context.Context, raw *net.Conn) gomail.DialContextFunc {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port)))
		if err != nil {
			return nil, err
		}
		deadline, _ := msgCtx.Deadline()
		bc := &boundedConn{Conn: c, limit: deadline}
		bc.stop = context.AfterFunc(msgCtx, bc.expire)
		*raw = bc
		if err := bc.SetDeadline(deadline); err != nil {
			return nil, err
		}
		if m.cfg.TLS != TLSImplicit {
			return bc, nil
		}
		tc := tls.Client(bc, m.cfg.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		return tc, nil
	}
}

// boundedConn is a connection whose deadlines never pass its limit, so
// that the library, which moves the deadline forward before each command,
// cannot keep one message past its timeout; expire (on the message's
// context ending early) pulls the limit to now.
type boundedConn struct {
	net.Conn
	mu    sync.Mutex
	limit time.Time
	stop  func() bool
}

func (c *boundedConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.limit) {
		return c.limit
	}
	return t
}

func (c *boundedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetDeadline(c.clamp(t))
}

func (c *boundedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *boundedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

func (c *boundedConn) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limit = time.Unix(1, 0)
	_ = c.Conn.SetDeadline(c.limit)
}

func (c *boundedConn) Close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.Conn.Close()
}
