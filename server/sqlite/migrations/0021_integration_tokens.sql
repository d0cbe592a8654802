-- Integration tokens (issue 16 §5): long-lived, scoped API tokens of
-- service accounts. Only the hex SHA-256 of a token is kept (hash); the
-- token is shown once, when an admin makes it. scopes is a JSON list.
CREATE TABLE integration_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    revoked_by   TEXT NOT NULL DEFAULT ''
);

-- The incremental export's position of a visit: taken when it is stored
-- and taken again whenever its state or score changes, so an export
-- after a cursor returns every visit stored or changed since. The single
-- writer makes the next number (the largest plus one) commit order.
ALTER TABLE visits ADD COLUMN export_seq INTEGER NOT NULL DEFAULT 0;
UPDATE visits SET export_seq = rowid;
CREATE INDEX visits_export ON visits (export_seq);
CREATE TRIGGER visits_export_stored AFTER INSERT ON visits
BEGIN
    UPDATE visits SET export_seq = (SELECT coalesce(max(export_seq), 0) + 1 FROM visits) WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER visits_export_changed AFTER UPDATE OF state, score ON visits
WHEN NEW.state IS NOT OLD.state OR NEW.score IS NOT OLD.score
BEGIN
    UPDATE visits SET export_seq = (SELECT max(export_seq) + 1 FROM visits) WHERE rowid = NEW.rowid;
END;
