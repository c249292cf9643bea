-- The enterprise booklet's new hires (issue 20): staff hired in the past 12 months on
-- contracts of at least a year, the small and micro enterprise loan's condition. Optional.
ALTER TABLE enterprises ADD COLUMN new_hires integer CHECK (new_hires >= 0);
