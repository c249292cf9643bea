-- Who did what: every write and every reveal of an ID number names its operator.
ALTER TABLE veterans ADD COLUMN created_by text;

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    operator_id text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    reason      text
);
CREATE INDEX audit_by_operator ON audit_log (operator_id, at);
CREATE INDEX audit_by_time ON audit_log (at);
