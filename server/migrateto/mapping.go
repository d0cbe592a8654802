package migrateto

// The mapping from the SQLite schema (server/sqlite/migrations) to the
// PostgreSQL one (server/postgres/migrations), in this one place. Both
// schemas are read at run time (PRAGMA table_info, information_schema),
// and a column of the same name on both sides, of a pair of types the
// copy knows (see convert.go), is copied without being named here. Every
// other column is named below, with the reason; checkMapping refuses a
// table or a column neither side explains, so that a migration that adds
// one fails TestMapping_FreshSchemas rather than leaving data behind.

// table is how one table moves. Both sides have it under its name.
type table struct {
	name string
	// order orders the source rows: SQLite's rowid (insertion order)
	// unless given, so that a row that refers to an earlier row of its
	// own table (a correction to the visit it corrects, a run to the run
	// it was compared with) is written after it.
	order string
	// from gives target columns as SQLite expressions over the source row
	// where they are not the source column of their name.
	from map[string]string
	// own names target columns the target fills itself, with why: they
	// are neither written nor compared.
	own map[string]string
	// gone names source columns without a target column of their name,
	// with where their value went.
	gone map[string]string
	// seeded says the target's migrations wrote the table's rows already
	// (one row of settings): they are replaced by the source's.
	seeded bool
}

// tables are the tables copied, in no particular order: the copy writes
// them in the order of their foreign keys, read from the target.
var tables = []table{
	{name: "users"},
	{name: "sessions"},
	{name: "refresh_tokens"},
	{name: "security_events"},
	{name: "stores"},
	{name: "store_managers"},
	{name: "staff"},
	{name: "staff_transfers"},
	{name: "org_settings", seeded: true,
		// SQLite's column is NOT NULL and says "never changed" with 0.
		from: map[string]string{"updated_at": "NULLIF(updated_at, 0)"}},
	{name: "checklists"},
	{name: "checklist_versions"},
	{name: "assignments"},
	{name: "sync_meta", seeded: true,
		own: map[string]string{"feed_epoch": "the target keeps the epoch its migration made, so that every cursor a phone took from the SQLite feed is unknown to it and the phone reads its feed anew (docs/DESIGN.md §9)"}},
	{name: "visits",
		from: map[string]string{"seq": "rowid"},
		own: map[string]string{"xid": "this transaction's id (the column's default): every copied visit is settled once the copy commits",
			"export_xid": "this transaction's id (the column's default): the copied visits keep their export order by export_seq"}},
	{name: "visit_photos",
		from: map[string]string{"ord": "rowid"}},
	{name: "verified_blobs"},
	{name: "device_seqs"},
	{name: "sync_mutations"},
	{name: "sync_feed",
		from: map[string]string{"id": "seq"},
		own:  map[string]string{"xid": "this transaction's id (the column's default): the copied rows keep their order by id"},
		gone: map[string]string{"seq": "id"}},
	{name: "report_visits",
		gone: map[string]string{"no": "SQLite's own key of the row; the target's answer rows name the visit (visit_answers.visit_id)"}},
	{name: "visit_answers", order: "visit_no, ord",
		from: map[string]string{"visit_id": "(SELECT r.visit_id FROM report_visits r WHERE r.no = visit_answers.visit_no)"},
		gone: map[string]string{"visit_no": "visit_id, the visit of report_visits row visit_no"}},
	{name: "report_watermark",
		from: map[string]string{"through_xid": xactID}},
	{name: "visit_transitions"},
	{name: "bonus_policies"},
	{name: "base_pay"},
	{name: "bonus_runs"},
	{name: "user_invitations"},
	// The sealed private halves move as they are: they open on
	// PostgreSQL under the key-encryption key that sealed them, which
	// Run checks before it copies (Options.KEK).
	{name: "signing_keys"},
	// The login limits' buckets: their keys are keyed by a secret
	// derived from the key-encryption key, so they mean the same
	// accounts on the servers given that key.
	{name: "rate_buckets"},
	{name: "appeals"},
	{name: "appeal_questions", order: "appeal_id, ord"},
	{name: "appeal_evidence"},
	// Events keep their seq (rowid; the identity sequence is moved past
	// it) and their body's text.
	{name: "outbox_events"},
	// Endpoints with their secrets, which receivers check signatures
	// with: the same secrets sign after the move.
	{name: "webhook_endpoints"},
	{name: "webhook_deliveries",
		// SQLite says "no lease" with 0, PostgreSQL with -infinity (what
		// its nouns write when a lease ends); a lease held when the
		// SQLite server stopped keeps its end, after which the delivery
		// is due again.
		from: map[string]string{"lease_until": "CASE lease_until WHEN 0 THEN '" + negInfinity + "' ELSE lease_until END"}},
	{name: "webhook_attempts"},
	{name: "integration_tokens"},
	{name: "actions"},
	{name: "action_proof"},
	{name: "action_history"},
	// E-mail preferences and the mail outbox (docs/DESIGN.md §12); a
	// lease is spelt as for webhook deliveries.
	{name: "notification_prefs"},
	{name: "notifications",
		from: map[string]string{"lease_until": "CASE lease_until WHEN 0 THEN '" + negInfinity + "' ELSE lease_until END"}},
	{name: "notification_marks"},
}

// xactID, as a from expression, is this transaction's id on the target:
// report_watermark's mark is at a visit copied by it (visits.xid), at its
// seq (the SQLite rowid it had).
const xactID = "<the copy's transaction id>"

// notCopied are the tables of either side that are not copied, with why.
// SQLite's own tables (sqlite_…) are never read.
var notCopied = map[string]string{
	"schema_migrations": "each backend's own list of the migrations it applied",
}

// sequences are the target's sequences that no column owns, each with
// the query of the highest value it has given out; the copy moves each
// past it, as it moves those of identity and owned columns past their
// column's highest value.
var sequences = map[string]string{
	"base_pay_revision": "SELECT max(revision) FROM base_pay",
}
