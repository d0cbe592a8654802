-- Bonus runs HR can trust, and workbooks for people (issue 10).

-- A visit's revision counts the changes of its state or score: every
-- review transition bumps it, so a visit that left the approved state and
-- came back (reopened, approved again) has a higher revision than before,
-- even though its state and content are the same. A bonus run stores a
-- stamp of the revisions it read, and approval compares it.
ALTER TABLE visits ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER visits_revision AFTER UPDATE OF state, score ON visits
WHEN NEW.state IS NOT OLD.state OR NEW.score IS NOT OLD.score
BEGIN
    UPDATE visits SET revision = OLD.revision + 1 WHERE id = NEW.id;
END;

-- A base pay row's revision is taken from one counter for the whole
-- table when it is written, so that rewriting a row (even with the same
-- amount) is seen by a run's stamp.
ALTER TABLE base_pay ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- The stamp of what a run read (visits and their revisions, base pay rows
-- and their revisions, the staff's fields), hex SHA-256; '' for runs
-- stored before this migration, which approval treats as stale.
ALTER TABLE bonus_runs ADD COLUMN inputs_stamp TEXT NOT NULL DEFAULT '';
CREATE INDEX bonus_runs_reuse ON bonus_runs (policy_id, period, policy_version, inputs_hash);

-- The answer as a number (numeric, scale and NPS answers as given, timers
-- in seconds) and its unit, so the Answers sheet writes numbers rather than
-- text. Visits indexed before this migration are indexed again by the next
-- report: their rows are deleted and the indexing watermark starts over
-- (IndexReportRows indexes every visit after it without report rows).
ALTER TABLE visit_answers ADD COLUMN value REAL;
ALTER TABLE visit_answers ADD COLUMN unit TEXT NOT NULL DEFAULT '';
DELETE FROM visit_answers;
DELETE FROM report_visits;
DELETE FROM report_watermark;
