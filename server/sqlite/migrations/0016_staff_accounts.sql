-- Employee accounts (issue 13 §1). A user of the new role "staff" is one
-- employee: users.staff_id links him to his staff record, one account per
-- record. He is made by invitation: a one-time set-password link whose
-- token only the SHA-256 of is stored, with an expiry, used once.
--
-- The role's CHECK constraint is widened in place: a table rebuild would
-- drop users under the foreign keys of every table that references it
-- (which cannot be switched off inside the migration's transaction), and
-- the change touches no stored row. The column is added first (ALTER
-- TABLE writes at an offset of the definition SQLite parsed), and
-- writable_schema = RESET makes the connection read the new definition.
ALTER TABLE users ADD COLUMN staff_id TEXT REFERENCES staff (id);
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (role IN (''shopper'', ''manager'', ''hr'', ''admin''))',
                          'CHECK (role IN (''shopper'', ''manager'', ''hr'', ''admin'', ''staff''))')
 WHERE type = 'table' AND name = 'users';
PRAGMA writable_schema = RESET;
CREATE UNIQUE INDEX users_staff ON users (staff_id) WHERE staff_id IS NOT NULL;

CREATE TABLE user_invitations (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX user_invitations_user ON user_invitations (user_id);
