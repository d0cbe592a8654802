-- The review of visits (issue: visit review workflow and proof of visit).

-- Every change of a visit's state, with who, when and why. The comments of
-- a return are kept here; the shopper's receipt shows those of the latest.
CREATE TABLE visit_transitions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id   TEXT NOT NULL REFERENCES visits (id),
    from_state TEXT NOT NULL DEFAULT '',
    to_state   TEXT NOT NULL,
    actor_id   TEXT NOT NULL DEFAULT '',
    actor_role TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    comments   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX visit_transitions_visit ON visit_transitions (visit_id, id);

-- Proof-of-visit flags (audit.CheckProof) as JSON, recomputed when
-- evidence arrives; and what the server read from a photo's EXIF.
ALTER TABLE visits ADD COLUMN proof_flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE verified_blobs ADD COLUMN exif_time INTEGER;
ALTER TABLE verified_blobs ADD COLUMN exif_latitude REAL;
ALTER TABLE verified_blobs ADD COLUMN exif_longitude REAL;

-- The history of visits stored before this migration starts with their
-- arrival.
INSERT INTO visit_transitions (visit_id, from_state, to_state, actor_id, actor_role, at, reason)
SELECT id, '', state, shopper_id, 'shopper', received_at, 'submitted from a device' FROM visits;

CREATE INDEX visits_state ON visits (state, received_at);
