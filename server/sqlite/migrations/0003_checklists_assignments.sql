-- Checklists, their versions, and assignments.
CREATE TABLE checklists (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

-- A version's content is the canonical JSON of audit.Checklist. Once a
-- version leaves the draft state its content and hash never change; the
-- triggers below enforce that even against a buggy caller.
CREATE TABLE checklist_versions (
    checklist_id   TEXT NOT NULL REFERENCES checklists (id),
    version        INTEGER NOT NULL CHECK (version >= 1),
    name           TEXT NOT NULL,
    channel        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'published', 'retired')),
    content        BLOB NOT NULL,
    content_hash   TEXT NOT NULL DEFAULT '',
    question_count INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    published_at   INTEGER,
    retired_at     INTEGER,
    PRIMARY KEY (checklist_id, version)
);

CREATE TRIGGER checklist_versions_immutable
BEFORE UPDATE OF content, content_hash, version, checklist_id ON checklist_versions
WHEN OLD.state <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'published checklist versions are immutable');
END;

CREATE TRIGGER checklist_versions_no_unpublish
BEFORE UPDATE OF state ON checklist_versions
WHEN OLD.state <> 'draft' AND NEW.state = 'draft'
BEGIN
    SELECT RAISE(ABORT, 'published checklist versions are immutable');
END;

CREATE TRIGGER checklist_versions_no_delete
BEFORE DELETE ON checklist_versions
WHEN OLD.state <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'published checklist versions are immutable');
END;

CREATE TABLE assignments (
    id                TEXT PRIMARY KEY,
    store_id          TEXT NOT NULL REFERENCES stores (id),
    checklist_id      TEXT NOT NULL,
    checklist_version INTEGER NOT NULL,
    channel           TEXT NOT NULL,
    window_start      INTEGER NOT NULL,
    window_end        INTEGER NOT NULL CHECK (window_end > window_start),
    shopper_id        TEXT REFERENCES users (id),
    state             TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'cancelled', 'expired', 'done')),
    cancel_reason     TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    FOREIGN KEY (checklist_id, checklist_version) REFERENCES checklist_versions (checklist_id, version)
);
CREATE INDEX assignments_store ON assignments (store_id, window_start);
CREATE INDEX assignments_shopper ON assignments (shopper_id, window_start);
CREATE INDEX assignments_window ON assignments (window_start, id);
