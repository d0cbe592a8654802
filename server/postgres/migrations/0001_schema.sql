-- The schema of server/sqlite's migrations 0001-0009, on PostgreSQL, in
-- one step: the same tables, columns, constraints and indexes, with
-- PostgreSQL's types. Instants are timestamptz (storage writes them to the
-- millisecond, as SQLite keeps them, so both backends return the same
-- times); durations are bigint milliseconds; flags are boolean; JSON
-- documents whose bytes matter (hashed, digested or compared byte for
-- byte: checklist content, visit body and score, policy body, run result
-- and diff) are json, which keeps the text as written; JSON lists nobody
-- hashes are jsonb. Dates of the organisation's calendar stay text
-- (YYYY-MM-DD, YYYY-MM), as the code compares them.

-- E-mail addresses are unique and found in any case, as SQLite's NOCASE
-- does. Equality and uniqueness follow this collation; a substring search
-- over a column that has it must compare under another (COLLATE "C" or
-- lower(col::text)), which PostgreSQL requires of nondeterministic
-- collations.
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- Users, their device sessions, refresh tokens and the security log.
CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text COLLATE nocase NOT NULL UNIQUE,
    display_name  text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('shopper', 'manager', 'hr', 'admin')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);
CREATE INDEX users_role ON users (role, email);

-- A session is one device's sign-in; all its refresh tokens form one family.
CREATE TABLE sessions (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id),
    device_id     text NOT NULL,
    device_name   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_created ON sessions (created_at, id);

-- Refresh tokens are stored as SHA-256 hashes. A used token keeps its row so
-- that presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash       bytea PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE security_events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    kind       text NOT NULL,
    user_id    text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    peer       text NOT NULL DEFAULT '',
    detail     text NOT NULL DEFAULT ''
);
CREATE INDEX security_events_kind ON security_events (kind, seq);
CREATE INDEX security_events_user ON security_events (user_id, seq);

-- The organisation's service points and staff.
CREATE TABLE stores (
    id              text PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    name            text NOT NULL,
    address         text NOT NULL DEFAULT '',
    region          text NOT NULL DEFAULT '',
    latitude        double precision NOT NULL DEFAULT 0,
    longitude       double precision NOT NULL DEFAULT 0,
    geofence_meters double precision NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    deactivated_at  timestamptz
);

CREATE TABLE store_managers (
    store_id text NOT NULL REFERENCES stores (id),
    user_id  text NOT NULL REFERENCES users (id),
    PRIMARY KEY (store_id, user_id)
);
CREATE INDEX store_managers_user ON store_managers (user_id);

CREATE TABLE staff (
    id              text PRIMARY KEY,
    employee_number text NOT NULL UNIQUE,
    name            text NOT NULL,
    position        text NOT NULL DEFAULT '',
    department      text NOT NULL DEFAULT '',
    back_office     boolean NOT NULL DEFAULT false,
    store_id        text REFERENCES stores (id),
    created_at      timestamptz NOT NULL,
    deactivated_at  timestamptz,
    -- The first day at the current store; '' when the employee always was.
    store_since     text NOT NULL DEFAULT ''
);
CREATE INDEX staff_store ON staff (store_id);
CREATE INDEX staff_store_number ON staff (store_id, employee_number);

-- A transfer moves an employee to another store from effective_date on;
-- applied_at is set when staff.store_id took the new store (at once for a
-- date today or earlier, on its day otherwise).
CREATE TABLE staff_transfers (
    id             text PRIMARY KEY,
    staff_id       text NOT NULL REFERENCES staff (id),
    from_store_id  text REFERENCES stores (id),
    to_store_id    text NOT NULL REFERENCES stores (id),
    effective_date text NOT NULL,
    created_by     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    applied_at     timestamptz
);
CREATE INDEX staff_transfers_staff ON staff_transfers (staff_id, created_at);
CREATE INDEX staff_transfers_pending ON staff_transfers (effective_date) WHERE applied_at IS NULL;

