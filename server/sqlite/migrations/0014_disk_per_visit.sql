-- Disk per visit (issue 14). A visit's answer rows repeated the visit's
-- staff member, store and start time in each of its rows; those are the
-- visit's report row's (report_visits, joined by visit_id in every
-- reader), and are kept there once. Visits' body and score are stored
-- packed from now on (server/sqlite/packed.go); rows stored before stay as
-- they are and read the same.
ALTER TABLE visit_answers DROP COLUMN staff_id;
ALTER TABLE visit_answers DROP COLUMN store_id;
ALTER TABLE visit_answers DROP COLUMN visited_at;
