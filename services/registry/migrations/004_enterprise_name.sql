-- search_enterprises' name filter (contains) served by a trigram index, like veterans'.
CREATE INDEX enterprises_name_trgm ON enterprises USING gin (name gin_trgm_ops);
