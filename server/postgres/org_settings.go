package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/shopscore/shopscore/audit"
)

// Find returns the organisation's settings (storage.OrgSettings).
func (r orgSettingRows) Find(ctx context.Context) (*audit.OrgSettings, error) {
	return query(ctx, r.rows, func(tx *Tx) (*audit.OrgSettings, error) {
		var s audit.OrgSettings
		var at *time.Time
		err := tx.QueryRow(ctx, `SELECT time_zone, locale, currency, appeal_window_days, action_days_critical, action_days_major,
			review_wait_days, updated_at, updated_by FROM org_settings WHERE id = 1`).
			Scan(&s.TimeZone, &s.Locale, &s.Currency, &s.AppealWindowDays, &s.ActionDaysCritical, &s.ActionDaysMajor, &s.ReviewWaitDays, &at, &s.UpdatedBy)
		if err != nil {
			return nil, fmt.Errorf("read org settings: %w", err)
		}
		if at != nil {
			s.UpdatedAt = *at
		}
		return &s, nil
	})
}

// Set stores the organisation's settings, changed by the user by at the
// transaction's time (storage.OrgSettings).
func (r orgSettingRows) Set(ctx context.Context, s audit.OrgSettings, by string) error {
	return r.write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE org_settings SET time_zone = $1, locale = $2, currency = $3, appeal_window_days = $4,
			action_days_critical = $5, action_days_major = $6, review_wait_days = $7, updated_at = $8, updated_by = $9 WHERE id = 1`,
			s.TimeZone, s.Locale, s.Currency, s.AppealWindowDays, s.ActionDaysCritical, s.ActionDaysMajor, s.ReviewWaitDays, tx.now, by)
		if err != nil {
			return fmt.Errorf("store org settings: %w", err)
		}
		return nil
	})
}
