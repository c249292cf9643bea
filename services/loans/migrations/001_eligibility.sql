-- loans keeps its own projection of the veteran facts it needs, fed by registry's events.
CREATE TABLE veterans (
    veteran_id        uuid PRIMARY KEY,
    county_code       text NOT NULL,
    birth_year        integer NOT NULL,
    willingness       text NOT NULL,
    employment_status text NOT NULL,
    facts             jsonb NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- Every assessment is kept, one result per criterion.
CREATE TABLE eligibility_assessments (
    id              uuid PRIMARY KEY,
    veteran_id      uuid NOT NULL,
    product_code    text NOT NULL,
    eligible        boolean NOT NULL,
    max_amount      numeric(14, 2) NOT NULL,
    max_term_months integer NOT NULL,
    criteria        jsonb NOT NULL,
    assessed_at     timestamptz NOT NULL,
    cause_event_id  uuid
);
CREATE INDEX eligibility_latest ON eligibility_assessments (veteran_id, product_code, assessed_at DESC);

-- Loans themselves (the lifecycle comes with its own issue); eligibility needs "active".
CREATE TABLE loans (
    id           uuid PRIMARY KEY,
    veteran_id   uuid NOT NULL,
    product_code text NOT NULL,
    status       text NOT NULL,
    amount       numeric(14, 2) NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX loans_veteran ON loans (veteran_id, product_code);
