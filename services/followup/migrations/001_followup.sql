-- Revisits planned from events and worked through by county staff, the problems they raise,
-- contacts, and what retention needs (hires and status changes). No names or ID numbers.
CREATE TABLE veterans (
    veteran_id  uuid PRIMARY KEY,
    county_code text NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE revisits (
    id                   uuid PRIMARY KEY,
    veteran_id           uuid NOT NULL,
    county_code          text NOT NULL,
    kind                 text NOT NULL,
    cause_event_id       uuid NOT NULL,
    cause_type           text NOT NULL,
    due_on               date NOT NULL,
    status               text NOT NULL DEFAULT 'scheduled',
    claimed_by           text,
    lease_until          timestamptz,
    due_at               timestamptz,
    contacted_on         date,
    outcome              text,
    veteran_satisfaction integer,
    employer_rating      integer,
    completed_at         timestamptz,
    completed_by         text,
    created_at           timestamptz NOT NULL,
    -- A redelivered event never plans twice (the inbox is the first guard).
    UNIQUE (cause_event_id, veteran_id, kind, due_on)
);
-- The scheduler's look-up: scheduled revisits whose day has come.
CREATE INDEX revisits_to_claim ON revisits (due_on, id) WHERE status = 'scheduled';
CREATE INDEX revisits_work ON revisits (county_code, status, due_on);
CREATE INDEX revisits_veteran ON revisits (veteran_id, due_on);

CREATE TABLE issues (
    id          uuid PRIMARY KEY,
    revisit_id  uuid NOT NULL REFERENCES revisits (id),
    veteran_id  uuid NOT NULL,
    county_code text NOT NULL,
    category    text NOT NULL,
    department  text NOT NULL,
    description text NOT NULL,
    status      text NOT NULL DEFAULT 'open',
    resolution  text,
    raised_at   timestamptz NOT NULL,
    resolved_at timestamptz,
    resolved_by text
);
CREATE INDEX issues_county ON issues (county_code, status);

CREATE TABLE contacts (
    id          uuid PRIMARY KEY,
    veteran_id  uuid,
    county_code text NOT NULL,
    channel     text NOT NULL,
    topic       text NOT NULL,
    notes       text,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX contacts_county ON contacts (county_code, channel);

CREATE TABLE hires (
    veteran_id  uuid NOT NULL,
    event_id    uuid NOT NULL,
    county_code text NOT NULL,
    started_on  date NOT NULL,
    PRIMARY KEY (veteran_id, event_id)
);

CREATE TABLE status_changes (
    veteran_id uuid NOT NULL,
    event_id   uuid NOT NULL,
    on_day     date NOT NULL,
    current    text NOT NULL,
    PRIMARY KEY (veteran_id, event_id)
);
