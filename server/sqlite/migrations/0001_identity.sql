-- Users, their device sessions, refresh tokens and the security log.
-- Times are Unix milliseconds, UTC.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('shopper', 'manager', 'hr', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
);

-- A session is one device's sign-in; all its refresh tokens form one family.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    device_id     TEXT NOT NULL,
    device_name   TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Refresh tokens are stored as SHA-256 hashes. A used token keeps its row so
-- that presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash       BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE security_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    peer       TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