-- One row: the organisation's settings. updated_at is NULL until someone
-- changes them.
CREATE TABLE org_settings (
    id         integer PRIMARY KEY CHECK (id = 1),
    time_zone  text NOT NULL,
    locale     text NOT NULL,
    currency   text NOT NULL,
    updated_at timestamptz,
    updated_by text NOT NULL DEFAULT ''
);
INSERT INTO org_settings (id, time_zone, locale, currency) VALUES (1, 'Europe/Moscow', 'ru-RU', 'RUB');

-- Checklists, their versions, and assignments.
CREATE TABLE checklists (
    id         text PRIMARY KEY,
    created_at timestamptz NOT NULL
);

-- A version's content is the canonical JSON of audit.Checklist. Once a
-- version leaves the draft state its content and hash never change; the
-- trigger below enforces that even against a buggy caller.
CREATE TABLE checklist_versions (
    checklist_id   text NOT NULL REFERENCES checklists (id),
    version        integer NOT NULL CHECK (version >= 1),
    name           text NOT NULL,
    channel        text NOT NULL,
    state          text NOT NULL CHECK (state IN ('draft', 'published', 'retired')),
    content        json NOT NULL,
    content_hash   text NOT NULL DEFAULT '',
    question_count integer NOT NULL,
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL DEFAULT '',
    published_at   timestamptz,
    retired_at     timestamptz,
    PRIMARY KEY (checklist_id, version)
);

CREATE FUNCTION checklist_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state <> 'draft' AND (TG_OP = 'DELETE'
        OR NEW.state = 'draft'
        OR NEW.content::text IS DISTINCT FROM OLD.content::text
        OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
        OR NEW.version IS DISTINCT FROM OLD.version
        OR NEW.checklist_id IS DISTINCT FROM OLD.checklist_id) THEN
        RAISE EXCEPTION 'published checklist versions are immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER checklist_versions_immutable BEFORE UPDATE OR DELETE ON checklist_versions
    FOR EACH ROW EXECUTE FUNCTION checklist_versions_immutable();

CREATE TABLE assignments (
    id                text PRIMARY KEY,
    store_id          text NOT NULL REFERENCES stores (id),
    checklist_id      text NOT NULL,
    checklist_version integer NOT NULL,
    channel           text NOT NULL,
    window_start      timestamptz NOT NULL,
    window_end        timestamptz NOT NULL CHECK (window_end > window_start),
    shopper_id        text REFERENCES users (id),
    state             text NOT NULL CHECK (state IN ('open', 'accepted', 'cancelled', 'expired', 'done')),
    cancel_reason     text NOT NULL DEFAULT '',
    created_by        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    FOREIGN KEY (checklist_id, checklist_version) REFERENCES checklist_versions (checklist_id, version)
);
CREATE INDEX assignments_store ON assignments (store_id, window_start);
CREATE INDEX assignments_shopper ON assignments (shopper_id, window_start);
CREATE INDEX assignments_window ON assignments (window_start, id);
CREATE INDEX assignments_checklist ON assignments (checklist_id, window_start);
-- Assignment expiry finds the open and accepted assignments whose window
-- has ended: only those that can still expire, by window end.
CREATE INDEX assignments_expiry ON assignments (window_end) WHERE state IN ('open', 'accepted');

-- Sync (docs/DESIGN.md §3) and photo evidence (§4).

-- The feed epoch is made once, with the database. A cursor of another epoch
-- (a restored or replaced database) means a full reset on the device.
CREATE TABLE sync_meta (
    id         integer PRIMARY KEY CHECK (id = 1),
    feed_epoch text NOT NULL
);
INSERT INTO sync_meta (id, feed_epoch) VALUES (1, replace(gen_random_uuid()::text, '-', ''));

