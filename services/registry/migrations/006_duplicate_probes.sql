-- Possible duplicates, bounded: two probes per registration (same name + birth date +
-- county; same phone), each reading at most its oldest 20 cards straight off one of these
-- indexes in (registered_at, id) order. The one query with OR that they replace read every
-- card matching either condition and sorted them all for its 20: with a county
-- spreadsheet's placeholder phone on thousands of cards, thousands per row. They replace
-- 003's indexes on the same columns, which they cover.
CREATE INDEX veterans_identity_oldest ON veterans (name, birth_date, county_code, registered_at, id);
CREATE INDEX veterans_phone_oldest ON veterans (phone, registered_at, id) WHERE phone IS NOT NULL;
DROP INDEX veterans_identity;
DROP INDEX veterans_phone;
