-- Sync on PostgreSQL (issue 12): what SQLite reads through its rowid.
--
-- A visit's photo slots are listed in the order the visit gave them (its
-- receipt's missing photos, the review's photos): SQLite's rowid order.
-- ord numbers the slots as they are inserted; slots stored before this
-- migration are numbered in their key order.
ALTER TABLE visit_photos ADD COLUMN ord bigint;
UPDATE visit_photos p SET ord = n.ord FROM (
    SELECT visit_id, question_id, idx, row_number() OVER (ORDER BY visit_id, question_id, idx) AS ord FROM visit_photos) n
    WHERE p.visit_id = n.visit_id AND p.question_id = n.question_id AND p.idx = n.idx;
CREATE SEQUENCE visit_photos_ord OWNED BY visit_photos.ord;
SELECT setval('visit_photos_ord', COALESCE((SELECT max(ord) FROM visit_photos), 0) + 1, false);
ALTER TABLE visit_photos ALTER COLUMN ord SET DEFAULT nextval('visit_photos_ord'), ALTER COLUMN ord SET NOT NULL;
CREATE INDEX visit_photos_visit ON visit_photos (visit_id, ord);

-- Pruning the results kept for replays deletes the oldest first, by
-- receive time.
CREATE INDEX sync_mutations_received ON sync_mutations (received_at);