-- A visit's id is the device's UUID; the primary key is what makes a
-- second insert of the same visit fail. body is the domain visit as JSON,
-- digest its protocol.VisitDigest. Times the device claims (started,
-- finished, device_time) are kept apart from the server's receipt time;
-- clock_offset_ms is receive time minus the device's clock when it sent
-- the push. revision counts the changes of state or score (the trigger
-- below), for the stamps of bonus runs. seq numbers the visits in insert
-- order and xid is the inserting transaction, for report indexing's
-- watermark, which must be bounded like the feed (see sync_feed).
CREATE TABLE visits (
    id                text PRIMARY KEY,
    seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    xid               xid8 NOT NULL DEFAULT pg_current_xact_id(),
    shopper_id        text NOT NULL REFERENCES users (id),
    store_id          text NOT NULL REFERENCES stores (id),
    assignment_id     text REFERENCES assignments (id),
    checklist_id      text NOT NULL,
    checklist_version integer NOT NULL,
    content_hash      text NOT NULL,
    channel           text NOT NULL,
    body              json NOT NULL,
    digest            text NOT NULL,
    state             text NOT NULL CHECK (state IN ('submitted', 'complete', 'in_review', 'approved', 'returned', 'published', 'superseded')),
    score_percent     double precision,
    score             json NOT NULL,
    flags             jsonb NOT NULL DEFAULT '[]',
    proof_flags       jsonb NOT NULL DEFAULT '[]',
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz,
    device_time       timestamptz,
    clock_offset_ms   bigint,
    received_at       timestamptz NOT NULL,
    completed_at      timestamptz,
    device_id         text NOT NULL,
    session_id        text NOT NULL,
    mutation_id       text NOT NULL,
    corrects_visit_id text REFERENCES visits (id),
    revision          bigint NOT NULL DEFAULT 0,
    FOREIGN KEY (checklist_id, checklist_version) REFERENCES checklist_versions (checklist_id, version)
);
CREATE INDEX visits_shopper ON visits (shopper_id, received_at);
CREATE INDEX visits_store ON visits (store_id, received_at);
CREATE INDEX visits_assignment ON visits (assignment_id);
CREATE UNIQUE INDEX visits_one_correction ON visits (corrects_visit_id) WHERE corrects_visit_id IS NOT NULL;
CREATE INDEX visits_id_state ON visits (id, state);
CREATE INDEX visits_state ON visits (state, received_at);
CREATE INDEX visits_received ON visits (received_at, id);
CREATE INDEX visits_started ON visits (started_at, id);
CREATE INDEX visits_checklist ON visits (checklist_id, received_at);
CREATE INDEX visits_xid ON visits (xid, seq);

CREATE FUNCTION visits_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.score::text IS DISTINCT FROM OLD.score::text THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER visits_revision BEFORE UPDATE OF state, score ON visits
    FOR EACH ROW EXECUTE FUNCTION visits_revision();

-- One row per photo slot of a visit: which bytes it must be. verified_at is
-- set once those bytes are stored and verified (re-hashed by the server).
CREATE TABLE visit_photos (
    visit_id     text NOT NULL REFERENCES visits (id),
    question_id  text NOT NULL,
    idx          integer NOT NULL CHECK (idx >= 0),
    sha256       text NOT NULL,
    size         bigint NOT NULL CHECK (size > 0),
    content_type text NOT NULL,
    captured_at  timestamptz,
    verified_at  timestamptz,
    PRIMARY KEY (visit_id, question_id, idx)
);
CREATE INDEX visit_photos_sha256 ON visit_photos (sha256);

-- Content-addressed evidence the server has verified, with what it read
-- from the photo's EXIF.
CREATE TABLE verified_blobs (
    sha256         text PRIMARY KEY,
    size           bigint NOT NULL,
    content_type   text NOT NULL,
    verified_at    timestamptz NOT NULL,
    exif_time      timestamptz,
    exif_latitude  double precision,
    exif_longitude double precision
);

-- The last mutation seq applied per (user, device), advanced in the same
-- transaction as the data (the row lock serializes one device's pushes
-- across servers); and the device's clock offset at its last push.
CREATE TABLE device_seqs (
    user_id         text NOT NULL REFERENCES users (id),
    device_id       text NOT NULL,
    last_seq        bigint NOT NULL CHECK (last_seq >= 0),
    clock_offset_ms bigint,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- The result of every applied seq, answered again to a replay. mutation_id
-- is NULL only for a seq that presented an id already used by another seq.
CREATE TABLE sync_mutations (
    user_id     text NOT NULL,
    device_id   text NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 1),
    mutation_id text UNIQUE,
    digest      text NOT NULL,
    result      bytea NOT NULL,
    device_time timestamptz,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, device_id, seq)
);

