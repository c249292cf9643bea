-- A card's station (issue 19): the township/street or village/community service station
-- (12-digit statistical area code, shared/data/jurisdiction.yaml) that keeps it. Nullable:
-- cards registered before stations existed have none until a clerk sets it. Station
-- tokens read only cards of their stations, so searches and statistics filter on it.
ALTER TABLE veterans ADD COLUMN station_code text;
CREATE INDEX veterans_station ON veterans (station_code, registered_at, id)
    WHERE station_code IS NOT NULL;
