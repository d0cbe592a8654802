-- Corrective actions (issue 16 §1): opened by a failed question when its
-- visit is approved, owned by a user, due on a day of the organisation's
-- time zone, done with a note and proof photos, verified or reopened by
-- the next approved visit of the store on the same question.

-- One action. question_text and standard_code are the opening visit's
-- checklist version's, copied so that lists need no checklist. due_date is
-- YYYY-MM-DD in the organisation's time zone; overdue_at is when the
-- overdue event was written (once). A store has one live (not verified)
-- action per checklist question.
CREATE TABLE actions (
    id                   TEXT PRIMARY KEY,
    state                TEXT NOT NULL CHECK (state IN ('open', 'in_progress', 'done', 'verified', 'reopened')),
    severity             TEXT NOT NULL CHECK (severity IN ('critical', 'major')),
    store_id             TEXT NOT NULL REFERENCES stores (id),
    checklist_id         TEXT NOT NULL,
    question_id          TEXT NOT NULL,
    question_text        TEXT NOT NULL,
    standard_code        TEXT NOT NULL DEFAULT '',
    visit_id             TEXT NOT NULL REFERENCES visits (id),
    visited_at           INTEGER NOT NULL,
    owner_id             TEXT REFERENCES users (id),
    due_date             TEXT NOT NULL,
    opened_at            INTEGER NOT NULL,
    note                 TEXT NOT NULL DEFAULT '',
    resolved_by_visit_id TEXT NOT NULL DEFAULT '',
    updated_at           INTEGER NOT NULL,
    overdue_at           INTEGER
);
CREATE UNIQUE INDEX actions_live ON actions (store_id, checklist_id, question_id) WHERE state <> 'verified';
CREATE INDEX actions_store ON actions (store_id, due_date);
CREATE INDEX actions_owner ON actions (owner_id, due_date);
CREATE INDEX actions_visit ON actions (visit_id);
CREATE INDEX actions_overdue ON actions (due_date) WHERE overdue_at IS NULL AND state IN ('open', 'in_progress', 'reopened');

-- The photos of an action's fix, verified through the content-addressed
-- path of visits' photos (verified_blobs).
CREATE TABLE action_proof (
    action_id    TEXT NOT NULL REFERENCES actions (id),
    idx          INTEGER NOT NULL CHECK (idx >= 0),
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,
    file_name    TEXT NOT NULL DEFAULT '',
    verified_at  INTEGER,
    PRIMARY KEY (action_id, idx)
);
CREATE INDEX action_proof_sha256 ON action_proof (sha256);

-- Every move of an action: who (NULL: the system), from and to which
-- state, the note, the visit that moved it, the new owner of a
-- reassignment.
CREATE TABLE action_history (
    action_id  TEXT NOT NULL REFERENCES actions (id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    actor_id   TEXT REFERENCES users (id),
    actor_role TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    visit_id   TEXT NOT NULL DEFAULT '',
    owner_id   TEXT NOT NULL DEFAULT '',
    reassigned INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (action_id, seq)
);

-- The days a corrective action of each severity has to be done (0: the
-- defaults, audit.DefaultActionDaysCritical and DefaultActionDaysMajor).
ALTER TABLE org_settings ADD COLUMN action_days_critical INTEGER NOT NULL DEFAULT 3
    CHECK (action_days_critical BETWEEN 0 AND 365);
ALTER TABLE org_settings ADD COLUMN action_days_major INTEGER NOT NULL DEFAULT 14
    CHECK (action_days_major BETWEEN 0 AND 365);
