"""loans' SQL for tax relief: the booklet's enterprise terms and jobs' hires (projections),
the veterans' placement, relief recorded and the locks that keep it within the
entitlement. A mixin of ``LoansStore`` (it uses the same session)."""

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

import psycopg2.extras

from services.loans.relief_domain import INDIVIDUAL_BUSINESS, Business, Hire, TaxRelief
from shared.db import Store, insert

BUSINESS_COLUMNS = (
    "enterprise_id::text, county_code, kind, stage, founded_on,"
    " array(SELECT unnest(founder_ids)::text), closed_on"
)


def _business(row) -> Business:
    enterprise_id, county, kind, stage, founded_on, founders, closed_on = row
    return Business(enterprise_id, county, kind, stage, founded_on, tuple(founders), closed_on)


class ReliefStore(Store):
    # -- projections ----------------------------------------------------------------------
    def save_enterprise_terms(self, items: Iterable[tuple[str, str, dt.date, str]], seen_on):
        """Set each enterprise's (enterprise_id, kind, founded_on, stage) terms, after
        ``save_enterprises`` wrote its row: ``closed_on`` is the day loans first saw it
        closed (kept while it stays closed; cleared if it reopens)."""
        rows = sorted(items)
        if not rows:
            return
        with self.cursor() as cur:
            psycopg2.extras.execute_values(
                cur,
                "UPDATE enterprises e SET kind = v.kind, founded_on = v.founded_on,"
                " closed_on = CASE WHEN v.stage = 'closed'"
                "   THEN coalesce(e.closed_on, v.seen) END"
                " FROM (VALUES %s) AS v(id, kind, founded_on, stage, seen)"
                " WHERE e.enterprise_id = v.id::uuid",
                [(*row, seen_on) for row in rows],
                template="(%s, %s, %s::date, %s, %s::date)",
                page_size=len(rows),
            )

    def save_hires(self, hires: Iterable[Hire], at) -> None:
        """Upsert jobs' hires (one per application), in id order."""
        rows = [
            (
                h.hire_id,
                h.veteran_id,
                h.employer_id,
                h.county_code,
                h.started_on,
                h.contract_months,
                h.social_insurance,
                h.insured_from,
                at,
            )
            for h in sorted(hires, key=lambda h: h.hire_id)
        ]
        if not rows:
            return
        with self.cursor() as cur:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO hires (hire_id, veteran_id, employer_id, county_code, started_on,"
                " contract_months, social_insurance, insured_from, updated_at) VALUES %s"
                " ON CONFLICT (hire_id) DO UPDATE SET veteran_id = EXCLUDED.veteran_id,"
                " employer_id = EXCLUDED.employer_id, county_code = EXCLUDED.county_code,"
                " started_on = EXCLUDED.started_on, contract_months = EXCLUDED.contract_months,"
                " social_insurance = EXCLUDED.social_insurance,"
                " insured_from = EXCLUDED.insured_from, updated_at = EXCLUDED.updated_at",
                rows,
                page_size=len(rows),
            )

    # -- reading ----------------------------------------------------------------------------
    def placements(self, veteran_ids) -> dict[str, str | None]:
        """{veteran_id: discharge_type} of the veterans loans knows (registry's facts)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT veteran_id::text, facts->>'discharge_type' FROM veterans"
                " WHERE veteran_id = ANY(%s::uuid[])",
                (sorted(set(veteran_ids)),),
            )
            return dict(cur.fetchall())

    def businesses_of(self, veteran_id) -> list[Business]:
        """The individual businesses a veteran founded."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {BUSINESS_COLUMNS} FROM enterprises"
                " WHERE founder_ids @> ARRAY[%s::uuid] AND kind = %s ORDER BY enterprise_id",
                (veteran_id, INDIVIDUAL_BUSINESS),
            )
            return [_business(row) for row in cur.fetchall()]

    def get_business(self, enterprise_id) -> Business | None:
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {BUSINESS_COLUMNS} FROM enterprises WHERE enterprise_id = %s",
                (enterprise_id,),
            )
            row = cur.fetchone()
        return None if row is None else _business(row)

    def hires_of(self, employer_id) -> list[Hire]:
        with self.cursor() as cur:
            cur.execute(
                "SELECT hire_id::text, veteran_id::text, employer_id::text, county_code,"
                " started_on, contract_months, social_insurance, insured_from FROM hires"
                " WHERE employer_id = %s ORDER BY started_on, hire_id",
                (employer_id,),
            )
            return [Hire(*row) for row in cur.fetchall()]

    # -- relief recorded ----------------------------------------------------------------------
    def lock_relief(self, tax_year: int, keys: Iterable[str]) -> None:
        """Records against one account (a veteran's household, an employer) for one year,
        one at a time: what is used is read after the lock, so two records can never both
        fit in what is left. Keys in order, so two lockers never wait on each other."""
        with self.cursor() as cur:
            for key in sorted(set(keys)):
                cur.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"tax_relief:{tax_year}:{key}",)
                )

    def relief_used(self, tax_year: int, veteran_ids=(), enterprise_ids=(), employer_id=None):
        """Relief recorded for ``tax_year`` against any of these subjects."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT coalesce(sum(amount), 0) FROM tax_reliefs WHERE tax_year = %s"
                " AND (veteran_id = ANY(%s::uuid[]) OR enterprise_id = ANY(%s::uuid[])"
                " OR employer_id = %s::uuid)",
                (tax_year, _uuids(veteran_ids), _uuids(enterprise_ids), employer_id),
            )
            return Decimal(cur.fetchone()[0])

    def add_relief(self, relief: TaxRelief) -> None:
        with self.cursor() as cur:
            insert(
                cur,
                "tax_reliefs",
                {
                    "id": relief.id,
                    "veteran_id": relief.veteran_id,
                    "enterprise_id": relief.enterprise_id,
                    "employer_id": relief.employer_id,
                    "county_code": relief.county_code,
                    "tax_year": relief.tax_year,
                    "amount": relief.amount,
                    "tax_due": relief.tax_due,
                    "note": relief.note,
                    "policy_ids": list(relief.policy_ids),
                    "recorded_at": relief.recorded_at,
                    "recorded_by": relief.recorded_by,
                },
            )


def _uuids(values) -> list[uuid.UUID]:
    return [uuid.UUID(str(v)) for v in values]
