-- Integration tokens (issue 16 §5): long-lived, scoped API tokens of
-- service accounts. Only the hex SHA-256 of a token is kept (hash); the
-- token is shown once, when an admin makes it.
CREATE TABLE integration_tokens (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    scopes       jsonb NOT NULL,
    hash         text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   text NOT NULL DEFAULT ''
);

-- The incremental export's position of a visit, (export_xid,
-- export_seq): taken when it is stored and again whenever its state or
-- score changes. Like the pull feed's (sync_feed, server/postgres/feed.go)
-- an export reads only positions whose xid is below the oldest
-- transaction in flight, so a change committed late is never behind a
-- cursor given out while it ran.
ALTER TABLE visits ADD COLUMN export_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE SEQUENCE visits_export_seq;
ALTER TABLE visits ADD COLUMN export_seq bigint NOT NULL DEFAULT nextval('visits_export_seq');
ALTER SEQUENCE visits_export_seq OWNED BY visits.export_seq;
CREATE INDEX visits_export ON visits (export_xid, export_seq);

CREATE FUNCTION visits_export_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.score::text IS DISTINCT FROM OLD.score::text THEN
        NEW.export_xid := pg_current_xact_id();
        NEW.export_seq := nextval('visits_export_seq');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER visits_export_position BEFORE UPDATE OF state, score ON visits
    FOR EACH ROW EXECUTE FUNCTION visits_export_position();
