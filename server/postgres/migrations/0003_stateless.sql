-- Stateless servers (issue 12 §2). The keys that sign access tokens live
-- in the database, shared by every server, their private halves sealed
-- with AES-256-GCM under the key-encryption key (package auth seals and
-- opens them; this table only holds the bytes); the per-account login
-- limits are token buckets every server shares.
CREATE TABLE signing_keys (
    kid                text PRIMARY KEY,
    purpose            text NOT NULL,
    public_key         bytea NOT NULL,
    sealed_private_key bytea NOT NULL,
    created_at         timestamptz NOT NULL,
    retired_at         timestamptz
);
CREATE INDEX signing_keys_purpose ON signing_keys (purpose, created_at);
-- At most one key of a purpose signs at a time.
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (purpose) WHERE retired_at IS NULL;

CREATE TABLE rate_buckets (
    key     text PRIMARY KEY,
    full_at timestamptz NOT NULL,
    version bigint NOT NULL
);
CREATE INDEX rate_buckets_full ON rate_buckets (full_at);
