"""loans' SQL: the veteran projection, assessments and loans."""
import json
from decimal import Decimal

import psycopg2.extras

from services.loans.domain import ACTIVE_LOAN_STATES, Assessment, Criterion, VeteranFacts
from shared.db import Store


class LoansStore(Store):
    def save_veterans(self, items, at):
        """Upsert the projection from registry's events: ``items`` of (facts, raw data),
        one per veteran. Rows are written in veteran order, so concurrent batches lock them
        in one order; the upsert holds each row until commit."""
        rows = [(f.veteran_id, f.county_code, f.birth_year, f.willingness, f.employment_status,
                 json.dumps(raw, default=str), at)
                for f, raw in sorted(items, key=lambda item: item[0].veteran_id)]
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO veterans (veteran_id, county_code, birth_year, willingness,"
                    " employment_status, facts, updated_at) VALUES %s"
                    " ON CONFLICT (veteran_id) DO UPDATE SET county_code = EXCLUDED.county_code,"
                    " birth_year = EXCLUDED.birth_year, willingness = EXCLUDED.willingness,"
                    " employment_status = EXCLUDED.employment_status, facts = EXCLUDED.facts,"
                    " updated_at = EXCLUDED.updated_at", rows, page_size=len(rows))

    def get_veteran(self, veteran_id, lock=False):
        """The projected facts; ``lock`` holds the row so assessments of one veteran
        run one at a time (the upsert in ``save_veterans`` holds it the same way)."""
        with self.cursor() as cur:
            cur.execute("SELECT veteran_id, county_code, birth_year, willingness,"
                        " employment_status FROM veterans WHERE veteran_id = %s"
                        + (" FOR UPDATE" if lock else ""), (veteran_id,))
            row = cur.fetchone()
        if row is None:
            return None
        return VeteranFacts(str(row[0]), *row[1:])

    def assessment_contexts(self, veteran_ids, product_codes):
        """{(veteran_id, product_code): (active loans, latest (eligible, max_amount) or
        None)} for every pair, in one round trip."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT v.id::text, p.code,"
                " (SELECT count(*) FROM loans l WHERE l.veteran_id = v.id"
                "   AND l.product_code = p.code AND l.status = ANY(%(active)s)),"
                " (SELECT ARRAY[e.eligible::text, e.max_amount::text]"
                "   FROM eligibility_assessments e"
                "   WHERE e.veteran_id = v.id AND e.product_code = p.code"
                "   ORDER BY e.assessed_at DESC, e.seq DESC LIMIT 1)"
                " FROM unnest(%(v)s::uuid[]) AS v(id) CROSS JOIN unnest(%(p)s::text[]) AS p(code)",
                {"v": sorted(set(veteran_ids)), "p": sorted(set(product_codes)),
                 "active": list(ACTIVE_LOAN_STATES)})
            return {(vid, code): (active, (latest[0] == "true", Decimal(latest[1]))
                                  if latest else None)
                    for vid, code, active, latest in cur.fetchall()}

    def save_assessments(self, assessments, requested_by):
        rows = [(a.id, a.veteran_id, a.product_code, a.eligible, a.max_amount,
                 a.max_term_months, json.dumps([c.__dict__ for c in a.criteria]),
                 a.assessed_at, a.cause_event_id, requested_by) for a in assessments]
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO eligibility_assessments (id, veteran_id, product_code,"
                    " eligible, max_amount, max_term_months, criteria, assessed_at,"
                    " cause_event_id, requested_by) VALUES %s", rows, page_size=len(rows))

    def latest_assessments(self, veteran_id, product_code=None):
        """The newest assessment per product (one product if ``product_code`` is given)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT ON (product_code) id, veteran_id, product_code, eligible,"
                " max_amount, max_term_months, criteria, assessed_at, cause_event_id"
                " FROM eligibility_assessments WHERE veteran_id = %s"
                " AND (%s::text IS NULL OR product_code = %s)"
                " ORDER BY product_code, assessed_at DESC, seq DESC",
                (veteran_id, product_code, product_code))
            rows = cur.fetchall()
        return [Assessment(
            id=str(r[0]), veteran_id=str(r[1]), product_code=r[2], eligible=r[3],
            max_amount=r[4], max_term_months=r[5],
            criteria=tuple(Criterion(**c) for c in r[6]), assessed_at=r[7],
            cause_event_id=str(r[8]) if r[8] else None) for r in rows]

