package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server/notify"
)

// smtpPasswordVar names the variable that may hold the SMTP password
// itself; the command line never does (ps would show it).
const smtpPasswordVar = "SHOPSCORE_SMTP_PASSWORD"

// smtpFlags are serve's e-mail flags (docs/DESIGN.md §12).
type smtpFlags struct {
	host, port, tls, username, passwordFile, from, timeout *string
	off                                                    *bool
	getenv                                                 func(string) string
}

func addSMTPFlags(fs *cli.FlagSet, getenv func(string) string) smtpFlags {
	return smtpFlags{
		host: fs.String("smtp-host", getenv("SHOPSCORE_SMTP_HOST"), "SMTP server for e-mail notifications; e-mail is off when empty (env SHOPSCORE_SMTP_HOST)"),
		port: fs.String("smtp-port", getenv("SHOPSCORE_SMTP_PORT"), "SMTP port; 465, 587 or 25 by --smtp-tls if empty (env SHOPSCORE_SMTP_PORT)"),
		tls: fs.String("smtp-tls", envOr(getenv, "SHOPSCORE_SMTP_TLS", string(notify.TLSStartTLS)),
			"implicit (TLS from the first byte), starttls (required) or none (clear text, a server on this machine only) (env SHOPSCORE_SMTP_TLS)"),
		username: fs.String("smtp-username", getenv("SHOPSCORE_SMTP_USERNAME"), "SMTP user name; with a password (env SHOPSCORE_SMTP_USERNAME)"),
		passwordFile: fs.String("smtp-password-file", getenv("SHOPSCORE_SMTP_PASSWORD_FILE"),
			"file holding the SMTP password (one line); or the password itself in env "+smtpPasswordVar+", never on the command line (env SHOPSCORE_SMTP_PASSWORD_FILE)"),
		from:    fs.String("smtp-from", getenv("SHOPSCORE_SMTP_FROM"), `sender of the e-mails, "shopscore <noreply@example.com>" (env SHOPSCORE_SMTP_FROM)`),
		timeout: fs.String("smtp-timeout", getenv("SHOPSCORE_SMTP_TIMEOUT"), "longest time one message may take, 30s if empty (env SHOPSCORE_SMTP_TIMEOUT)"),
		off:     fs.Bool("mail-off", false, "send no e-mail from this server (another server of the same database does); e-mail is still queued"),
		getenv:  getenv,
	}
}

// smtpFlagOf names the flag of the setting a notify.Config error is
// about, by the words it starts with.
var smtpFlagOf = []struct{ prefix, flag string }{
	{"host", "--smtp-host"}, {"tls", "--smtp-tls"}, {"port", "--smtp-port"},
	{"username", "--smtp-username and --smtp-password-file (or " + smtpPasswordVar + ")"},
	{"from", "--smtp-from"}, {"timeout", "--smtp-timeout"},
}

// config returns the SMTP configuration the flags and the environment
// give, validated (notify.Config.Validate); the zero Config, e-mail off,
// when no host is given. Errors: EINVALID naming the flag, never the
// password.
func (f smtpFlags) config() (notify.Config, error) {
	password, err := f.password()
	if err != nil {
		return notify.Config{}, err
	}
	c := notify.Config{Host: strings.TrimSpace(*f.host), TLS: notify.TLSMode(strings.TrimSpace(*f.tls)),
		Username: *f.username, Password: password, From: strings.TrimSpace(*f.from)}
	if c.Host == "" {
		if *f.username != "" || password != "" || c.From != "" || *f.port != "" {
			return notify.Config{}, audit.Errorf(audit.EINVALID, "--smtp-host: required when other SMTP settings are given (e-mail is off without it)")
		}
		return notify.Config{}, nil
	}
	if p := strings.TrimSpace(*f.port); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil {
			return notify.Config{}, audit.Errorf(audit.EINVALID, "--smtp-port: %q is not a number", p)
		}
	}
	if d := strings.TrimSpace(*f.timeout); d != "" {
		if c.Timeout, err = time.ParseDuration(d); err != nil {
			return notify.Config{}, audit.Errorf(audit.EINVALID, "--smtp-timeout: %q is not a duration (30s, 2m)", d)
		}
	}
	if err := c.Validate(); err != nil {
		msg := strings.TrimPrefix(err.Error(), notify.ErrConfig.Error()+": ")
		flag := "SMTP settings"
		for _, p := range smtpFlagOf {
			if strings.HasPrefix(msg, p.prefix) {
				flag = p.flag
				break
			}
		}
		return notify.Config{}, audit.Errorf(audit.EINVALID, "%s: %s", flag, msg)
	}
	return c, nil
}

// password reads the SMTP password from the environment or the file
// --smtp-password-file names (its first line), not both.
func (f smtpFlags) password() (string, error) {
	text, file := f.getenv(smtpPasswordVar), *f.passwordFile
	switch {
	case text != "" && file != "":
		return "", audit.Errorf(audit.EINVALID, "give the SMTP password once: %s and --smtp-password-file are both set", smtpPasswordVar)
	case file == "":
		return text, nil
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", audit.Errorf(audit.EINVALID, "--smtp-password-file: %s: no such file", file)
	} else if err != nil {
		return "", fmt.Errorf("--smtp-password-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimRight(line, "\r"); line == "" {
		return "", audit.Errorf(audit.EINVALID, "--smtp-password-file: %s is empty", file)
	}
	return line, nil
}
