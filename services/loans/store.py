"""loans' SQL: the veteran projection, assessments and loans."""
import json
from decimal import Decimal

from services.loans.domain import ACTIVE_LOAN_STATES, Assessment, Criterion, VeteranFacts
from shared.db import Store


class LoansStore(Store):
    def save_veteran(self, facts, raw, at):
        """Upsert the projection from a registry event."""
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO veterans (veteran_id, county_code, birth_year, willingness,"
                " employment_status, facts, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (veteran_id) DO UPDATE SET county_code = EXCLUDED.county_code,"
                " birth_year = EXCLUDED.birth_year, willingness = EXCLUDED.willingness,"
                " employment_status = EXCLUDED.employment_status, facts = EXCLUDED.facts,"
                " updated_at = EXCLUDED.updated_at",
                (facts.veteran_id, facts.county_code, facts.birth_year, facts.willingness,
                 facts.employment_status, json.dumps(raw, default=str), at))

    def get_veteran(self, veteran_id, lock=False):
        """The projected facts; ``lock`` holds the row so assessments of one veteran
        run one at a time (the upsert in ``save_veteran`` holds it the same way)."""
        with self.cursor() as cur:
            cur.execute("SELECT veteran_id, county_code, birth_year, willingness,"
                        " employment_status FROM veterans WHERE veteran_id = %s"
                        + (" FOR UPDATE" if lock else ""), (veteran_id,))
            row = cur.fetchone()
        if row is None:
            return None
        return VeteranFacts(str(row[0]), *row[1:])

    def assessment_context(self, veteran_id, product_code):
        """Active loans of the product, and the latest outcome (eligible, max_amount) or
        None, in one round trip."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM loans WHERE veteran_id = %(v)s"
                "        AND product_code = %(p)s AND status = ANY(%(active)s)),"
                " (SELECT ARRAY[eligible::text, max_amount::text] FROM eligibility_assessments"
                "  WHERE veteran_id = %(v)s AND product_code = %(p)s"
                "  ORDER BY assessed_at DESC, id LIMIT 1)",
                {"v": veteran_id, "p": product_code, "active": list(ACTIVE_LOAN_STATES)})
            active, latest = cur.fetchone()
        previous = (latest[0] == "true", Decimal(latest[1])) if latest else None
        return active, previous

    def save_assessment(self, assessment, requested_by):
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO eligibility_assessments (id, veteran_id, product_code, eligible,"
                " max_amount, max_term_months, criteria, assessed_at, cause_event_id,"
                " requested_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (assessment.id, assessment.veteran_id, assessment.product_code,
                 assessment.eligible, assessment.max_amount, assessment.max_term_months,
                 json.dumps([c.__dict__ for c in assessment.criteria]), assessment.assessed_at,
                 assessment.cause_event_id, requested_by))

    def latest_assessments(self, veteran_id, product_code=None):
        """The newest assessment per product (one product if ``product_code`` is given)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT ON (product_code) id, veteran_id, product_code, eligible,"
                " max_amount, max_term_months, criteria, assessed_at, cause_event_id"
                " FROM eligibility_assessments WHERE veteran_id = %s"
                " AND (%s::text IS NULL OR product_code = %s)"
                " ORDER BY product_code, assessed_at DESC, id",
                (veteran_id, product_code, product_code))
            rows = cur.fetchall()
        return [Assessment(
            id=str(r[0]), veteran_id=str(r[1]), product_code=r[2], eligible=r[3],
            max_amount=r[4], max_term_months=r[5],
            criteria=tuple(Criterion(**c) for c in r[6]), assessed_at=r[7],
            cause_event_id=str(r[8]) if r[8] else None) for r in rows]

