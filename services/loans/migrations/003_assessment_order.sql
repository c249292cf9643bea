-- Assessments of one veteran in one batch share their time; the order they were made in
-- decides which is the latest.
ALTER TABLE eligibility_assessments ADD COLUMN seq bigserial;
DROP INDEX eligibility_latest;
CREATE INDEX eligibility_latest ON eligibility_assessments
    (veteran_id, product_code, assessed_at DESC, seq DESC);
