-- Corrective actions (issue 16 §1): SQLite's 0020_actions.sql with
-- PostgreSQL's types: opened by a failed question when its
-- visit is approved, owned by a user, due on a day of the organisation's
-- time zone, done with a note and proof photos, verified or reopened by
-- the next approved visit of the store on the same question.

-- One action. question_text and standard_code are the opening visit's
-- checklist version's, copied so that lists need no checklist. due_date is
-- YYYY-MM-DD in the organisation's time zone; overdue_at is when the
-- overdue event was written (once). A store has one live (not verified)
-- action per checklist question.
CREATE TABLE actions (
    id                   text PRIMARY KEY,
    state                text NOT NULL CHECK (state IN ('open', 'in_progress', 'done', 'verified', 'reopened')),
    severity             text NOT NULL CHECK (severity IN ('critical', 'major')),
    store_id             text NOT NULL REFERENCES stores (id),
    checklist_id         text NOT NULL,
    question_id          text NOT NULL,
    question_text        text NOT NULL,
    standard_code        text NOT NULL DEFAULT '',
    visit_id             text NOT NULL REFERENCES visits (id),
    visited_at           timestamptz NOT NULL,
    owner_id             text REFERENCES users (id),
    due_date             text NOT NULL,
    opened_at            timestamptz NOT NULL,
    note                 text NOT NULL DEFAULT '',
    resolved_by_visit_id text NOT NULL DEFAULT '',
    updated_at           timestamptz NOT NULL,
    overdue_at           timestamptz
);
CREATE UNIQUE INDEX actions_live ON actions (store_id, checklist_id, question_id) WHERE state <> 'verified';
CREATE INDEX actions_store ON actions (store_id, due_date);
CREATE INDEX actions_owner ON actions (owner_id, due_date);
CREATE INDEX actions_visit ON actions (visit_id);
CREATE INDEX actions_overdue ON actions (due_date) WHERE overdue_at IS NULL AND state IN ('open', 'in_progress', 'reopened');

-- The photos of an action's fix, verified through the content-addressed
-- path of visits' photos (verified_blobs).
CREATE TABLE action_proof (
    action_id    text NOT NULL REFERENCES actions (id),
    idx          integer NOT NULL CHECK (idx >= 0),
    sha256       text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0),
    content_type text NOT NULL,
    file_name    text NOT NULL DEFAULT '',
    verified_at  timestamptz,
    PRIMARY KEY (action_id, idx)
);
CREATE INDEX action_proof_sha256 ON action_proof (sha256);

-- Every move of an action: who (NULL: the system), from and to which
-- state, the note, the visit that moved it, the new owner of a
-- reassignment.
CREATE TABLE action_history (
    action_id  text NOT NULL REFERENCES actions (id),
    seq        integer NOT NULL,
    at         timestamptz NOT NULL,
    actor_id   text REFERENCES users (id),
    actor_role text NOT NULL,
    from_state text NOT NULL,
    to_state   text NOT NULL,
    note       text NOT NULL DEFAULT '',
    visit_id   text NOT NULL DEFAULT '',
    owner_id   text NOT NULL DEFAULT '',
    reassigned boolean NOT NULL DEFAULT false,
    PRIMARY KEY (action_id, seq)
);

-- The days a corrective action of each severity has to be done (0: the
-- defaults, audit.DefaultActionDaysCritical and DefaultActionDaysMajor).
ALTER TABLE org_settings ADD COLUMN action_days_critical integer NOT NULL DEFAULT 3
    CHECK (action_days_critical BETWEEN 0 AND 365);
ALTER TABLE org_settings ADD COLUMN action_days_major integer NOT NULL DEFAULT 14
    CHECK (action_days_major BETWEEN 0 AND 365);
