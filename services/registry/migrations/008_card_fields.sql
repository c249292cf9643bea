-- The card the national collection keeps (issue 19). Every column is nullable or has a
-- default: the cards registered before stay valid as they are.
ALTER TABLE veterans
    ADD COLUMN political_status         text,
    -- 优待证号: masked in every reply (shared/masks.py), in full only through the audited
    -- reveal_preferential_card; never in logs or events.
    ADD COLUMN preferential_card_number text,
    -- 立功受奖: [{"kind": honours code, "year": int}]
    ADD COLUMN honours                  jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN health                   text,
    ADD COLUMN disability_grade         smallint CHECK (disability_grade BETWEEN 1 AND 10),
    -- 就业困难: {"recognised", "reasons", "help", "outcome"} or NULL (not assessed)
    ADD COLUMN employment_difficulty    jsonb,
    ADD COLUMN reported_on              date,
    ADD COLUMN hukou_place              text,
    ADD COLUMN placement_place          text,
    ADD COLUMN collected_by             text,
    ADD COLUMN verified_by              text,
    ADD COLUMN verified_at              timestamptz,
    ADD COLUMN trained                  boolean NOT NULL DEFAULT false;

CREATE UNIQUE INDEX veterans_preferential_card ON veterans (preferential_card_number)
    WHERE preferential_card_number IS NOT NULL;
