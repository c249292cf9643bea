"""loans' SQL: the veteran and enterprise projections, assessments, loans, their history,
schedules and repayments, subsidies and tax relief. Domain records in, domain records out.
Over 400 lines by design, as jobs' store: the one module that knows loans' tables."""

import json
from dataclasses import astuple, fields
from decimal import Decimal
from typing import Any

import psycopg2.extras
from psycopg2 import errors as pg_errors

from services.loans.domain import (
    ACTIVE_LOAN_STATES,
    Assessment,
    Criterion,
    Enterprise,
    Loan,
    LoanHistory,
    Repayment,
    Subsidy,
    VeteranFacts,
)
from services.loans.relief_store import ReliefStore
from services.loans.schedule import Instalment
from shared.db import DatabaseUnavailable, Store, in_counties, insert


class LoansStore(ReliefStore, Store):
    def save_veterans(self, items, at):
        """Upsert the projection from registry's events: ``items`` of (facts, raw data),
        one per veteran. Rows are written in veteran order, so concurrent batches lock them
        in one order; the upsert holds each row until commit."""
        rows = [
            (
                f.veteran_id,
                f.county_code,
                f.birth_year,
                f.willingness,
                f.employment_status,
                json.dumps(raw, default=str),
                at,
            )
            for f, raw in sorted(items, key=lambda item: item[0].veteran_id)
        ]
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO veterans (veteran_id, county_code, birth_year, willingness,"
                    " employment_status, facts, updated_at) VALUES %s"
                    " ON CONFLICT (veteran_id) DO UPDATE SET county_code = EXCLUDED.county_code,"
                    " birth_year = EXCLUDED.birth_year, willingness = EXCLUDED.willingness,"
                    " employment_status = EXCLUDED.employment_status, facts = EXCLUDED.facts,"
                    " updated_at = EXCLUDED.updated_at",
                    rows,
                    page_size=len(rows),
                )

    def get_veteran(self, veteran_id, lock=False):
        """The projected facts; ``lock`` holds the row so assessments of one veteran
        run one at a time (the upsert in ``save_veterans`` holds it the same way)."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {VETERAN_COLUMNS} FROM veterans WHERE veteran_id = %s"
                + (" FOR UPDATE" if lock else ""),
                (veteran_id,),
            )
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
                {
                    "v": sorted(set(veteran_ids)),
                    "p": sorted(set(product_codes)),
                    "active": list(ACTIVE_LOAN_STATES),
                },
            )
            return {
                (vid, code): (active, (latest[0] == "true", Decimal(latest[1])) if latest else None)
                for vid, code, active, latest in cur.fetchall()
            }

    def save_assessments(self, assessments, requested_by):
        rows = [
            (
                a.id,
                a.veteran_id,
                a.product_code,
                a.eligible,
                a.max_amount,
                a.max_term_months,
                json.dumps([c.__dict__ for c in a.criteria]),
                a.assessed_at,
                a.cause_event_id,
                requested_by,
            )
            for a in assessments
        ]
        if rows:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO eligibility_assessments (id, veteran_id, product_code,"
                    " eligible, max_amount, max_term_months, criteria, assessed_at,"
                    " cause_event_id, requested_by) VALUES %s",
                    rows,
                    page_size=len(rows),
                )

    def latest_assessments(self, veteran_id, product_code=None):
        """The newest assessment per product (one product if ``product_code`` is given)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT ON (product_code) id, veteran_id, product_code, eligible,"
                " max_amount, max_term_months, criteria, assessed_at, cause_event_id"
                " FROM eligibility_assessments WHERE veteran_id = %s"
                " AND (%s::text IS NULL OR product_code = %s)"
                " ORDER BY product_code, assessed_at DESC, seq DESC",
                (veteran_id, product_code, product_code),
            )
            rows = cur.fetchall()
        return [
            Assessment(
                id=str(r[0]),
                veteran_id=str(r[1]),
                product_code=r[2],
                eligible=r[3],
                max_amount=r[4],
                max_term_months=r[5],
                criteria=tuple(Criterion(**c) for c in r[6]),
                assessed_at=r[7],
                cause_event_id=str(r[8]) if r[8] else None,
            )
            for r in rows
        ]

    # -- enterprises (projection) ---------------------------------------------------------
    def save_enterprises(self, enterprises, at):
        """Upsert ``Enterprise`` records, one per enterprise, in id order."""
        values = [
            (
                e.enterprise_id,
                e.county_code,
                e.stage,
                list(e.founder_ids),
                at,
                e.kind,
                e.employees,
                e.new_hires,
            )
            for e in sorted(enterprises, key=lambda e: e.enterprise_id)
        ]
        if values:
            with self.cursor() as cur:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO enterprises (enterprise_id, county_code, stage, founder_ids,"
                    " updated_at, kind, employees, new_hires) VALUES %s"
                    " ON CONFLICT (enterprise_id) DO UPDATE SET"
                    " county_code = EXCLUDED.county_code, stage = EXCLUDED.stage,"
                    " founder_ids = EXCLUDED.founder_ids, updated_at = EXCLUDED.updated_at,"
                    " kind = EXCLUDED.kind, employees = EXCLUDED.employees,"
                    " new_hires = EXCLUDED.new_hires",
                    values,
                    template="(%s, %s, %s, %s::uuid[], %s, %s, %s, %s)",
                    page_size=len(values),
                )

    def enterprises_of(self, veteran_ids):
        """{veteran_id: ((enterprise_id, stage), ...)} for the enterprises they founded."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT f.id::text, e.enterprise_id::text, e.stage FROM enterprises e,"
                " unnest(e.founder_ids) AS f(id) WHERE e.founder_ids && %s::uuid[]"
                " AND f.id = ANY(%s::uuid[]) ORDER BY e.enterprise_id",
                (list(veteran_ids), list(veteran_ids)),
            )
            found: dict[str, list[tuple[str, str]]] = {}
            for veteran_id, enterprise_id, stage in cur.fetchall():
                found.setdefault(veteran_id, []).append((enterprise_id, stage))
            return {k: tuple(v) for k, v in found.items()}

    def discharged_on(self, veteran_id):
        """The veteran's discharge date from the projected facts (None when unknown)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT (facts->>'discharged_on')::date FROM veterans WHERE veteran_id = %s",
                (veteran_id,),
            )
            row = cur.fetchone()
        return row[0] if row else None

    def get_veterans(self, veteran_ids):
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {VETERAN_COLUMNS} FROM veterans WHERE veteran_id = ANY(%s::uuid[])",
                (list(veteran_ids),),
            )
            return {str(row[0]): VeteranFacts(str(row[0]), *row[1:]) for row in cur.fetchall()}

    # -- loans ----------------------------------------------------------------------------
    def add_loan(self, loan: Loan) -> None:
        with self.cursor() as cur:
            insert(cur, "loans", _row(loan))

    def get_loan(self, loan_id, lock=False) -> Loan | None:
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {LOAN_COLUMNS} FROM loans WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                (loan_id,),
            )
            row = cur.fetchone()
            return _loan(row) if row else None

    def loans_of(self, veteran_id) -> list[Loan]:
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {LOAN_COLUMNS} FROM loans WHERE veteran_id = %s"
                " ORDER BY created_at DESC, id",
                (veteran_id,),
            )
            return [_loan(row) for row in cur.fetchall()]

    def update_loan(self, loan: Loan) -> None:
        """Writes what the lifecycle changes of a loan (what it was applied with stays)."""
        with self.cursor() as cur:
            cur.execute(
                f"UPDATE loans SET {', '.join(f'{c} = %s' for c in LOAN_CHANGES)} WHERE id = %s",
                [*(getattr(loan, c) for c in LOAN_CHANGES), loan.id],
            )

    def add_loan_history(self, entry: LoanHistory) -> None:
        with self.cursor() as cur:
            insert(cur, "loan_history", _row(entry))

    def loan_history(self, loan_id) -> list[LoanHistory]:
        with self.cursor() as cur:
            cur.execute(
                "SELECT loan_id::text, at, from_status, to_status, note, operator_id"
                " FROM loan_history WHERE loan_id = %s ORDER BY id",
                (loan_id,),
            )
            return [LoanHistory(*row) for row in cur.fetchall()]

    def save_instalments(self, loan_id, instalments):
        """Write the schedule, or the instalments' paid amounts after a repayment."""
        rows = [
            (
                loan_id,
                i.number,
                i.due_on,
                i.principal,
                i.interest,
                i.subsidised_interest,
                i.paid_principal,
                i.paid_interest,
                i.paid_on,
                i.subsidy_forfeited,
            )
            for i in instalments
        ]
        # Every column: a forfeited subsidy and an extension (展期) rewrite instalments.
        with self.cursor() as cur:
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO instalments (loan_id, number, due_on, principal, interest,"
                " subsidised_interest, paid_principal, paid_interest, paid_on,"
                " subsidy_forfeited) VALUES %s"
                " ON CONFLICT (loan_id, number) DO UPDATE SET"
                " due_on = EXCLUDED.due_on, principal = EXCLUDED.principal,"
                " interest = EXCLUDED.interest,"
                " subsidised_interest = EXCLUDED.subsidised_interest,"
                " paid_principal = EXCLUDED.paid_principal,"
                " paid_interest = EXCLUDED.paid_interest, paid_on = EXCLUDED.paid_on,"
                " subsidy_forfeited = EXCLUDED.subsidy_forfeited",
                rows,
                page_size=max(1, len(rows)),
            )

    def instalments(self, loan_id):
        with self.cursor() as cur:
            cur.execute(
                "SELECT number, due_on, principal, interest, subsidised_interest,"
                " paid_principal, paid_interest, paid_on, subsidy_forfeited FROM instalments"
                " WHERE loan_id = %s ORDER BY number",
                (loan_id,),
            )
            return [Instalment(*row) for row in cur.fetchall()]

    def add_repayment(self, repayment: Repayment) -> None:
        with self.cursor() as cur:
            insert(cur, "repayments", _row(repayment))

    def repayments(self, loan_id) -> list[Repayment]:
        with self.cursor() as cur:
            cur.execute(
                "SELECT id::text, loan_id::text, amount, paid_on, recorded_at,"
                " recorded_by FROM repayments"
                " WHERE loan_id = %s ORDER BY paid_on, recorded_at",
                (loan_id,),
            )
            return [Repayment(*row) for row in cur.fetchall()]

    def repaying_loans(self, after, limit):
        """The next ``limit`` loans being repaid with an id above ``after`` (None: from the
        first), in id order, locked for this transaction. A loan another transaction holds
        is skipped: a repayment or a move is updating it right now, and follows its
        delinquency itself."""
        with self.cursor() as cur:
            cur.execute(
                f"SELECT {LOAN_COLUMNS} FROM loans"
                " WHERE status IN ('active', 'delinquent') AND (%(after)s::uuid IS NULL"
                " OR id > %(after)s::uuid) ORDER BY id LIMIT %(limit)s"
                " FOR UPDATE SKIP LOCKED",
                {"after": after, "limit": limit},
            )
            return [_loan(row) for row in cur.fetchall()]

    def instalments_of(self, loan_ids):
        """``instalments`` of many loans in one query → ``{loan_id: [Instalment]}``."""
        schedules: dict[str, list[Instalment]] = {loan_id: [] for loan_id in loan_ids}
        with self.cursor() as cur:
            cur.execute(
                "SELECT loan_id::text, number, due_on, principal, interest,"
                " subsidised_interest, paid_principal, paid_interest, paid_on,"
                " subsidy_forfeited FROM instalments WHERE loan_id = ANY(%s::uuid[])"
                " ORDER BY loan_id, number",
                (list(loan_ids),),
            )
            for loan_id, *row in cur.fetchall():
                schedules[loan_id].append(Instalment(*row))
        return schedules

    def loan_records(self, veteran_ids):
        """{veteran_id: (disbursed individual loans, written off)}: the veterans' own loans
        (borrower kind individual) that were ever disbursed, of any product."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT veteran_id::text, count(*) FILTER (WHERE disbursed_on IS NOT NULL),"
                " count(*) FILTER (WHERE status = 'written_off') FROM loans"
                " WHERE veteran_id = ANY(%s::uuid[]) AND borrower_kind = 'individual'"
                " GROUP BY veteran_id",
                (list(veteran_ids),),
            )
            return {vid: (n, off) for vid, n, off in cur.fetchall()}

    def enterprise_loan_record(self, enterprise_id):
        """(disbursed loans, written off) of an enterprise borrower, any product."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT count(*) FILTER (WHERE disbursed_on IS NOT NULL),"
                " count(*) FILTER (WHERE status = 'written_off') FROM loans"
                " WHERE enterprise_id = %s AND borrower_kind <> 'individual'",
                (enterprise_id,),
            )
            n, off = cur.fetchone()
            return n, off

    # -- subsidies and tax relief ---------------------------------------------------------
    def lock_beneficiary(self, kind, period, beneficiary):
        """Grants to one beneficiary for one kind and period, one at a time (the cap is
        checked against what is committed)."""
        with self.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"subsidy:{kind}:{period}:{beneficiary}",),
            )

    def granted(self, kind, period, veteran_id, enterprise_id):
        with self.cursor() as cur:
            cur.execute(
                "SELECT coalesce(sum(amount), 0) FROM subsidies WHERE kind = %s"
                " AND period = %s AND veteran_id IS NOT DISTINCT FROM %s"
                " AND enterprise_id IS NOT DISTINCT FROM %s",
                (kind, period, veteran_id, enterprise_id),
            )
            return cur.fetchone()[0]

    def add_subsidy(self, subsidy: Subsidy) -> None:
        with self.cursor() as cur:
            insert(cur, "subsidies", _row(subsidy))

    def get_enterprise(self, enterprise_id) -> Enterprise | None:
        with self.cursor() as cur:
            cur.execute(
                "SELECT enterprise_id::text, county_code, stage,"
                " array(SELECT unnest(founder_ids)::text), kind, employees, new_hires"
                " FROM enterprises WHERE enterprise_id = %s",
                (enterprise_id,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return Enterprise(row[0], row[1], row[2], tuple(row[3]), *row[4:])

    # -- statistics -----------------------------------------------------------------------
    def stats(self, counties):
        args = {"c": counties}
        scope = in_counties()
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(DISTINCT a.veteran_id) FROM (SELECT DISTINCT ON"
                "   (veteran_id, product_code) veteran_id, eligible FROM eligibility_assessments"
                "   ORDER BY veteran_id, product_code, assessed_at DESC, seq DESC) a"
                "   JOIN veterans v ON v.veteran_id = a.veteran_id"
                f"  WHERE a.eligible AND {in_counties('v.county_code')})"
                "   AS eligible_veterans,"
                f" (SELECT count(*) FROM loans WHERE {scope} AND status IS NOT NULL"
                "   AND submitted_on IS NOT NULL) AS applications,"
                f" (SELECT count(*) FROM loans WHERE {scope} AND approved_on IS NOT NULL)"
                "   AS approvals,"
                f" (SELECT count(*) FROM loans WHERE {scope} AND disbursed_on IS NOT NULL)"
                "   AS disbursed,"
                f" (SELECT coalesce(sum(approved_amount), 0) FROM loans WHERE {scope}"
                "   AND disbursed_on IS NOT NULL) AS disbursed_amount,"
                " (SELECT coalesce(sum(i.principal - i.paid_principal), 0) FROM instalments i"
                "   JOIN loans l ON l.id = i.loan_id WHERE l.status IN ('active', 'delinquent')"
                f"   AND {in_counties('l.county_code')})"
                "   AS outstanding_principal,"
                f" (SELECT count(*) FROM loans WHERE {scope} AND status = 'delinquent')"
                "   AS delinquent,"
                " (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY disbursed_on - submitted_on)"
                f"   FROM loans WHERE {scope} AND disbursed_on IS NOT NULL)"
                "   AS median_days_to_disbursement,"
                f" (SELECT coalesce(sum(amount), 0) FROM tax_reliefs WHERE {scope})"
                "   AS tax_relief_total",
                args,
            )
            figures = dict(cur.fetchone())
            cur.execute(
                f"SELECT kind, count(*) AS n, sum(amount) AS total FROM subsidies"
                f" WHERE {scope} GROUP BY kind",
                args,
            )
            by_kind = {row["kind"]: row for row in cur.fetchall()}
        return figures, by_kind

    def disbursed_by_month(self, counties, first_day, day_after):
        """``{month: {loans_disbursed, loans_amount}}``: loans disbursed from ``first_day``
        to before ``day_after``, by the month of disbursement (a bureau date)."""
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT to_char(disbursed_on, 'YYYY-MM') AS month, count(*) AS loans_disbursed,"
                " coalesce(sum(approved_amount), 0) AS loans_amount FROM loans"
                f" WHERE {in_counties()} AND disbursed_on >= %(first)s"
                " AND disbursed_on < %(after)s GROUP BY 1",
                {"c": counties, "first": first_day, "after": day_after},
            )
            return {row.pop("month"): dict(row) for row in cur.fetchall()}

    # -- the referral workflow (referral.py, bank_http.py) -------------------------------
    def add_revisit(self, revisit) -> None:
        with self.cursor() as cur:
            insert(cur, "loan_revisits", _row(revisit))

    def revisits(self, loan_id) -> list[dict]:
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT id::text, visited_on, outcome, note FROM loan_revisits"
                " WHERE loan_id = %s ORDER BY visited_on, recorded_at",
                (loan_id,),
            )
            return [dict(row) for row in cur.fetchall()]

    def referrals(self, bank_code, since, limit) -> list[dict]:
        """The loans referred to ``bank_code`` whose referral (its loan_history line) is
        after the cursor ``since``, oldest first. History ids are taken at insert and seen
        at commit, possibly out of order: SHARE mode waits for every transaction writing
        history to end, so no referral with a smaller id appears after this page."""
        try:
            with self.dict_cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '5s'")
                cur.execute("LOCK TABLE loan_history IN SHARE MODE")
                cur.execute(
                    "SELECT h.id AS cursor, l.id::text AS loan_id, l.product_code,"
                    " l.county_code, l.amount, l.term_months, l.purpose,"
                    " l.enterprise_id::text AS enterprise_id, l.referred_on, l.status"
                    " FROM loan_history h JOIN loans l ON l.id = h.loan_id"
                    " WHERE h.to_status = 'referred' AND l.bank_code = %s AND h.id > %s"
                    " ORDER BY h.id LIMIT %s",
                    (bank_code, since, limit),
                )
                return [dict(row) for row in cur.fetchall()]
        except pg_errors.LockNotAvailable:
            raise DatabaseUnavailable("loans are being written; ask again") from None

    def stats_by_workflow(self, counties) -> dict:
        """{workflow: {applications, referred, approved, disbursed, disbursed_amount}}."""
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT workflow, count(*) FILTER (WHERE submitted_on IS NOT NULL)"
                " AS applications, count(*) FILTER (WHERE referred_on IS NOT NULL) AS referred,"
                " count(*) FILTER (WHERE approved_on IS NOT NULL) AS approved,"
                " count(*) FILTER (WHERE disbursed_on IS NOT NULL) AS disbursed,"
                " coalesce(sum(approved_amount) FILTER (WHERE disbursed_on IS NOT NULL), 0)"
                f" AS disbursed_amount FROM loans WHERE {in_counties()} GROUP BY workflow",
                {"c": counties},
            )
            return {row.pop("workflow"): dict(row) for row in cur.fetchall()}


