-- The device and its session: exactly one row.
CREATE TABLE device (
	id                 INTEGER PRIMARY KEY CHECK (id = 1),
	device_id          TEXT    NOT NULL,
	next_seq           INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
	user_id            TEXT    NOT NULL DEFAULT '',
	email              TEXT    NOT NULL DEFAULT '',
	display_name       TEXT    NOT NULL DEFAULT '',
	role               TEXT    NOT NULL DEFAULT '',
	session_id         TEXT    NOT NULL DEFAULT '',
	access_token       TEXT    NOT NULL DEFAULT '',
	access_expires_ms  INTEGER NOT NULL DEFAULT 0,
	refresh_token      TEXT    NOT NULL DEFAULT '',
	refresh_expires_ms INTEGER NOT NULL DEFAULT 0,
	cursor             TEXT    NOT NULL DEFAULT '',
	server_applied_seq INTEGER NOT NULL DEFAULT 0,
	clock_offset_ms    INTEGER NOT NULL DEFAULT 0,
	last_pull_ms       INTEGER NOT NULL DEFAULT 0,
	last_push_ms       INTEGER NOT NULL DEFAULT 0
);

-- Server-owned data: replaced on a pull reset.

-- Checklist versions by (id, version), immutable once published; a visit
-- keeps the version it was started with even after a republish.
CREATE TABLE checklist_versions (
	checklist_id    TEXT    NOT NULL,
	version         INTEGER NOT NULL CHECK (version >= 1),
	name            TEXT    NOT NULL,
	channel         TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	content_hash    TEXT    NOT NULL,
	content         BLOB    NOT NULL,
	allow_unplanned INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (checklist_id, version)
);

-- Checklists offered for unplanned visits: the version to use, and where.
CREATE TABLE unplanned_checklists (
	checklist_id TEXT    PRIMARY KEY,
	version      INTEGER NOT NULL,
	FOREIGN KEY (checklist_id, version) REFERENCES checklist_versions (checklist_id, version)
);
CREATE TABLE unplanned_stores (
	checklist_id TEXT NOT NULL REFERENCES unplanned_checklists (checklist_id) ON DELETE CASCADE,
	store_id     TEXT NOT NULL,
	PRIMARY KEY (checklist_id, store_id)
);

CREATE TABLE stores (
	id              TEXT PRIMARY KEY,
	code            TEXT NOT NULL,
	name            TEXT NOT NULL,
	address         TEXT NOT NULL DEFAULT '',
	region          TEXT NOT NULL DEFAULT '',
	latitude        REAL NOT NULL DEFAULT 0,
	longitude       REAL NOT NULL DEFAULT 0,
	geofence_meters REAL NOT NULL DEFAULT 0
);

