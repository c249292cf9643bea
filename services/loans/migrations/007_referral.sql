-- The referral workflow (services/loans/referral.py): a product's loans may be referred by
-- the bureau to a partner bank (承办银行), which decides, disburses, collects and revisits.
-- workflow: in_house (the bureau approves and disburses) or referral; bank_code: the bank
-- the loan was referred to (a code of products.yaml's banks), referred_on: the bureau day.
ALTER TABLE loans
    ADD COLUMN workflow    text NOT NULL DEFAULT 'in_house'
        CHECK (workflow IN ('in_house', 'referral')),
    ADD COLUMN bank_code   text,
    ADD COLUMN referred_on date;
CREATE INDEX loans_bank ON loans (bank_code) WHERE bank_code IS NOT NULL;

-- The bank's post-loan revisits (回访), as it reports them.
CREATE TABLE loan_revisits (
    id          uuid PRIMARY KEY,
    loan_id     uuid NOT NULL REFERENCES loans (id),
    visited_on  date NOT NULL,
    outcome     text NOT NULL,
    note        text,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX loan_revisits_loan ON loan_revisits (loan_id, visited_on);

-- The banks' request signatures already taken (shared/http.py): a signature is good once.
-- digest is the SHA-256 of the signature's lowercase hex, signed_at its X-Bank-Timestamp;
-- a timer deletes rows past the skew window (older ones are refused as stale anyway).
CREATE TABLE bank_signatures (
    digest    bytea PRIMARY KEY,
    signed_at timestamptz NOT NULL
);
CREATE INDEX bank_signatures_signed_at ON bank_signatures (signed_at);
