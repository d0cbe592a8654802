-- Bonus runs and the audit workbook on PostgreSQL (issue 12).

-- Base pay revisions come from a sequence rather than from the table's
-- largest revision plus one: two servers writing base pay at once then
-- neither take the same number nor conflict over reading the whole table.
-- A bonus run's stamp only needs a rewritten row to get a new number.
CREATE SEQUENCE base_pay_revision AS bigint;
SELECT setval('base_pay_revision', COALESCE(MAX(revision), 0) + 1, false) FROM base_pay;

-- Every report query over a period reads the visits in (visit time, visit
-- id) order, the id in byte order as SQLite compares it (COLLATE "C",
-- whatever the database's locale): the time index gives that order, so the
-- rows of a month arrive from the first one without sorting the month.
DROP INDEX report_visits_time;
CREATE INDEX report_visits_time ON report_visits (visited_at, visit_id COLLATE "C");
