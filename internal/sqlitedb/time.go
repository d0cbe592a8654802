package sqlitedb

import (
	"database/sql"
	"time"
)

// Both databases store instants as Unix milliseconds in INTEGER columns
// and give them back in UTC. A time that may be unset is NULL in a
// nullable column (NullMillis) or 0 in a NOT NULL one (OptMillis).

// Millis returns the Unix milliseconds of t.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis returns the instant of Unix milliseconds ms, in UTC.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// NullMillis returns the Unix milliseconds of t, NULL for the zero time.
func NullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: Millis(t), Valid: true}
}

// FromNullMillis returns the instant of ms, the zero time for NULL.
func FromNullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return FromMillis(ms.Int64)
}

// OptMillis returns the Unix milliseconds of t, 0 for the zero time.
func OptMillis(t time.Time) int64 { return NullMillis(t).Int64 }

// FromOptMillis returns the instant of ms, the zero time for 0.
func FromOptMillis(ms int64) time.Time {
	return FromNullMillis(sql.NullInt64{Int64: ms, Valid: ms != 0})
}
