-- The bureau's request signatures already taken (shared/http.py): a signature is good once.
-- digest is the SHA-256 of the signature's lowercase hex (the signature itself is never
-- kept), signed_at its X-Bureau-Timestamp. A timer deletes rows past the skew window: a
-- signature that old is refused as stale before anything looks here.
CREATE TABLE bureau_signatures (
    digest    bytea PRIMARY KEY,
    signed_at timestamptz NOT NULL
);
CREATE INDEX bureau_signatures_signed_at ON bureau_signatures (signed_at);
