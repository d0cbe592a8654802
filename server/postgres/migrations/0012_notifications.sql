-- E-mail notifications (issue 16 §4, docs/DESIGN.md §12), as SQLite's
-- 0022: a user's choices, and the mail outbox whose rows are written in
-- the transaction of the change they tell of and claimed by the sender
-- workers of every server with FOR UPDATE SKIP LOCKED under a lease.
CREATE TABLE notification_prefs (
    user_id   text PRIMARY KEY REFERENCES users(id),
    language  text NOT NULL DEFAULT '' CHECK (language IN ('', 'ru', 'en')),
    email_off boolean NOT NULL DEFAULT false,
    digest    boolean NOT NULL DEFAULT false
);

CREATE TABLE notifications (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users(id),
    digest      boolean NOT NULL DEFAULT false,
    items       jsonb NOT NULL,           -- list of {kind, data}
    state       text NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
    attempts    integer NOT NULL DEFAULT 0,
    first_at    timestamptz,
    next_at     timestamptz NOT NULL,
    lease_token text,
    lease_until timestamptz NOT NULL DEFAULT '-infinity',
    created_at  timestamptz NOT NULL,
    done_at     timestamptz,
    last_error  text NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE state = 'pending';
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_done ON notifications (done_at) WHERE state <> 'pending';
CREATE UNIQUE INDEX notifications_digest ON notifications (user_id, next_at) WHERE digest AND state = 'pending';

CREATE TABLE notification_marks (
    user_id text NOT NULL REFERENCES users(id),
    key     text NOT NULL,
    day     text NOT NULL,
    at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, key, day)
);

ALTER TABLE org_settings ADD COLUMN review_wait_days integer NOT NULL DEFAULT 3
    CHECK (review_wait_days BETWEEN 0 AND 60);
