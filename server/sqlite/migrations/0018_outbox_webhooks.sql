-- The event outbox and webhooks (issue 16). Every change that matters
-- writes its event here in the transaction of the change; a delivery per
-- subscribed endpoint is queued beside it and webhook workers claim the
-- due deliveries under a lease (on SQLite the single writer serializes
-- the claims).
-- Events older than the retention whose deliveries are all done are pruned
-- with them (Outbox.Prune).
CREATE TABLE outbox_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL
);

CREATE TABLE webhook_endpoints (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    event_types   TEXT NOT NULL,              -- JSON list of event types
    secrets       TEXT NOT NULL,              -- JSON list of {secret, retires_ms}
    disabled      INTEGER NOT NULL DEFAULT 0,
    failing_since INTEGER,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL REFERENCES outbox_events(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    first_at    INTEGER,
    next_at     INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    last_at     INTEGER,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    UNIQUE (endpoint_id, event_id)
);

-- The claim reads pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';
-- An endpoint's delivery log, newest first.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
-- An event's deliveries, for pruning old events.
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    excerpt     TEXT NOT NULL,
    error       TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, seq);