-- The pull feed: one row per (audience, kind, entity), moved to a new
-- position whenever the entity changes, so that the feed compacts and a
-- device reading after its cursor sees each change once. audience is a
-- shopper's user id, or '' for every shopper. A position is (xid, id):
-- the writing transaction's id and a number from sync_feed_id. A pull
-- reads only rows whose xid is below the oldest transaction still in
-- flight, so it never passes a row that commits later (ARCHITECTURE.md,
-- "The pull feed on PostgreSQL").
CREATE SEQUENCE sync_feed_id AS bigint;
CREATE TABLE sync_feed (
    id       bigint NOT NULL DEFAULT nextval('sync_feed_id') PRIMARY KEY,
    xid      xid8 NOT NULL DEFAULT pg_current_xact_id(),
    audience text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('assignment', 'checklist', 'visit')),
    entity   text NOT NULL,
    UNIQUE (audience, kind, entity)
);
ALTER SEQUENCE sync_feed_id OWNED BY sync_feed.id;
CREATE INDEX sync_feed_audience ON sync_feed (audience, xid, id);
CREATE INDEX sync_feed_position ON sync_feed (xid, id);

-- Reports and bonuses: visits normalized for reports, bonus policies, base
-- pay, and bonus runs.

-- One row per stored visit, written with its answer rows.
CREATE TABLE report_visits (
    visit_id        text PRIMARY KEY REFERENCES visits (id),
    store_id        text NOT NULL,
    staff_id        text NOT NULL DEFAULT '',
    visited_at      timestamptz NOT NULL,
    points          double precision NOT NULL,
    max_points      double precision NOT NULL,
    critical_failed boolean NOT NULL,
    answers         integer NOT NULL CHECK (answers >= 0)
);
CREATE INDEX report_visits_time ON report_visits (visited_at, visit_id);
CREATE INDEX report_visits_staff ON report_visits (staff_id, visited_at);

-- One row per question of a visit, in checklist order (ord); value is the
-- answer as a number and unit its unit, for the Answers sheet.
CREATE TABLE visit_answers (
    visit_id         text NOT NULL REFERENCES visits (id),
    ord              integer NOT NULL CHECK (ord >= 0),
    question_id      text NOT NULL,
    section_id       text NOT NULL,
    standard_code    text NOT NULL DEFAULT '',
    category         text NOT NULL DEFAULT '',
    points           double precision NOT NULL,
    max_points       double precision NOT NULL,
    not_applicable   boolean NOT NULL,
    failed           boolean NOT NULL,
    critical         boolean NOT NULL,
    critical_failure boolean NOT NULL,
    nps              integer CHECK (nps BETWEEN 0 AND 10),
    answer           text NOT NULL DEFAULT '',
    note             text NOT NULL DEFAULT '',
    staff_id         text NOT NULL DEFAULT '',
    store_id         text NOT NULL,
    visited_at       timestamptz NOT NULL,
    value            double precision,
    unit             text NOT NULL DEFAULT '',
    PRIMARY KEY (visit_id, ord)
);

-- How far report indexing has checked the visits for report rows: every
-- visit at or before position (through_xid, through) in visits' (xid,
-- seq) order has them; through_id names the visit there. One row, or none
-- before the first check.
CREATE TABLE report_watermark (
    id          integer PRIMARY KEY CHECK (id = 1),
    through_xid xid8 NOT NULL,
    through     bigint NOT NULL,
    through_id  text NOT NULL
);

-- Every change of a visit's state, with who, when and why.
CREATE TABLE visit_transitions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id   text NOT NULL REFERENCES visits (id),
    from_state text NOT NULL DEFAULT '',
    to_state   text NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    actor_role text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    reason     text NOT NULL DEFAULT '',
    comments   jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX visit_transitions_visit ON visit_transitions (visit_id, id);

