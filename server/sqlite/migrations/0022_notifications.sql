-- E-mail notifications (issue 16 §4, docs/DESIGN.md §12). A user's
-- choices: the language of his messages ('' = the organisation's locale),
-- opting out of e-mail, the daily digest.
CREATE TABLE notification_prefs (
    user_id  TEXT PRIMARY KEY REFERENCES users(id),
    language TEXT NOT NULL DEFAULT '' CHECK (language IN ('', 'ru', 'en')),
    email_off INTEGER NOT NULL DEFAULT 0,
    digest   INTEGER NOT NULL DEFAULT 0
);

-- The mail outbox: one row per e-mail to one user, written in the
-- transaction of the change it tells of; items is a JSON list of
-- {kind, data} (a notify event), rendered when the row is sent. A digest
-- row gathers the items of one user's digest due at next_at (the digest
-- hour); the sender workers claim due rows under a lease (the single
-- writer serializes the claims).
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    digest      INTEGER NOT NULL DEFAULT 0,
    items       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    first_at    INTEGER,
    next_at     INTEGER NOT NULL,
    lease_token TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    done_at     INTEGER,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE state = 'pending';
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_done ON notifications (done_at) WHERE state <> 'pending';
-- One pending digest per user and digest hour: a new item joins it.
CREATE UNIQUE INDEX notifications_digest ON notifications (user_id, next_at) WHERE digest AND state = 'pending';

-- The daily reminders sent (reviews waiting): one row per user, reminder
-- and day, so that one server queues each reminder once.
CREATE TABLE notification_marks (
    user_id TEXT NOT NULL REFERENCES users(id),
    key     TEXT NOT NULL,
    day     TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, key, day)
);

ALTER TABLE org_settings ADD COLUMN review_wait_days INTEGER NOT NULL DEFAULT 3
    CHECK (review_wait_days BETWEEN 0 AND 60);
