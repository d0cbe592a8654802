-- Work that should follow what is new or pending, not the history
-- (issue 14).

-- How far IndexReportRows has checked the visits for report rows: every
-- visit up to rowid through has them. through_id names the visit at that
-- rowid, so that a VACUUM that renumbers the rowids is noticed (another
-- visit, or none, is there) and the next check starts from the first
-- visit again. One row, or none before the first check.
CREATE TABLE report_watermark (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    through    INTEGER NOT NULL,
    through_id TEXT NOT NULL
);

-- Assignment expiry (every minute) finds the open and accepted
-- assignments whose window has ended: this index holds only those that
-- can still expire, by window end, so the check reads what is due instead
-- of every assignment ever made.
CREATE INDEX assignments_expiry ON assignments (window_end) WHERE state IN ('open', 'accepted');