-- Bonus policies, versioned: body is the reports.Policy as JSON. A stored
-- version never changes; a changed policy is the next version.
CREATE TABLE bonus_policies (
    id         text NOT NULL,
    version    integer NOT NULL CHECK (version >= 1),
    name       text NOT NULL,
    body       json NOT NULL,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE FUNCTION bonus_policies_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a bonus policy version never changes' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER bonus_policies_frozen BEFORE UPDATE ON bonus_policies
    FOR EACH ROW EXECUTE FUNCTION bonus_policies_frozen();

-- Base pay (or target variable pay, by kind) per employee, in minor units,
-- from a month on. revision comes from one counter for the whole table
-- when a row is written, so that rewriting a row is seen by a run's stamp.
CREATE TABLE base_pay (
    staff_id        text NOT NULL REFERENCES staff (id),
    kind            text NOT NULL CHECK (kind IN ('base_pay', 'target_variable')),
    effective_month text NOT NULL CHECK (effective_month ~ '^[0-9]{4}-[0-1][0-9]$'),
    amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
    source          text NOT NULL,
    updated_at      timestamptz NOT NULL,
    updated_by      text NOT NULL,
    revision        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (staff_id, kind, effective_month)
);

-- Bonus runs: result is the reports.Run as JSON, byte-identical for the
-- same inputs. At most one approved run per policy and month; a later run
-- stores its difference from the locked one (diff). inputs_stamp is the
-- stamp of what the run read (hex SHA-256).
CREATE TABLE bonus_runs (
    id               text PRIMARY KEY,
    policy_id        text NOT NULL,
    policy_version   integer NOT NULL,
    period           text NOT NULL,
    inputs_hash      text NOT NULL,
    inputs_stamp     text NOT NULL DEFAULT '',
    result           json NOT NULL,
    missing_base_pay jsonb NOT NULL DEFAULT '[]',
    compared_run_id  text REFERENCES bonus_runs (id),
    diff             json NOT NULL DEFAULT '[]',
    state            text NOT NULL CHECK (state IN ('draft', 'approved', 'superseded')),
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL,
    approved_at      timestamptz,
    approved_by      text,
    FOREIGN KEY (policy_id, policy_version) REFERENCES bonus_policies (id, version)
);
CREATE INDEX bonus_runs_period ON bonus_runs (policy_id, period, created_at);
CREATE UNIQUE INDEX bonus_runs_one_approved ON bonus_runs (policy_id, period) WHERE state = 'approved';
CREATE INDEX bonus_runs_reuse ON bonus_runs (policy_id, period, policy_version, inputs_hash);

-- A run's figures never change, and a locked run only ever becomes
-- superseded.
CREATE FUNCTION bonus_runs_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.policy_id, NEW.policy_version, NEW.period, NEW.inputs_hash, NEW.inputs_stamp,
        NEW.result::text, NEW.missing_base_pay, NEW.compared_run_id, NEW.diff::text, NEW.created_at, NEW.created_by)
       IS DISTINCT FROM
       (OLD.id, OLD.policy_id, OLD.policy_version, OLD.period, OLD.inputs_hash, OLD.inputs_stamp,
        OLD.result::text, OLD.missing_base_pay, OLD.compared_run_id, OLD.diff::text, OLD.created_at, OLD.created_by) THEN
        RAISE EXCEPTION 'the figures of a bonus run never change' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.state = 'superseded'
       OR (OLD.state = 'approved' AND (NEW.state <> 'superseded'
           OR NEW.approved_at IS DISTINCT FROM OLD.approved_at OR NEW.approved_by IS DISTINCT FROM OLD.approved_by)) THEN
        RAISE EXCEPTION 'an approved bonus run is locked' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bonus_runs_frozen BEFORE UPDATE ON bonus_runs
    FOR EACH ROW EXECUTE FUNCTION bonus_runs_frozen();
