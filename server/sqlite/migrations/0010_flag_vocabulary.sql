-- One flag vocabulary (issue 11): a visit pushed by a device whose clock
-- was off is flagged device_clock_skew, in its flags as in its
-- proof-of-visit flags; its flags said clock_skew before. Every visit so
-- flagged moves in its shopper's feed, so that the phone pulls the
-- receipt with the new name.
INSERT OR REPLACE INTO sync_feed (audience, kind, entity)
    SELECT shopper_id, 'visit', id FROM visits WHERE EXISTS (SELECT 1 FROM json_each(visits.flags) WHERE value = 'clock_skew')
    ORDER BY received_at, id;
UPDATE visits SET flags = (SELECT json_group_array(CASE value WHEN 'clock_skew' THEN 'device_clock_skew' ELSE value END)
        FROM (SELECT value FROM json_each(visits.flags) ORDER BY key))
    WHERE EXISTS (SELECT 1 FROM json_each(visits.flags) WHERE value = 'clock_skew');
