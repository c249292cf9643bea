-- The terms an employer's tax relief turns on (issue 20), sent in veteran_hired: the
-- labour contract's length in months (NULL: not stated), whether social insurance is paid
-- and from when (NULL: from the start). Hires stored before say nothing: NULL, false.
ALTER TABLE hires
    ADD COLUMN contract_months integer CHECK (contract_months >= 1),
    ADD COLUMN social_insurance boolean NOT NULL DEFAULT false,
    ADD COLUMN insured_from date;
