-- The version the bureau last sent of each of its postings: an item whose version is not
-- newer changes nothing (stale). NULL for postings not from the bureau, and for bureau
-- postings stored before versions were sent (any version is newer).
ALTER TABLE postings ADD COLUMN bureau_version bigint;
