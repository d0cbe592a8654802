-- The event outbox and webhooks (issue 16), as SQLite's 0018: every change
-- that matters writes its event here in the transaction of the change; a
-- delivery per subscribed endpoint is queued beside it, and the webhook
-- workers of every server claim due deliveries with FOR UPDATE SKIP
-- LOCKED under a lease, so each attempt is made by one server.
-- Events older than the retention whose deliveries are all done are pruned
-- with them (Outbox.Prune).
CREATE TABLE outbox_events (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    type       text NOT NULL,
    created_at timestamptz NOT NULL,
    body       json NOT NULL
);

CREATE TABLE webhook_endpoints (
    id            text PRIMARY KEY,
    url           text NOT NULL,
    description   text NOT NULL DEFAULT '',
    event_types   jsonb NOT NULL,           -- list of event types
    secrets       jsonb NOT NULL,           -- list of {secret, retires_ms}
    disabled      boolean NOT NULL DEFAULT false,
    failing_since timestamptz,
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          text PRIMARY KEY,
    endpoint_id text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id    text NOT NULL REFERENCES outbox_events(id) ON DELETE CASCADE,
    state       text NOT NULL CHECK (state IN ('pending', 'delivered', 'failing', 'unsendable')),
    attempts    integer NOT NULL DEFAULT 0,
    first_at    timestamptz,
    next_at     timestamptz NOT NULL,
    lease_token text,
    lease_until timestamptz NOT NULL DEFAULT '-infinity',
    created_at  timestamptz NOT NULL,
    last_at     timestamptz,
    last_status integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    number      integer NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    status      integer NOT NULL,
    excerpt     text NOT NULL,
    error       text NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, seq);
