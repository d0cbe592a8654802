-- Disk per visit, second step (issue 14). A visit's 40 answer rows each
-- carried the visit's 36-byte id, and, keyed by random ids, their pages
-- split half full. Report rows now get a number in the order they are
-- written (report_visits.no, an INTEGER PRIMARY KEY, so VACUUM keeps it),
-- and the answer rows are keyed by that number: a few bytes a row instead
-- of 36, appended at the end of the table rather than inserted in the
-- middle of it. Every reader already joins answers to their report row.
CREATE TABLE report_visits_numbered (
    no              INTEGER PRIMARY KEY,
    visit_id        TEXT NOT NULL UNIQUE REFERENCES visits (id),
    store_id        TEXT NOT NULL,
    staff_id        TEXT NOT NULL DEFAULT '',
    visited_at      INTEGER NOT NULL,
    points          REAL NOT NULL,
    max_points      REAL NOT NULL,
    critical_failed INTEGER NOT NULL CHECK (critical_failed IN (0, 1)),
    answers         INTEGER NOT NULL CHECK (answers >= 0)
);
INSERT INTO report_visits_numbered (visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers)
    SELECT visit_id, store_id, staff_id, visited_at, points, max_points, critical_failed, answers
    FROM report_visits ORDER BY visited_at, visit_id;

CREATE TABLE visit_answers_numbered (
    visit_no         INTEGER NOT NULL REFERENCES report_visits_numbered (no),
    ord              INTEGER NOT NULL CHECK (ord >= 0),
    question_id      TEXT NOT NULL,
    section_id       TEXT NOT NULL,
    standard_code    TEXT NOT NULL DEFAULT '',
    category         TEXT NOT NULL DEFAULT '',
    points           REAL NOT NULL,
    max_points       REAL NOT NULL,
    not_applicable   INTEGER NOT NULL CHECK (not_applicable IN (0, 1)),
    failed           INTEGER NOT NULL CHECK (failed IN (0, 1)),
    critical         INTEGER NOT NULL CHECK (critical IN (0, 1)),
    critical_failure INTEGER NOT NULL CHECK (critical_failure IN (0, 1)),
    nps              INTEGER CHECK (nps BETWEEN 0 AND 10),
    answer           TEXT NOT NULL DEFAULT '',
    note             TEXT NOT NULL DEFAULT '',
    value            REAL,
    unit             TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (visit_no, ord)
) WITHOUT ROWID;
INSERT INTO visit_answers_numbered
    SELECT r.no, a.ord, a.question_id, a.section_id, a.standard_code, a.category, a.points, a.max_points,
        a.not_applicable, a.failed, a.critical, a.critical_failure, a.nps, a.answer, a.note, a.value, a.unit
    FROM visit_answers a JOIN report_visits_numbered r ON r.visit_id = a.visit_id
    ORDER BY r.no, a.ord;

DROP TABLE visit_answers;
DROP TABLE report_visits;
ALTER TABLE report_visits_numbered RENAME TO report_visits;
ALTER TABLE visit_answers_numbered RENAME TO visit_answers;
CREATE INDEX report_visits_time ON report_visits (visited_at, visit_id);
CREATE INDEX report_visits_staff ON report_visits (staff_id, visited_at);
