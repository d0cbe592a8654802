package notify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"time"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

const (
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465 by default).
	TLSImplicit TLSMode = "implicit"
	// TLSStartTLS connects in clear text and requires the server to
	// upgrade with STARTTLS before anything else is sent (submission,
	// port 587 by default). A server that does not offer it is refused.
	TLSStartTLS TLSMode = "starttls"
	// TLSNone sends in clear text. It is for a development mail catcher on
	// this machine only: the host must be a loopback address, and no
	// credentials are accepted (port 25 by default).
	TLSNone TLSMode = "none"
)

// DefaultTimeout bounds one message (connect, TLS, authentication,
// envelope, content) when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MaxTimeout is the longest per-message timeout Validate accepts: a worker
// that waits longer for one message holds up every other.
const MaxTimeout = 10 * time.Minute

// Config is the SMTP configuration. The zero value means "notifications
// by e-mail are off" (Enabled); anything else must pass Validate.
type Config struct {
	Host string  // host name or IP address of the SMTP server
	Port int     // 0: the mode's default (465, 587 or 25)
	TLS  TLSMode // "" means TLSStartTLS

	// Username and Password, both or neither, authenticate with the
	// strongest mechanism the server offers over the protected connection.
	Username string
	Password string

	// From is the sender, an address with an optional display name
	// ("shopscore <noreply@example.com>").
	From string

	// Timeout bounds each message; 0 means DefaultTimeout.
	Timeout time.Duration

	// RootCAs verifies the server's certificate; nil means the system's
	// pool. For a relay with a certificate from the operator's own CA.
	RootCAs *x509.CertPool
}

// Enabled reports whether e-mail is configured at all.
func (c Config) Enabled() bool { return c.Host != "" }

// ErrConfig is wrapped by every error of Validate.
var ErrConfig = errors.New("smtp configuration")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// Validate checks the configuration and returns the first problem,
// wrapping ErrConfig and naming the setting.
func (c Config) Validate() error {
	_, err := c.settle()
	return err
}

// settled is a validated configuration with its defaults filled in.
type settled struct {
	Config
	from *mail.Address
}

func (c Config) settle() (settled, error) {
	s := settled{Config: c}
	switch {
	case c.Host == "":
		return s, configErr("host is required")
	case strings.ContainsAny(c.Host, " \t\r\n/:@") && net.ParseIP(c.Host) == nil:
		return s, configErr("host %q: want a host name or an IP address, without scheme, port or path", c.Host)
	}
	if s.TLS == "" {
		s.TLS = TLSStartTLS
	}
	switch s.TLS {
	case TLSImplicit, TLSStartTLS:
	case TLSNone:
		if !isLoopback(c.Host) {
			return s, configErr("tls mode none (clear text) is only for a server on this machine (localhost, 127.0.0.1, ::1), not %q: use implicit or starttls", c.Host)
		}
		if c.Username != "" || c.Password != "" {
			return s, configErr("tls mode none: a password is never sent in clear text; leave username and password empty or use implicit or starttls")
		}
	default:
		return s, configErr("tls mode %q: want implicit, starttls or none", c.TLS)
	}
	switch {
	case c.Port == 0:
		s.Port = map[TLSMode]int{TLSImplicit: 465, TLSStartTLS: 587, TLSNone: 25}[s.TLS]
	case c.Port < 1 || c.Port > 65535:
		return s, configErr("port %d: want 1 to 65535", c.Port)
	}
	switch {
	case (c.Username == "") != (c.Password == ""):
		return s, configErr("username and password go together: give both or neither")
	case hasControl(c.Username) || hasControl(c.Password):
		return s, configErr("username and password must not contain control characters")
	}
	if c.From == "" {
		return s, configErr("from address is required")
	}
	from, err := parseAddress(c.From, true)
	if err != nil {
		return s, configErr("from: %v", err)
	}
	s.from = from
	switch {
	case c.Timeout == 0:
		s.Timeout = DefaultTimeout
	case c.Timeout < 0 || c.Timeout > MaxTimeout:
		return s, configErr("timeout %v: want more than 0 and at most %v", c.Timeout, MaxTimeout)
	}
	return s, nil
}

// tlsConfig is what both TLS modes verify the server with.
func (s settled) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.Host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// String describes the configuration for a log, with the password
// redacted (docs/DESIGN.md §12: no secret is logged).
func (c Config) String() string {
	user := "none"
	if c.Username != "" {
		user = fmt.Sprintf("%q with password [redacted]", c.Username)
	}
	return fmt.Sprintf("smtp host=%s port=%d tls=%s user=%s from=%q timeout=%v", c.Host, c.Port, c.TLS, user, c.From, c.Timeout)
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return "notify.Config{" + c.String() + "}" }

// LogValue keeps slog from printing the password.
func (c Config) LogValue() slog.Value {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return slog.GroupValue(slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("tls", string(c.TLS)),
		slog.String("username", c.Username), slog.String("password", pw), slog.String("from", c.From),
		slog.Duration("timeout", c.Timeout))
}
