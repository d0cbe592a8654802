-- Appeals against approved visits, their rulings, and pay that follows
-- them (issue 13).

-- One appeal against one visit. store_id, staff_id and visited_at are the
-- visit's, copied when it is filed, so that scopes and bonus runs find
-- appeals without reading visits. deadline is when the visit's appeal
-- window closed. At most one appeal per visit is open at a time.
CREATE TABLE appeals (
    id           TEXT PRIMARY KEY,
    visit_id     TEXT NOT NULL REFERENCES visits (id),
    store_id     TEXT NOT NULL,
    staff_id     TEXT NOT NULL DEFAULT '',
    visited_at   INTEGER NOT NULL,
    filed_by     TEXT NOT NULL REFERENCES users (id),
    filed_role   TEXT NOT NULL,
    filed_at     INTEGER NOT NULL,
    deadline     INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    ruled_by     TEXT REFERENCES users (id),
    ruled_role   TEXT NOT NULL DEFAULT '',
    ruled_at     INTEGER,
    score_before REAL,
    score_after  REAL
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (visit_id) WHERE state = 'open';
CREATE INDEX appeals_visit ON appeals (visit_id, ruled_at);
CREATE INDEX appeals_state ON appeals (state, deadline);
CREATE INDEX appeals_visited ON appeals (visited_at);

-- The questions of an appeal, in the order filed: the filer's reason, and
-- the ruling (outcome, amended answer as audit.Answer JSON when upheld,
-- the judge's reason). The visit's own answers are never changed.
CREATE TABLE appeal_questions (
    appeal_id      TEXT NOT NULL REFERENCES appeals (id),
    ord            INTEGER NOT NULL CHECK (ord >= 0),
    question_id    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    outcome        TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'upheld', 'rejected')),
    amended_answer TEXT,
    ruling_reason  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (appeal_id, question_id)
);

-- The evidence files of an appeal's questions (photos or PDF documents):
-- the bytes each must be, verified through the same content-addressed
-- path as visits' photos (verified_blobs).
CREATE TABLE appeal_evidence (
    appeal_id    TEXT NOT NULL REFERENCES appeals (id),
    question_id  TEXT NOT NULL,
    idx          INTEGER NOT NULL CHECK (idx >= 0),
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,
    file_name    TEXT NOT NULL DEFAULT '',
    verified_at  INTEGER,
    PRIMARY KEY (appeal_id, question_id, idx)
);
CREATE INDEX appeal_evidence_sha256 ON appeal_evidence (sha256);

-- The organisation's appeal window, in days after a visit's approval
-- (0: the default, audit.DefaultAppealWindowDays).
ALTER TABLE org_settings ADD COLUMN appeal_window_days INTEGER NOT NULL DEFAULT 7
    CHECK (appeal_window_days BETWEEN 0 AND 365);

-- Why a run was approved while appeals on visits it read were open, and
-- which (a JSON list of appeal ids); set once, when it is approved.
ALTER TABLE bonus_runs ADD COLUMN override_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE bonus_runs ADD COLUMN overridden_appeals TEXT NOT NULL DEFAULT '[]';
