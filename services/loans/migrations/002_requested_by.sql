-- An assessment asked for by RPC names the operator who asked; event-driven ones the service.
ALTER TABLE eligibility_assessments ADD COLUMN requested_by text;
