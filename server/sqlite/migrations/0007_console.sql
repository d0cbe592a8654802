-- What the web console needs: deactivated stores and staff, staff
-- transfers dated from a day on, the organisation's settings, and the
-- indexes behind the keyset-paged, filtered lists (visits, staff, users,
-- sessions, security events). Times are Unix milliseconds, UTC; dates are
-- YYYY-MM-DD in the organisation's time zone.

ALTER TABLE stores ADD COLUMN deactivated_at INTEGER;
ALTER TABLE staff ADD COLUMN deactivated_at INTEGER;
-- The first day at the current store; '' when the employee always was.
ALTER TABLE staff ADD COLUMN store_since TEXT NOT NULL DEFAULT '';

-- A transfer moves an employee to another store from effective_date on;
-- applied_at is set when staff.store_id took the new store (at once for a
-- date today or earlier, on its day otherwise).
CREATE TABLE staff_transfers (
    id             TEXT PRIMARY KEY,
    staff_id       TEXT NOT NULL REFERENCES staff (id),
    from_store_id  TEXT REFERENCES stores (id),
    to_store_id    TEXT NOT NULL REFERENCES stores (id),
    effective_date TEXT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    applied_at     INTEGER
);
CREATE INDEX staff_transfers_staff ON staff_transfers (staff_id, created_at);
CREATE INDEX staff_transfers_pending ON staff_transfers (effective_date) WHERE applied_at IS NULL;

-- One row: the organisation's settings.
CREATE TABLE org_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    time_zone  TEXT NOT NULL,
    locale     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
INSERT INTO org_settings (id, time_zone, locale, currency, updated_at) VALUES (1, 'Europe/Moscow', 'ru-RU', 'RUB', 0);

-- Visit lists: newest first over everything (admins), by visit date, by
-- checklist, by staff member (through the report index).
CREATE INDEX visits_received ON visits (received_at, id);
CREATE INDEX visits_started ON visits (started_at, id);
CREATE INDEX visits_checklist ON visits (checklist_id, received_at);
CREATE INDEX report_visits_staff ON report_visits (staff_id, visited_at);

-- Staff by store in employee-number order; users by role; sessions newest
-- first; security events by kind and by user, newest first.
CREATE INDEX staff_store_number ON staff (store_id, employee_number);
CREATE INDEX users_role ON users (role, email);
CREATE INDEX sessions_created ON sessions (created_at, id);
CREATE INDEX security_events_kind ON security_events (kind, seq);
CREATE INDEX security_events_user ON security_events (user_id, seq);
CREATE INDEX assignments_checklist ON assignments (checklist_id, window_start);
