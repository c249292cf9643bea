-- One card per veteran (一人一卡). The ID number is unique; it is never logged and is
-- returned masked unless an audited reveal asks for it.
CREATE TABLE veterans (
    id                uuid PRIMARY KEY,
    id_number         text NOT NULL UNIQUE,
    name              text NOT NULL,
    phone             text,
    gender            text NOT NULL,
    birth_date        date NOT NULL,
    county_code       text NOT NULL,
    address           text,
    branch            text,
    enlisted_on       date,
    discharged_on     date NOT NULL,
    discharge_type    text NOT NULL,
    skills            text[] NOT NULL DEFAULT '{}',
    certificates      text[] NOT NULL DEFAULT '{}',
    intentions        jsonb NOT NULL DEFAULT '{}',
    willingness       text NOT NULL,
    employment_status text NOT NULL,
    service_needs     text[] NOT NULL DEFAULT '{}',
    flags             text[] NOT NULL DEFAULT '{}',
    registered_at     timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX veterans_county ON veterans (county_code, registered_at, id);
