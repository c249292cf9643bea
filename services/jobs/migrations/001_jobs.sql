-- Employers, postings, fairs, applications and hires; a projection of the veteran facts
-- matching needs (fed by registry's and training's events: no names, no ID numbers).
CREATE TABLE employers (
    id                uuid PRIMARY KEY,
    name              text NOT NULL,
    uscc              text UNIQUE,
    county_code       text NOT NULL,
    industry          text NOT NULL,
    contact_name      text,
    contact_phone     text,
    federation_member boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    created_by        text NOT NULL
);
CREATE INDEX employers_county ON employers (county_code, created_at, id);

CREATE TABLE postings (
    id                     uuid PRIMARY KEY,
    employer_id            uuid NOT NULL REFERENCES employers (id),
    title                  text NOT NULL,
    occupation             text NOT NULL,
    skills_required        text[] NOT NULL DEFAULT '{}',
    certificates_preferred text[] NOT NULL DEFAULT '{}',
    county_code            text NOT NULL,
    salary_min             integer NOT NULL,
    salary_max             integer NOT NULL,
    openings               integer NOT NULL CHECK (openings > 0),
    hired                  integer NOT NULL DEFAULT 0 CHECK (hired >= 0 AND hired <= openings),
    closes_on              date NOT NULL,
    dedicated              boolean NOT NULL DEFAULT false,
    source                 text NOT NULL,
    bureau_posting_id      text UNIQUE,
    description            text,
    status                 text NOT NULL DEFAULT 'open',
    closed_reason          text,
    closed_at              timestamptz,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    created_by             text NOT NULL
);
CREATE INDEX postings_list ON postings (county_code, status, created_at, id);
CREATE INDEX postings_employer ON postings (employer_id);
-- Matching's candidate look-ups touch open postings only.
CREATE INDEX postings_open_skills ON postings USING gin (skills_required) WHERE status = 'open';
CREATE INDEX postings_open_occupation ON postings (occupation) WHERE status = 'open';
CREATE INDEX postings_open_county ON postings (county_code) WHERE status = 'open';
CREATE INDEX postings_open_closes ON postings (closes_on) WHERE status = 'open';

CREATE TABLE fairs (
    id          uuid PRIMARY KEY,
    title       text NOT NULL,
    county_code text NOT NULL,
    starts_at   timestamptz NOT NULL,
    mode        text NOT NULL,
    stream_url  text,
    venue       text,
    employer_ids uuid[] NOT NULL DEFAULT '{}',
    posting_ids  uuid[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);
CREATE INDEX fairs_county ON fairs (county_code, starts_at);

CREATE TABLE fair_registrations (
    fair_id       uuid NOT NULL REFERENCES fairs (id),
    veteran_id    uuid NOT NULL,
    registered_at timestamptz NOT NULL,
    registered_by text NOT NULL,
    PRIMARY KEY (fair_id, veteran_id)
);

CREATE TABLE applications (
    id           uuid PRIMARY KEY,
    veteran_id   uuid NOT NULL,
    posting_id   uuid NOT NULL REFERENCES postings (id),
    county_code  text NOT NULL,
    channel      text NOT NULL,
    fair_id      uuid REFERENCES fairs (id),
    status       text NOT NULL,
    submitted_at timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    UNIQUE (veteran_id, posting_id)
);
CREATE INDEX applications_posting ON applications (posting_id, status);
CREATE INDEX applications_fair ON applications (fair_id) WHERE fair_id IS NOT NULL;

CREATE TABLE application_history (
    id             bigserial PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id),
    at             timestamptz NOT NULL,
    from_status    text,
    to_status      text NOT NULL,
    note           text,
    operator_id    text NOT NULL
);
CREATE INDEX application_history_of ON application_history (application_id, id);

-- seq is the placements cursor the employment bureau pulls by.
CREATE TABLE hires (
    seq            bigserial PRIMARY KEY,
    application_id uuid NOT NULL UNIQUE REFERENCES applications (id),
    veteran_id     uuid NOT NULL,
    posting_id     uuid NOT NULL REFERENCES postings (id),
    employer_id    uuid NOT NULL REFERENCES employers (id),
    county_code    text NOT NULL,
    started_on     date NOT NULL,
    salary         integer NOT NULL,
    channel        text NOT NULL,
    dedicated      boolean NOT NULL,
    hired_at       timestamptz NOT NULL,
    hired_by       text NOT NULL
);
CREATE INDEX hires_county ON hires (county_code);

CREATE TABLE veterans (
    veteran_id        uuid PRIMARY KEY,
    county_code       text NOT NULL,
    skills            text[] NOT NULL DEFAULT '{}',
    certificates      text[] NOT NULL DEFAULT '{}',
    occupations       text[] NOT NULL DEFAULT '{}',
    counties          text[] NOT NULL DEFAULT '{}',
    min_salary        integer,
    willingness       text NOT NULL,
    employment_status text NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX veterans_skills ON veterans USING gin (skills);
CREATE INDEX veterans_occupations ON veterans USING gin (occupations);
CREATE INDEX veterans_county ON veterans (county_code);

-- Each veteran's top postings, refreshed when their facts change (a clerk's worklist).
CREATE TABLE recommendations (
    veteran_id   uuid NOT NULL,
    rank         integer NOT NULL,
    posting_id   uuid NOT NULL REFERENCES postings (id) ON DELETE CASCADE,
    score        integer NOT NULL,
    refreshed_at timestamptz NOT NULL,
    PRIMARY KEY (veteran_id, rank)
);
