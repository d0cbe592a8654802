package app

import (
	"context"
	"strings"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/server/storage"
)

// UpdateOrgSettings changes the organisation's settings: a field of
// change left empty keeps its value; the result is validated as a whole
// and stored, stamped by p, in one transaction. Errors: EINVALID naming
// the field.
func (a *App) UpdateOrgSettings(ctx context.Context, p audit.Principal, change audit.OrgSettings) (*audit.OrgSettings, error) {
	var out *audit.OrgSettings
	err := a.st.Update(ctx, func(tx storage.Tx) error {
		cur, err := tx.OrgSettings().Find(ctx)
		if err != nil {
			return err
		}
		next := *cur
		for _, f := range []struct {
			dst *string
			v   string
		}{{&next.TimeZone, change.TimeZone}, {&next.Locale, change.Locale}, {&next.Currency, change.Currency}} {
			if v := strings.TrimSpace(f.v); v != "" {
				*f.dst = v
			}
		}
		if change.AppealWindowDays != 0 {
			next.AppealWindowDays = change.AppealWindowDays
		}
		if change.ActionDaysCritical != 0 {
			next.ActionDaysCritical = change.ActionDaysCritical
		}
		if change.ActionDaysMajor != 0 {
			next.ActionDaysMajor = change.ActionDaysMajor
		}
		if change.ReviewWaitDays != 0 {
			next.ReviewWaitDays = change.ReviewWaitDays
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if err := tx.OrgSettings().Set(ctx, next, p.UserID); err != nil {
			return err
		}
		out, err = tx.OrgSettings().Find(ctx)
		return err
	})
	return out, err
}
