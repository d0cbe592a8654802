-- Appeals against approved visits, their rulings, and pay that follows
-- them (issue 13): SQLite's 0017_appeals.sql with PostgreSQL's types.

-- One appeal against one visit. store_id, staff_id and visited_at are the
-- visit's, copied when it is filed, so that scopes and bonus runs find
-- appeals without reading visits. deadline is when the visit's appeal
-- window closed. At most one appeal per visit is open at a time.
CREATE TABLE appeals (
    id           text PRIMARY KEY,
    visit_id     text NOT NULL REFERENCES visits (id),
    store_id     text NOT NULL,
    staff_id     text NOT NULL DEFAULT '',
    visited_at   timestamptz NOT NULL,
    filed_by     text NOT NULL REFERENCES users (id),
    filed_role   text NOT NULL,
    filed_at     timestamptz NOT NULL,
    deadline     timestamptz NOT NULL,
    state        text NOT NULL CHECK (state IN ('open', 'closed')),
    ruled_by     text REFERENCES users (id),
    ruled_role   text NOT NULL DEFAULT '',
    ruled_at     timestamptz,
    score_before double precision,
    score_after  double precision
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (visit_id) WHERE state = 'open';
CREATE INDEX appeals_visit ON appeals (visit_id, ruled_at);
CREATE INDEX appeals_state ON appeals (state, deadline);
CREATE INDEX appeals_visited ON appeals (visited_at);

-- The questions of an appeal, in the order filed: the filer's reason, and
-- the ruling (outcome, amended answer as audit.Answer JSON when upheld,
-- the judge's reason). The visit's own answers are never changed.
CREATE TABLE appeal_questions (
    appeal_id      text NOT NULL REFERENCES appeals (id),
    ord            integer NOT NULL CHECK (ord >= 0),
    question_id    text NOT NULL,
    reason         text NOT NULL,
    outcome        text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'upheld', 'rejected')),
    amended_answer jsonb,
    ruling_reason  text NOT NULL DEFAULT '',
    PRIMARY KEY (appeal_id, question_id)
);

-- The evidence files of an appeal's questions (photos or PDF documents),
-- verified through the same content-addressed path as visits' photos.
CREATE TABLE appeal_evidence (
    appeal_id    text NOT NULL REFERENCES appeals (id),
    question_id  text NOT NULL,
    idx          integer NOT NULL CHECK (idx >= 0),
    sha256       text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0),
    content_type text NOT NULL,
    file_name    text NOT NULL DEFAULT '',
    verified_at  timestamptz,
    PRIMARY KEY (appeal_id, question_id, idx)
);
CREATE INDEX appeal_evidence_sha256 ON appeal_evidence (sha256);

-- The organisation's appeal window, in days after a visit's approval
-- (0: the default, audit.DefaultAppealWindowDays).
ALTER TABLE org_settings ADD COLUMN appeal_window_days integer NOT NULL DEFAULT 7
    CHECK (appeal_window_days BETWEEN 0 AND 365);

-- Why a run was approved while appeals on visits it read were open, and
-- which; set once, when it is approved.
ALTER TABLE bonus_runs ADD COLUMN override_reason text NOT NULL DEFAULT '';
ALTER TABLE bonus_runs ADD COLUMN overridden_appeals jsonb NOT NULL DEFAULT '[]';
