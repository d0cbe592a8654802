-- Stateless servers (issue 12 §2). The keys that sign access tokens move
-- from the data folder (data/keys) into the database, their private
-- halves sealed with AES-256-GCM under the key-encryption key (package
-- auth seals and opens them; this table only holds the bytes), and the
-- per-account login limits become token buckets every server shares.
CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    purpose            TEXT NOT NULL,
    public_key         BLOB NOT NULL,
    sealed_private_key BLOB NOT NULL,
    created_at         INTEGER NOT NULL,
    retired_at         INTEGER
);
CREATE INDEX signing_keys_purpose ON signing_keys (purpose, created_at);
-- At most one key of a purpose signs at a time.
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (purpose) WHERE retired_at IS NULL;

CREATE TABLE rate_buckets (
    key     TEXT PRIMARY KEY,
    full_at INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX rate_buckets_full ON rate_buckets (full_at);
