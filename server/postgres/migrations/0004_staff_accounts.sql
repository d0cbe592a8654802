-- Employee accounts (issue 13 §1), as SQLite's 0016_staff_accounts.sql: a
-- user of the role "staff" is linked to one staff record (users.staff_id,
-- one account per record) and sets his first password through a one-time
-- invitation, of whose token only the SHA-256 is stored.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('shopper', 'manager', 'hr', 'admin', 'staff'));
ALTER TABLE users ADD COLUMN staff_id text REFERENCES staff (id);
CREATE UNIQUE INDEX users_staff ON users (staff_id) WHERE staff_id IS NOT NULL;

CREATE TABLE user_invitations (
    token_hash text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id),
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX user_invitations_user ON user_invitations (user_id);
