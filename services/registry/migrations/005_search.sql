-- Search by name at 100,000 cards. The trigram index (003) cannot serve a substring shorter
-- than three characters, and most Han names and the fragments clerks type (a surname, a
-- given name) are one or two: index every one- and two-character piece of the lowercased
-- name instead. A fragment's pieces are all contained in a matching name's pieces, so
-- `name_grams(name) @> name_query_grams(fragment)` finds every candidate and the LIKE /
-- ILIKE beside it keeps the true matches.
CREATE FUNCTION name_grams(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT substr(lower(name), i, n)
                 FROM generate_series(1, length(name)) AS i, (VALUES (1), (2)) AS sizes (n)
                 WHERE i + n - 1 <= length(name));

-- What to look up for a fragment: its one character, or its two-character pieces.
CREATE FUNCTION name_query_grams(fragment text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN length(fragment) = 1 THEN ARRAY[lower(fragment)]
                ELSE ARRAY(SELECT DISTINCT substr(lower(fragment), i, 2)
                           FROM generate_series(1, length(fragment) - 1) AS i) END;

CREATE INDEX veterans_name_grams ON veterans USING gin (name_grams(name));
