package server

import (
	"context"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// orgLocation returns the organisation's time zone.
func (s *Server) orgLocation(ctx context.Context) (*time.Location, error) {
	st, err := s.st.OrgSettings().Find(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		return nil, audit.Errorf(audit.EINTERNAL, "stored time zone %q: %v", st.TimeZone, err)
	}
	return loc, nil
}
