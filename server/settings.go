package server

import (
	"context"
	"regexp"
	"time"

	"github.com/shopscore/shopscore/audit"
)

var (
	localeTag    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
)

// validateSettings checks settings before they are stored. Errors: EINVALID
// naming the field.
func validateSettings(s audit.OrgSettings) error {
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		return audit.Errorf(audit.EINVALID, "time_zone: %q is not an IANA time zone name (such as Europe/Moscow)", s.TimeZone)
	}
	if !localeTag.MatchString(s.Locale) {
		return audit.Errorf(audit.EINVALID, "locale: %q is not a language tag (such as ru-RU or en-GB)", s.Locale)
	}
	if !currencyCode.MatchString(s.Currency) {
		return audit.Errorf(audit.EINVALID, "currency: %q is not an ISO 4217 code (such as RUB or EUR)", s.Currency)
	}
	return nil
}

// orgLocation returns the organisation's time zone.
func (s *Server) orgLocation(ctx context.Context) (*time.Location, error) {
	st, err := s.db.OrgSettings(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		return nil, audit.Errorf(audit.EINTERNAL, "stored time zone %q: %v", st.TimeZone, err)
	}
	return loc, nil
}

// orgToday returns today's date, YYYY-MM-DD, in the organisation's time zone.
func (s *Server) orgToday(ctx context.Context) (string, error) {
	loc, err := s.orgLocation(ctx)
	if err != nil {
		return "", err
	}
	return s.cfg.Now().In(loc).Format(time.DateOnly), nil
}
