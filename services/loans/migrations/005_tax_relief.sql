-- Tax relief computed by the rules (issue 20).
-- The booklet's enterprise kind and registration date (the self-employed relief runs 36
-- months from an individual business's registration), and the bureau's date loans first
-- saw it closed (registry sends no closing date). NULL for rows projected before: filled
-- by the enterprise's next event.
ALTER TABLE enterprises
    ADD COLUMN kind       text,
    ADD COLUMN founded_on date,
    ADD COLUMN closed_on  date;

-- A projection of jobs' veteran_hired: the terms an employer's relief turns on. No
-- employer name. hire_id is jobs' application id.
CREATE TABLE hires (
    hire_id          uuid PRIMARY KEY,
    veteran_id       uuid NOT NULL,
    employer_id      uuid NOT NULL,
    county_code      text NOT NULL,
    started_on       date NOT NULL,
    contract_months  integer,
    social_insurance boolean NOT NULL DEFAULT false,
    insured_from     date,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX hires_employer ON hires (employer_id, started_on);

-- Relief recorded against an entitlement: for a veteran, an individual business or a
-- jobs employer; the tax due it was deducted from, and the policy entries that made the
-- entitlement. Rows recorded before keep their free-text policy and no tax_due.
ALTER TABLE tax_reliefs
    ADD COLUMN employer_id uuid,
    ADD COLUMN tax_due     numeric(14, 2),
    ADD COLUMN note        text,
    ADD COLUMN policy_ids  text[],
    ALTER COLUMN policy DROP NOT NULL,
    DROP CONSTRAINT tax_reliefs_check,
    ADD CONSTRAINT tax_reliefs_one_subject
        CHECK (num_nonnulls(veteran_id, enterprise_id, employer_id) = 1),
    ADD CONSTRAINT tax_reliefs_within_tax_due CHECK (tax_due IS NULL OR amount <= tax_due);
CREATE INDEX tax_reliefs_veteran ON tax_reliefs (veteran_id, tax_year) WHERE veteran_id IS NOT NULL;
CREATE INDEX tax_reliefs_enterprise ON tax_reliefs (enterprise_id, tax_year)
    WHERE enterprise_id IS NOT NULL;
CREATE INDEX tax_reliefs_employer ON tax_reliefs (employer_id, tax_year) WHERE employer_id IS NOT NULL;
