// Package sqlitedb is the SQLite plumbing the server's database
// (server/sqlite) and the field client's (mobile-client/field) share: the
// connection string and its pragmas, the migration runner, transaction
// helpers and the conversions between times and the Unix milliseconds
// both databases store. It holds no table of either side and no rule.
package sqlitedb

import (
	"net/url"
	"strconv"
)

// Mode is how a connection may use the database file.
type Mode int

const (
	// ReadWrite creates the file when needed; its write transactions
	// take the write lock when they begin (BEGIN IMMEDIATE), so that two
	// writers wait on the busy timeout instead of failing on upgrade.
	ReadWrite Mode = iota
	// ReadOnly opens an existing file for reading (SQLite's mode=ro).
	ReadOnly
	// Inspect opens an existing file without creating it and refuses
	// every change (query_only), for commands that only look. Not
	// mode=ro: a read-only connection cannot remove the WAL and
	// shared-memory files it makes, so they would stay behind; this one
	// removes them when it closes last. It sets no other pragma.
	Inspect
)

// Synchronous is SQLite's synchronous pragma in WAL mode.
type Synchronous string

const (
	// SyncNormal may lose the last commits on power loss, never
	// corrupts: the server's choice (a lost commit is a push the phone
	// repeats).
	SyncNormal Synchronous = "NORMAL"
	// SyncFull makes each commit durable before it returns: the field
	// client's choice (a lost commit is a shopper's lost work).
	SyncFull Synchronous = "FULL"
)

// BusyTimeout is how long, in milliseconds, a connection waits for a
// lock another connection or process holds before it gives up.
const BusyTimeout = 10000

// Options are the settings of a connection string.
type Options struct {
	Mode        Mode
	Synchronous Synchronous // SyncFull when empty
	// StatementCache is how many prepared statements each connection
	// keeps and reuses by their SQL text (mattn/go-sqlite3's
	// _stmt_cache_size); 0 leaves the driver's default.
	StatementCache int
}

// DSN returns the mattn/go-sqlite3 connection string for the file at path:
// WAL journal, foreign keys on, the busy timeout and o's synchronous mode
// (only the busy timeout in Inspect mode).
func DSN(path string, o Options) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(BusyTimeout))
	if o.Mode == Inspect {
		q.Set("mode", "rw")
		q.Set("_query_only", "1")
		return "file:" + path + "?" + q.Encode()
	}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	sync := o.Synchronous
	if sync == "" {
		sync = SyncFull
	}
	q.Set("_synchronous", string(sync))
	if o.StatementCache > 0 {
		q.Set("_stmt_cache_size", strconv.Itoa(o.StatementCache))
	}
	if o.Mode == ReadOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}
