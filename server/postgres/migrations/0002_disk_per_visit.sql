-- Disk per visit (issue 14): a visit's answer rows no longer repeat the
-- visit's staff member, store and start time, which its report_visits row
-- holds once (every reader joins it by visit_id).
ALTER TABLE visit_answers DROP COLUMN staff_id;
ALTER TABLE visit_answers DROP COLUMN store_id;
ALTER TABLE visit_answers DROP COLUMN visited_at;
