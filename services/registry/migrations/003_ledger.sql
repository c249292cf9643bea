-- The full ledger: the rest of the veteran's card, its history, the timeline projection,
-- and enterprises' booklets (一企一册).
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

ALTER TABLE veterans
    ADD COLUMN ethnicity        text,
    ADD COLUMN education        text,
    ADD COLUMN rank_category    text,
    ADD COLUMN employer         text,
    ADD COLUMN employed_since   date,
    ADD COLUMN consent          jsonb,
    ADD COLUMN notes            text,
    ADD COLUMN possible_duplicates text[] NOT NULL DEFAULT '{}';

-- Search: county first (every clerk's search is scoped by county), then the filters.
CREATE INDEX veterans_county_status ON veterans (county_code, employment_status, registered_at, id);
CREATE INDEX veterans_status ON veterans (employment_status, registered_at, id);
CREATE INDEX veterans_willingness ON veterans (willingness);
CREATE INDEX veterans_registered ON veterans (registered_at, id);
CREATE INDEX veterans_discharged ON veterans (discharged_on);
CREATE INDEX veterans_skills ON veterans USING gin (skills);
CREATE INDEX veterans_needs ON veterans USING gin (service_needs);
CREATE INDEX veterans_name_trgm ON veterans USING gin (name gin_trgm_ops);
-- Possible duplicates beyond the ID number.
CREATE INDEX veterans_identity ON veterans (name, birth_date, county_code);
CREATE INDEX veterans_phone ON veterans (phone) WHERE phone IS NOT NULL;

-- Every change to a card: who, when, old → new (personal fields included: never logged).
CREATE TABLE veteran_history (
    id             bigserial PRIMARY KEY,
    veteran_id     uuid NOT NULL REFERENCES veterans (id),
    at             timestamptz NOT NULL,
    operator_id    text NOT NULL,
    field          text NOT NULL,
    old_value      jsonb,
    new_value      jsonb,
    reason         text,
    cause_event_id uuid
);
CREATE INDEX veteran_history_by_veteran ON veteran_history (veteran_id, at DESC, id DESC);

CREATE TABLE enterprises (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL,
    uscc              text UNIQUE,
    name              text NOT NULL,
    county_code       text NOT NULL,
    industry          text NOT NULL,
    founded_on        date NOT NULL,
    stage             text NOT NULL,
    employees         integer,
    veteran_employees integer,
    federation_member boolean NOT NULL DEFAULT false,
    incubation_base   text,
    registered_at     timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    created_by        text
);
CREATE INDEX enterprises_county ON enterprises (county_code, kind, stage, registered_at, id);

CREATE TABLE enterprise_founders (
    enterprise_id uuid NOT NULL REFERENCES enterprises (id),
    veteran_id    uuid NOT NULL REFERENCES veterans (id),
    PRIMARY KEY (enterprise_id, veteran_id)
);
CREATE INDEX enterprise_founders_by_veteran ON enterprise_founders (veteran_id);

-- The card's and booklet's timeline: one row per event that concerns a veteran or an
-- enterprise, fed through the inbox (or written beside registry's own changes).
CREATE TABLE timeline (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL,
    veteran_id    uuid,
    enterprise_id uuid,
    at            timestamptz NOT NULL,
    source        text NOT NULL,
    type          text NOT NULL,
    summary       text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (event_id, veteran_id, enterprise_id)
);
CREATE INDEX timeline_by_veteran ON timeline (veteran_id, at DESC, id DESC) WHERE veteran_id IS NOT NULL;
CREATE INDEX timeline_by_enterprise ON timeline (enterprise_id, at DESC, id DESC) WHERE enterprise_id IS NOT NULL;
