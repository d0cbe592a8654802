-- Sync (docs/DESIGN.md §3) and photo evidence (§4): visits as devices push
-- them, their photo slots, verified blobs, the per-device sequence, the
-- stored result of every mutation for replays, and the pull feed.

-- The feed epoch is made once, with the database. A cursor of another epoch
-- (a restored or replaced database) means a full reset on the device.
CREATE TABLE sync_meta (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    feed_epoch TEXT NOT NULL
);
INSERT INTO sync_meta (id, feed_epoch) VALUES (1, lower(hex(randomblob(16))));

-- A visit's id is the device's UUID; the primary key is what makes a
-- second insert of the same visit fail. body is the domain visit as JSON,
-- digest its protocol.VisitDigest: the same id with another digest is
-- different content and is refused, never overwritten. Times the device
-- claims (started, finished, device_time) are kept apart from the server's
-- receipt time; clock_offset_ms is receive time minus the device's clock
-- when it sent the push.
CREATE TABLE visits (
    id                TEXT PRIMARY KEY,
    shopper_id        TEXT NOT NULL REFERENCES users (id),
    store_id          TEXT NOT NULL REFERENCES stores (id),
    assignment_id     TEXT REFERENCES assignments (id),
    checklist_id      TEXT NOT NULL,
    checklist_version INTEGER NOT NULL,
    content_hash      TEXT NOT NULL,
    channel           TEXT NOT NULL,
    body              BLOB NOT NULL,
    digest            TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('submitted', 'complete', 'in_review', 'approved', 'returned', 'published', 'superseded')),
    score_percent     REAL,
    score             BLOB NOT NULL,
    flags             TEXT NOT NULL DEFAULT '[]',
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    device_time       INTEGER,
    clock_offset_ms   INTEGER,
    received_at       INTEGER NOT NULL,
    completed_at      INTEGER,
    device_id         TEXT NOT NULL,
    session_id        TEXT NOT NULL,
    mutation_id       TEXT NOT NULL,
    corrects_visit_id TEXT REFERENCES visits (id),
    FOREIGN KEY (checklist_id, checklist_version) REFERENCES checklist_versions (checklist_id, version)
);
CREATE INDEX visits_shopper ON visits (shopper_id, received_at);
CREATE INDEX visits_store ON visits (store_id, received_at);
CREATE INDEX visits_assignment ON visits (assignment_id);
CREATE UNIQUE INDEX visits_one_correction ON visits (corrects_visit_id) WHERE corrects_visit_id IS NOT NULL;

-- One row per photo slot of a visit: which bytes it must be. verified_at is
-- set once those bytes are stored and verified (re-hashed by the server).
CREATE TABLE visit_photos (
    visit_id     TEXT NOT NULL REFERENCES visits (id),
    question_id  TEXT NOT NULL,
    idx          INTEGER NOT NULL CHECK (idx >= 0),
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,
    captured_at  INTEGER,
    verified_at  INTEGER,
    PRIMARY KEY (visit_id, question_id, idx)
);
CREATE INDEX visit_photos_sha256 ON visit_photos (sha256);

-- Content-addressed evidence the server has verified: the same bytes in
-- two slots or two visits are uploaded and verified once.
CREATE TABLE verified_blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    verified_at  INTEGER NOT NULL
);

-- The last mutation seq applied per (user, device), advanced in the same
-- transaction as the data; and the device's clock offset at its last push.
CREATE TABLE device_seqs (
    user_id         TEXT NOT NULL REFERENCES users (id),
    device_id       TEXT NOT NULL,
    last_seq        INTEGER NOT NULL CHECK (last_seq >= 0),
    clock_offset_ms INTEGER,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- The result of every applied seq, answered again to a replay. digest is
-- the mutation's content digest: the same seq with another digest is
-- refused. mutation_id is NULL only for a seq that presented an id
-- already used by another seq (that item was refused).
CREATE TABLE sync_mutations (
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    mutation_id TEXT UNIQUE,
    digest      TEXT NOT NULL,
    result      BLOB NOT NULL,
    device_time INTEGER,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id, seq)
);

-- The pull feed: one row per (audience, kind, entity), moved to a new seq
-- whenever the entity changes (INSERT OR REPLACE), so that the feed
-- compacts and a device reading after its cursor sees each change once.
-- audience is a shopper's user id, or '' for every shopper. Pull
-- materializes each row from the entity's current state.
CREATE TABLE sync_feed (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    audience TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('assignment', 'checklist', 'visit')),
    entity   TEXT NOT NULL,
    UNIQUE (audience, kind, entity)
);
CREATE INDEX sync_feed_audience ON sync_feed (audience, seq);

-- A database older than this migration already has assignments and
-- published checklists: put them in the feed once, oldest change first.
INSERT INTO sync_feed (audience, kind, entity)
    SELECT shopper_id, 'assignment', id FROM assignments WHERE shopper_id IS NOT NULL ORDER BY updated_at, id;
INSERT INTO sync_feed (audience, kind, entity)
    SELECT DISTINCT '', 'checklist', checklist_id FROM checklist_versions
    WHERE state <> 'draft' AND json_extract(CAST(content AS TEXT), '$.allow_unplanned') = 1 ORDER BY checklist_id;
