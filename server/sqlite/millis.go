package sqlite

import "github.com/shopscore/shopscore/internal/sqlitedb"

// The time conversions of internal/sqlitedb under the names this
// package's queries use.
var (
	millis         = sqlitedb.Millis
	fromMillis     = sqlitedb.FromMillis
	nullMillis     = sqlitedb.NullMillis
	fromNullMillis = sqlitedb.FromNullMillis
)