CREATE TABLE staff (
	id              TEXT    PRIMARY KEY,
	store_id        TEXT    NOT NULL,
	employee_number TEXT    NOT NULL DEFAULT '',
	name            TEXT    NOT NULL,
	position        TEXT    NOT NULL DEFAULT '',
	department      TEXT    NOT NULL DEFAULT '',
	back_office     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX staff_store ON staff (store_id);

CREATE TABLE assignments (
	id                TEXT    PRIMARY KEY,
	store_id          TEXT    NOT NULL,
	checklist_id      TEXT    NOT NULL,
	checklist_version INTEGER NOT NULL,
	channel           TEXT    NOT NULL,
	window_start_ms   INTEGER NOT NULL,
	window_end_ms     INTEGER NOT NULL,
	shopper_id        TEXT    NOT NULL DEFAULT '',
	state             TEXT    NOT NULL,
	cancel_reason     TEXT    NOT NULL DEFAULT '',
	-- Set by a tombstone: "cancelled", "reassigned", "expired".
	removed_reason    TEXT    NOT NULL DEFAULT '',
	FOREIGN KEY (checklist_id, checklist_version) REFERENCES checklist_versions (checklist_id, version)
);

-- The server's view of each submitted visit.
CREATE TABLE receipts (
	visit_id        TEXT    PRIMARY KEY,
	state           TEXT    NOT NULL,
	score_percent   REAL,
	missing_json    TEXT    NOT NULL DEFAULT '[]',
	flags_json      TEXT    NOT NULL DEFAULT '[]',
	-- A returned visit's reviewer comments, to correct and resubmit.
	comments_json   TEXT    NOT NULL DEFAULT '[]',
	receive_time_ms INTEGER NOT NULL DEFAULT 0
);

-- Device-owned data: never replaced by a pull.

CREATE TABLE visits (
	id                TEXT    PRIMARY KEY,
	assignment_id     TEXT    NOT NULL DEFAULT '',
	store_id          TEXT    NOT NULL,
	checklist_id      TEXT    NOT NULL,
	checklist_version INTEGER NOT NULL,
	content_hash      TEXT    NOT NULL,
	channel           TEXT    NOT NULL,
	-- "draft" while editable; "submitted" once frozen into the outbox.
	status            TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted')),
	started_ms        INTEGER NOT NULL,
	finished_ms       INTEGER NOT NULL DEFAULT 0,
	staff_id          TEXT    NOT NULL DEFAULT '',
	staff_description TEXT    NOT NULL DEFAULT '',
	check_in_json     TEXT    NOT NULL DEFAULT '',
	check_out_json    TEXT    NOT NULL DEFAULT '',
	notes             TEXT    NOT NULL DEFAULT '',
	-- For a correction: the returned visit this one replaces.
	corrects_visit_id TEXT    NOT NULL DEFAULT '',
	FOREIGN KEY (checklist_id, checklist_version) REFERENCES checklist_versions (checklist_id, version)
);

-- One answer per question of a visit, as the JSON of audit.Answer.
CREATE TABLE answers (
	visit_id    TEXT    NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
	question_id TEXT    NOT NULL,
	answer_json TEXT    NOT NULL,
	updated_ms  INTEGER NOT NULL,
	PRIMARY KEY (visit_id, question_id)
);

-- Photos of a visit, by slot (question, position in the answer's
-- photo_hashes). The bytes live in the content-addressed photo folder.
CREATE TABLE photos (
	visit_id     TEXT    NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
	question_id  TEXT    NOT NULL,
	idx          INTEGER NOT NULL CHECK (idx >= 0),
	sha256       TEXT    NOT NULL,
	size_bytes   INTEGER NOT NULL CHECK (size_bytes > 0),
	content_type TEXT    NOT NULL,
	captured_ms  INTEGER NOT NULL,
	verified     INTEGER NOT NULL DEFAULT 0,
	attempts     INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (visit_id, question_id, idx)
);

-- Running timers, on the boot-time clock of the boot they started in.
CREATE TABLE timers (
	visit_id    TEXT    NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
	question_id TEXT    NOT NULL,
	boot_id     TEXT    NOT NULL,
	start_ns    INTEGER NOT NULL,
	PRIMARY KEY (visit_id, question_id)
);

-- The outbox: mutations in device seq order, with their frozen wire bytes.
-- A processed row stays, with its outcome, so that a gap can be resent.
CREATE TABLE outbox (
	seq           INTEGER PRIMARY KEY CHECK (seq >= 1),
	mutation_id   TEXT    NOT NULL UNIQUE,
	visit_id      TEXT    NOT NULL REFERENCES visits (id),
	kind          TEXT    NOT NULL,
	payload       BLOB    NOT NULL,
	created_ms    INTEGER NOT NULL,
	-- "pending" until the server answers; then "applied", "replayed" or "rejected".
	status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'replayed', 'rejected')),
	error_code    TEXT    NOT NULL DEFAULT '',
	error_message TEXT    NOT NULL DEFAULT '',
	attempts      INTEGER NOT NULL DEFAULT 0,
	processed_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (status, seq);
CREATE INDEX outbox_visit ON outbox (visit_id);
