package notify

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	good := Config{Host: "smtp.example.com", TLS: TLSStartTLS, Username: "robot", Password: "s3cret", From: "shopscore <noreply@example.com>"}
	require.NoError(t, good.Validate())
	assert.False(t, Config{}.Enabled(), "the zero value is off")
	assert.True(t, good.Enabled())

	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no host", func(c *Config) { c.Host = "" }, "host is required"},
		{"url as host", func(c *Config) { c.Host = "smtp://smtp.example.com" }, "without scheme, port or path"},
		{"port in host", func(c *Config) { c.Host = "smtp.example.com:587" }, "without scheme, port or path"},
		{"control in host", func(c *Config) { c.Host = "smtp.example.com\r\n" }, "without scheme, port or path"},
		{"unknown tls mode", func(c *Config) { c.TLS = "ssl" }, `tls mode "ssl": want implicit, starttls or none`},
		{"clear text to a remote host", func(c *Config) { c.TLS, c.Username, c.Password = TLSNone, "", "" }, "only for a server on this machine"},
		{"clear text with a password", func(c *Config) { c.Host, c.TLS = "127.0.0.1", TLSNone }, "never sent in clear text"},
		{"port too high", func(c *Config) { c.Port = 70000 }, "port 70000: want 1 to 65535"},
		{"negative port", func(c *Config) { c.Port = -1 }, "port -1"},
		{"username alone", func(c *Config) { c.Password = "" }, "give both or neither"},
		{"password alone", func(c *Config) { c.Username = "" }, "give both or neither"},
		{"newline in password", func(c *Config) { c.Password = "a\r\nb" }, "control characters"},
		{"no from", func(c *Config) { c.From = "" }, "from address is required"},
		{"from not an address", func(c *Config) { c.From = "noreply" }, "from:"},
		{"two from addresses", func(c *Config) { c.From = "a@example.com, b@example.com" }, "from:"},
		{"header in from", func(c *Config) { c.From = "a@example.com\r\nBcc: x@example.com" }, "control characters"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout -1s"},
		{"timeout too long", func(c *Config) { c.Timeout = time.Hour }, "at most 10m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrConfig), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret", "no error repeats the password")
			_, err = NewMailer(c)
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		port int
		mode TLSMode
	}{
		{Config{Host: "smtp.example.com", From: "a@example.com"}, 587, TLSStartTLS},
		{Config{Host: "smtp.example.com", From: "a@example.com", TLS: TLSImplicit}, 465, TLSImplicit},
		{Config{Host: "localhost", From: "a@example.com", TLS: TLSNone}, 25, TLSNone},
		{Config{Host: "::1", From: "a@example.com", TLS: TLSNone, Port: 1025}, 1025, TLSNone},
		{Config{Host: "127.0.0.2", From: "a@example.com", TLS: TLSNone}, 25, TLSNone},
	} {
		s, err := tc.c.settle()
		require.NoError(t, err, "%v", tc.c)
		assert.Equal(t, tc.port, s.Port)
		assert.Equal(t, tc.mode, s.TLS)
		assert.Equal(t, DefaultTimeout, s.Timeout)
	}
}

func TestConfigNeverPrintsThePassword(t *testing.T) {
	c := Config{Host: "smtp.example.com", Username: "robot", Password: "s3cret", From: "a@example.com"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("smtp", "config", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("smtp", "config", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logged.String()} {
		assert.NotContains(t, out, "s3cret")
		assert.Contains(t, out, "robot")
		assert.Contains(t, out, "smtp.example.com")
	}
	assert.Contains(t, c.String(), "[redacted]")
}

func TestHeaderText(t *testing.T) {
	for in, want := range map[string]string{
		"Отчёт\r\nBcc: x@example.com":   "Отчёт Bcc: x@example.com",
		"  a\t\tb \u2028c\u0085d\x00e ": "a b c d e",
		"\r\n":                          "",
		"M-014 «Тверская»":              "M-014 «Тверская»",
	} {
		assert.Equal(t, want, headerText(in), "%q", in)
	}
}

func TestParseAddress(t *testing.T) {
	a, err := parseAddress("Олег <oleg@example.com>", true)
	require.NoError(t, err)
	assert.Equal(t, "Олег", a.Name)
	assert.Equal(t, "oleg@example.com", a.Address)
	for _, bad := range []string{"Олег <oleg@example.com>", "oleg", "@example.com", "a@example.com\nb", "a@example.com, b@example.com", ""} {
		_, err := parseAddress(bad, false)
		assert.ErrorIs(t, err, errAddress, "%q", bad)
	}
}
