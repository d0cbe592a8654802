package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server/notify"
)

// TestSMTPFlags: e-mail is off without a host; flags and environment
// make a validated configuration, the password from the environment or
// a file and never the command line; a bad setting is refused naming its
// flag, never showing the password.
func TestSMTPFlags(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "smtp-password")
	require.NoError(t, os.WriteFile(pwFile, []byte("s3cret-pass\n"), 0o600))
	parse := func(env map[string]string, args ...string) (notify.Config, error) {
		fs := cli.NewFlagSet("serve", "")
		f := addSMTPFlags(fs, func(k string) string { return env[k] })
		_, err := fs.Parse(args)
		require.NoError(t, err)
		return f.config()
	}

	c, err := parse(nil)
	require.NoError(t, err)
	assert.False(t, c.Enabled(), "no host: e-mail off")

	c, err = parse(map[string]string{"SHOPSCORE_SMTP_HOST": "smtp.example.com", "SHOPSCORE_SMTP_FROM": "shopscore <noreply@example.com>",
		"SHOPSCORE_SMTP_USERNAME": "mailer", smtpPasswordVar: "env-pass"}, "--smtp-port", "2587")
	require.NoError(t, err)
	assert.Equal(t, notify.Config{Host: "smtp.example.com", Port: 2587, TLS: notify.TLSStartTLS, Username: "mailer", Password: "env-pass",
		From: "shopscore <noreply@example.com>"}, c)

	c, err = parse(nil, "--smtp-host", "smtp.example.com", "--smtp-tls", "implicit", "--smtp-username", "mailer",
		"--smtp-password-file", pwFile, "--smtp-from", "noreply@example.com", "--smtp-timeout", "10s")
	require.NoError(t, err)
	assert.Equal(t, "s3cret-pass", c.Password, "the file's first line")
	assert.Equal(t, notify.TLSImplicit, c.TLS)

	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		flag string
	}{
		"no host":       {nil, []string{"--smtp-from", "a@example.com"}, "--smtp-host"},
		"no from":       {nil, []string{"--smtp-host", "smtp.example.com"}, "--smtp-from"},
		"bad tls":       {nil, []string{"--smtp-host", "smtp.example.com", "--smtp-from", "a@example.com", "--smtp-tls", "ssl"}, "--smtp-tls"},
		"bad port":      {nil, []string{"--smtp-host", "smtp.example.com", "--smtp-from", "a@example.com", "--smtp-port", "x"}, "--smtp-port"},
		"clear remote":  {nil, []string{"--smtp-host", "smtp.example.com", "--smtp-from", "a@example.com", "--smtp-tls", "none"}, "--smtp-tls"},
		"user only":     {nil, []string{"--smtp-host", "smtp.example.com", "--smtp-from", "a@example.com", "--smtp-username", "u"}, "--smtp-username"},
		"two passwords": {map[string]string{smtpPasswordVar: "s3cret-pass"}, []string{"--smtp-host", "h", "--smtp-password-file", pwFile}, "--smtp-password-file"},
		"missing file":  {nil, []string{"--smtp-host", "h", "--smtp-password-file", pwFile + ".gone"}, "--smtp-password-file"},
	} {
		_, err := parse(tc.env, tc.args...)
		require.Error(t, err, name)
		assert.Equal(t, audit.EINVALID, audit.ErrorCode(err), name)
		assert.Contains(t, err.Error(), tc.flag, name)
		assert.NotContains(t, err.Error(), "s3cret-pass", name)
	}
}