LOAN_COLUMNS = ", ".join(item.name for item in fields(Loan))
VETERAN_COLUMNS = (
    "veteran_id, county_code, birth_year, willingness, employment_status,"
    " facts->>'discharge_type', (facts->>'discharged_on')::date"
)
# What the lifecycle changes of a loan after its application.
LOAN_CHANGES = (
    "status",
    "approved_amount",
    "reason",
    "approved_on",
    "disbursed_on",
    "closed_on",
    "days_overdue",
    "updated_at",
    # priced at signing (approval), and extensions
    "lpr",
    "lpr_entry",
    "rate_spread",
    "annual_rate",
    "subsidy_rule",
    "interest_subsidy_rate",
    "subsidy_months",
    "extended_months",
    "extended_on",
    # the referral workflow: the bank's term (and its rate, above), the bank, when
    "term_months",
    "bank_code",
    "referred_on",
)
UUIDS = ("id", "veteran_id", "enterprise_id")


def _loan(row) -> Loan:
    values: list[Any] = [
        str(value) if item.name in UUIDS and value is not None else value
        for item, value in zip(fields(Loan), row, strict=True)
    ]
    return Loan(*values)


def _row(record) -> dict:
    """A record as the row ``insert`` writes: its fields name the columns."""
    return dict(zip((item.name for item in fields(record)), astuple(record), strict=True))
