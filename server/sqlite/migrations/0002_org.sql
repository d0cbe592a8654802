-- The organisation's service points and staff.
CREATE TABLE stores (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    address         TEXT NOT NULL DEFAULT '',
    region          TEXT NOT NULL DEFAULT '',
    latitude        REAL NOT NULL DEFAULT 0,
    longitude       REAL NOT NULL DEFAULT 0,
    geofence_meters REAL NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);

CREATE TABLE store_managers (
    store_id TEXT NOT NULL REFERENCES stores (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (store_id, user_id)
);
CREATE INDEX store_managers_user ON store_managers (user_id);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    employee_number TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    position        TEXT NOT NULL DEFAULT '',
    department      TEXT NOT NULL DEFAULT '',
    back_office     INTEGER NOT NULL DEFAULT 0 CHECK (back_office IN (0, 1)),
    store_id        TEXT REFERENCES stores (id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX staff_store ON staff (store_id);
