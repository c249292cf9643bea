-- The loan lifecycle (Apache Fineract's states), repayment schedules, repayments,
-- subsidies, tax relief, and a projection of veteran-founded enterprises from registry.
CREATE TABLE enterprises (
    enterprise_id uuid PRIMARY KEY,
    county_code   text NOT NULL,
    stage         text NOT NULL,
    founder_ids   uuid[] NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX enterprises_founders ON enterprises USING gin (founder_ids);

ALTER TABLE loans
    ADD COLUMN county_code        text,
    ADD COLUMN enterprise_id      uuid,
    ADD COLUMN term_months        integer,
    ADD COLUMN purpose            text,
    ADD COLUMN annual_rate        numeric(8, 6),
    ADD COLUMN interest_subsidy_rate numeric(8, 6),
    ADD COLUMN repayment_method   text,
    ADD COLUMN approved_amount    numeric(14, 2),
    ADD COLUMN reason             text,
    ADD COLUMN submitted_on       date,
    ADD COLUMN approved_on        date,
    ADD COLUMN disbursed_on       date,
    ADD COLUMN closed_on          date,
    ADD COLUMN days_overdue       integer NOT NULL DEFAULT 0,
    ADD COLUMN updated_at         timestamptz,
    ADD COLUMN created_by         text;
CREATE INDEX loans_county ON loans (county_code, status);

CREATE TABLE loan_history (
    id          bigserial PRIMARY KEY,
    loan_id     uuid NOT NULL REFERENCES loans (id),
    at          timestamptz NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    note        text,
    operator_id text NOT NULL
);
CREATE INDEX loan_history_of ON loan_history (loan_id, id);

CREATE TABLE instalments (
    loan_id             uuid NOT NULL REFERENCES loans (id),
    number              integer NOT NULL,
    due_on              date NOT NULL,
    principal           numeric(14, 2) NOT NULL,
    interest            numeric(14, 2) NOT NULL,
    subsidised_interest numeric(14, 2) NOT NULL,
    paid_principal      numeric(14, 2) NOT NULL DEFAULT 0,
    paid_interest       numeric(14, 2) NOT NULL DEFAULT 0,
    paid_on             date,
    PRIMARY KEY (loan_id, number)
);

CREATE TABLE repayments (
    id          uuid PRIMARY KEY,
    loan_id     uuid NOT NULL REFERENCES loans (id),
    amount      numeric(14, 2) NOT NULL CHECK (amount > 0),
    paid_on     date NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX repayments_loan ON repayments (loan_id, paid_on);

CREATE TABLE subsidies (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL,
    veteran_id    uuid,
    enterprise_id uuid,
    county_code   text NOT NULL,
    amount        numeric(14, 2) NOT NULL CHECK (amount > 0),
    period        text NOT NULL,
    note          text,
    granted_at    timestamptz NOT NULL,
    granted_by    text NOT NULL,
    CHECK ((veteran_id IS NULL) <> (enterprise_id IS NULL))
);
CREATE INDEX subsidies_beneficiary ON subsidies (kind, period, veteran_id, enterprise_id);
CREATE INDEX subsidies_county ON subsidies (county_code);

CREATE TABLE tax_reliefs (
    id            uuid PRIMARY KEY,
    veteran_id    uuid,
    enterprise_id uuid,
    county_code   text NOT NULL,
    tax_year      integer NOT NULL,
    amount        numeric(14, 2) NOT NULL CHECK (amount > 0),
    policy        text NOT NULL,
    recorded_at   timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    CHECK ((veteran_id IS NULL) <> (enterprise_id IS NULL))
);
CREATE INDEX tax_reliefs_county ON tax_reliefs (county_code, tax_year);
