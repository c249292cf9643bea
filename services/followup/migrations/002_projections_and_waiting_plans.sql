-- followup learns counties from more than one event, out of order; loans of veterans it has
-- not heard of yet wait instead of being dropped; the overdue sweep reads due rows only.

-- A veteran's county is only replaced by a fact at least as new (as_of = the event's time).
ALTER TABLE veterans ADD COLUMN as_of timestamptz;

-- Enterprises' counties (registry's enterprise_registered): a loan naming an enterprise
-- is revisited in the enterprise's county.
CREATE TABLE enterprises (
    enterprise_id text PRIMARY KEY,
    county_code   text NOT NULL,
    as_of         timestamptz NOT NULL
);

-- Business plans whose county is not known yet (a loan of a veteran followup has no
-- registry event for). Planned, with their original dates, as soon as one arrives.
CREATE TABLE waiting_plans (
    cause_event_id uuid NOT NULL,
    veteran_id     uuid NOT NULL,
    kind           text NOT NULL,
    cause_type     text NOT NULL,
    starts_on      date NOT NULL,
    enterprise_id  text,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (cause_event_id, veteran_id, kind)
);
CREATE INDEX waiting_plans_veteran ON waiting_plans (veteran_id);

-- The overdue sweep: due revisits by day.
CREATE INDEX revisits_due ON revisits (due_on, id) WHERE status = 'due';
