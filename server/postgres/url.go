package postgres

import (
	"net/url"
	"strings"

	"github.com/shopscore/shopscore/audit"
)

// CheckURL refuses a database URL that is not PostgreSQL's
// (postgres://… or postgresql://…), naming it without its password
// (EINVALID), before anything connects.
func CheckURL(raw string) error {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		return nil
	}
	return audit.Errorf(audit.EINVALID, "--database: want a PostgreSQL URL (postgres://user:password@host:5432/name), got %q", redactURL(raw))
}

// redactURL returns a URL with its password, if any, replaced by
// "xxxxx", for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
