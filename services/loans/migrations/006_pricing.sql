-- Loans priced by the rules (issue 20): the LPR entry and value, the product's spread and
-- the subsidy rule fixed at signing (annual_rate and interest_subsidy_rate, the share of
-- the interest subsidised, exist since 004); the borrower kind; extensions (展期).
ALTER TABLE loans
    ADD COLUMN borrower_kind   text NOT NULL DEFAULT 'individual',
    ADD COLUMN lpr             numeric(8, 6),
    ADD COLUMN lpr_entry       text,
    ADD COLUMN rate_spread     numeric(8, 6),
    ADD COLUMN subsidy_rule    text,
    ADD COLUMN subsidy_months  integer,
    ADD COLUMN extended_months integer NOT NULL DEFAULT 0,
    ADD COLUMN extended_on     date;
CREATE INDEX loans_enterprise ON loans (enterprise_id) WHERE enterprise_id IS NOT NULL;

-- An instalment unsettled after its due date loses its subsidy for good.
ALTER TABLE instalments ADD COLUMN subsidy_forfeited boolean NOT NULL DEFAULT false;

-- The enterprise projection carries the booklet's headcounts for the borrower checks
-- (NULL until the enterprise's next event; its kind is added by 005).
ALTER TABLE enterprises
    ADD COLUMN employees integer,
    ADD COLUMN new_hires integer;
