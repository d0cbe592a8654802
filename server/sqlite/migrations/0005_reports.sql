-- Reports and bonuses (issue 6): visits normalized for reports, bonus
-- policies, base pay, and bonus runs.

-- One row per stored visit, written with its answer rows: the visit as
-- reports read it (staff, store, the time the shopper claims it started,
-- its overall points after critical caps). A visit without a row here has
-- not been indexed yet; reports index what is missing before they read.
CREATE TABLE report_visits (
    visit_id        TEXT PRIMARY KEY REFERENCES visits (id),
    store_id        TEXT NOT NULL,
    staff_id        TEXT NOT NULL DEFAULT '',
    visited_at      INTEGER NOT NULL,
    points          REAL NOT NULL,
    max_points      REAL NOT NULL,
    critical_failed INTEGER NOT NULL CHECK (critical_failed IN (0, 1)),
    answers         INTEGER NOT NULL CHECK (answers >= 0)
);
CREATE INDEX report_visits_time ON report_visits (visited_at, visit_id);
-- Reports join a visit's review state by id for every visit they read;
-- this index answers that without reading the visit's large row.
CREATE INDEX visits_id_state ON visits (id, state);

-- One row per question of a visit, in checklist order (ord), from the
-- visit's score: points and max_points after question weights (max_points 0
-- when the question was not scored: N/A, unanswered, text, photo),
-- category from the checklist's standards, critical_failure when a
-- critical question failed, nps for a 0-10 recommendation answer, answer
-- as the shopper gave it (for display). Clustered by visit, so a visit's
-- answers are read together.
CREATE TABLE visit_answers (
    visit_id         TEXT NOT NULL REFERENCES visits (id),
    ord              INTEGER NOT NULL CHECK (ord >= 0),
    question_id      TEXT NOT NULL,
    section_id       TEXT NOT NULL,
    standard_code    TEXT NOT NULL DEFAULT '',
    category         TEXT NOT NULL DEFAULT '',
    points           REAL NOT NULL,
    max_points       REAL NOT NULL,
    not_applicable   INTEGER NOT NULL CHECK (not_applicable IN (0, 1)),
    failed           INTEGER NOT NULL CHECK (failed IN (0, 1)),
    critical         INTEGER NOT NULL CHECK (critical IN (0, 1)),
    critical_failure INTEGER NOT NULL CHECK (critical_failure IN (0, 1)),
    nps              INTEGER CHECK (nps BETWEEN 0 AND 10),
    answer           TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL DEFAULT '',
    staff_id         TEXT NOT NULL DEFAULT '',
    store_id         TEXT NOT NULL,
    visited_at       INTEGER NOT NULL,
    PRIMARY KEY (visit_id, ord)
) WITHOUT ROWID;

-- Bonus policies, versioned: body is the reports.Policy as JSON. A stored
-- version never changes; a changed policy is the next version.
CREATE TABLE bonus_policies (
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    name       TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TRIGGER bonus_policies_frozen BEFORE UPDATE ON bonus_policies
BEGIN
    SELECT RAISE(ABORT, 'a bonus policy version never changes');
END;

-- Base pay (or target variable pay, by kind) per employee, in minor units,
-- from a month on: a run for a month uses the latest row at or before it.
CREATE TABLE base_pay (
    staff_id        TEXT NOT NULL REFERENCES staff (id),
    kind            TEXT NOT NULL CHECK (kind IN ('base_pay', 'target_variable')),
    effective_month TEXT NOT NULL CHECK (effective_month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
    source          TEXT NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (staff_id, kind, effective_month)
);

-- Bonus runs: result is the reports.Run as JSON, byte-identical for the
-- same inputs. A draft run may be approved, which locks it: at most one
-- approved run per policy and month. A later run of the same policy and
-- month stores its difference from the locked run (diff, the
-- reports.Change list as JSON); approving it supersedes the locked one.
CREATE TABLE bonus_runs (
    id               TEXT PRIMARY KEY,
    policy_id        TEXT NOT NULL,
    policy_version   INTEGER NOT NULL,
    period           TEXT NOT NULL,
    inputs_hash      TEXT NOT NULL,
    result           BLOB NOT NULL,
    missing_base_pay TEXT NOT NULL DEFAULT '[]',
    compared_run_id  TEXT REFERENCES bonus_runs (id),
    diff             BLOB NOT NULL DEFAULT '[]',
    state            TEXT NOT NULL CHECK (state IN ('draft', 'approved', 'superseded')),
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    approved_at      INTEGER,
    approved_by      TEXT,
    FOREIGN KEY (policy_id, policy_version) REFERENCES bonus_policies (id, version)
);
CREATE INDEX bonus_runs_period ON bonus_runs (policy_id, period, created_at);
CREATE UNIQUE INDEX bonus_runs_one_approved ON bonus_runs (policy_id, period) WHERE state = 'approved';

-- A run's figures never change, and a locked run only ever becomes
-- superseded.
CREATE TRIGGER bonus_runs_figures_frozen
BEFORE UPDATE OF id, policy_id, policy_version, period, inputs_hash, result, missing_base_pay,
    compared_run_id, diff, created_at, created_by ON bonus_runs
BEGIN
    SELECT RAISE(ABORT, 'the figures of a bonus run never change');
END;
CREATE TRIGGER bonus_runs_locked
BEFORE UPDATE OF state, approved_at, approved_by ON bonus_runs
WHEN OLD.state = 'superseded'
    OR (OLD.state = 'approved' AND (NEW.state <> 'superseded'
        OR NEW.approved_at IS NOT OLD.approved_at OR NEW.approved_by IS NOT OLD.approved_by))
BEGIN
    SELECT RAISE(ABORT, 'an approved bonus run is locked');
END;
