-- Reads are audited too (issue 17): a single card read (full phone and address) names its
-- veteran; a search or an export page names none (entity_id NULL) and says in details
-- which filters it used (keys; values only of codes and years), its page and how many
-- cards it returned.
ALTER TABLE audit_log ADD COLUMN details jsonb;
ALTER TABLE audit_log ALTER COLUMN entity_id DROP NOT NULL;
