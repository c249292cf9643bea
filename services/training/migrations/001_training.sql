-- Training and incubation bases, courses and their cohorts, enrollments, results and
-- certificates; mentors and competitions; a projection of veteran facts from registry and
-- of placements (hires, founded businesses) from jobs and registry.
CREATE TABLE bases (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL,
    county_code text NOT NULL,
    capacity    integer NOT NULL,
    operator    text,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);

CREATE TABLE courses (
    id               uuid PRIMARY KEY,
    title            text NOT NULL,
    occupation       text NOT NULL,
    certificate_name text NOT NULL,
    skills_granted   text[] NOT NULL,
    theory_hours     integer NOT NULL,
    practical_hours  integer NOT NULL,
    mode             text NOT NULL,
    base_id          uuid NOT NULL REFERENCES bases (id),
    county_code      text NOT NULL,
    theory_pass      integer NOT NULL,
    practical_pass   integer NOT NULL,
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL
);

CREATE TABLE cohorts (
    id          uuid PRIMARY KEY,
    course_id   uuid NOT NULL REFERENCES courses (id),
    county_code text NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    capacity    integer NOT NULL CHECK (capacity > 0),
    enrolled    integer NOT NULL DEFAULT 0 CHECK (enrolled >= 0 AND enrolled <= capacity),
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);
CREATE INDEX cohorts_course ON cohorts (course_id, starts_on);
CREATE INDEX cohorts_open ON cohorts (starts_on);

CREATE TABLE enrollments (
    id              uuid PRIMARY KEY,
    cohort_id       uuid NOT NULL REFERENCES cohorts (id),
    course_id       uuid NOT NULL REFERENCES courses (id),
    veteran_id      uuid NOT NULL,
    county_code     text NOT NULL,
    status          text NOT NULL,
    enrolled_at     timestamptz NOT NULL,
    withdrawn_at    timestamptz,
    theory_score    integer,
    practical_score integer,
    passed          boolean,
    completed_on    date,
    created_by      text NOT NULL
);
-- One seat per veteran in a cohort, and one live enrollment per veteran and course.
CREATE UNIQUE INDEX enrollments_once ON enrollments (cohort_id, veteran_id);
CREATE UNIQUE INDEX enrollments_live ON enrollments (veteran_id, course_id)
    WHERE status = 'enrolled';
CREATE INDEX enrollments_veteran ON enrollments (veteran_id);

CREATE SEQUENCE certificate_numbers;
CREATE TABLE certificates (
    id               uuid PRIMARY KEY,
    cert_no          text NOT NULL UNIQUE,
    enrollment_id    uuid NOT NULL UNIQUE REFERENCES enrollments (id),
    veteran_id       uuid NOT NULL,
    course_id        uuid NOT NULL REFERENCES courses (id),
    certificate_name text NOT NULL,
    skills           text[] NOT NULL,
    issued_on        date NOT NULL
);

CREATE TABLE veterans (
    veteran_id        uuid PRIMARY KEY,
    county_code       text NOT NULL,
    skills            text[] NOT NULL DEFAULT '{}',
    occupations       text[] NOT NULL DEFAULT '{}',
    service_needs     text[] NOT NULL DEFAULT '{}',
    willingness       text NOT NULL,
    employment_status text NOT NULL,
    updated_at        timestamptz NOT NULL
);

-- A graduate placed: hired (jobs' veteran_hired) or founding a business (registry's
-- enterprise_registered).
CREATE TABLE placements (
    veteran_id uuid NOT NULL,
    event_id   uuid NOT NULL,
    kind       text NOT NULL,
    placed_on  date NOT NULL,
    PRIMARY KEY (veteran_id, event_id)
);

CREATE TABLE recommendations (
    veteran_id   uuid NOT NULL,
    rank         integer NOT NULL,
    cohort_id    uuid NOT NULL REFERENCES cohorts (id),
    score        integer NOT NULL,
    refreshed_at timestamptz NOT NULL,
    PRIMARY KEY (veteran_id, rank)
);

CREATE TABLE mentors (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    field       text NOT NULL,
    county_code text NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);

CREATE TABLE mentor_assignments (
    veteran_id  uuid NOT NULL,
    mentor_id   uuid NOT NULL REFERENCES mentors (id),
    county_code text NOT NULL,
    assigned_at timestamptz NOT NULL,
    assigned_by text NOT NULL,
    PRIMARY KEY (veteran_id, mentor_id)
);

CREATE TABLE competitions (
    id          uuid PRIMARY KEY,
    year        integer NOT NULL,
    title       text NOT NULL,
    groups      text[] NOT NULL,
    county_code text,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);

CREATE TABLE entries (
    id             uuid PRIMARY KEY,
    competition_id uuid NOT NULL REFERENCES competitions (id),
    veteran_id     uuid NOT NULL,
    county_code    text NOT NULL,
    project        text NOT NULL,
    competition_group text NOT NULL,
    submitted_at   timestamptz NOT NULL,
    prize          text,
    rank           integer,
    awarded_at     timestamptz,
    UNIQUE (competition_id, veteran_id)
);
