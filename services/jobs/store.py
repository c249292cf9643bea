"""jobs' SQL for employers, postings, fairs, applications, hires and statistics: domain
records in and out. Matching and the veterans projection are in matching_store.py, the
employment bureau's tables in bureau_store.py; ``JobsStore`` joins them. Every value a
client sent goes in as a parameter; only fixed clause text is formatted into statements."""

from typing import Any

from services.jobs.bureau_store import BureauStore
from services.jobs.domain import (
    PLACEMENT_OCCUPATIONS,
    Application,
    ApplicationListing,
    Employer,
    Hire,
    Move,
    Posting,
)
from services.jobs.fair_domain import FAIR_MODES, Fair
from services.jobs.matching_store import MatchingStore
from services.jobs.records_store import (
    APPLICATION_COLUMNS,
    EMPLOYER_COLUMNS,
    FAIR_COLUMNS,
    POSTING_COLUMNS,
    application_from,
    employer_from,
    fair_from,
    move_from,
    posting_from,
    row_of,
    select,
    uuids,
)
from shared.db import Store, in_counties, insert, like_containing, where
from shared.errors import Conflict


class OfferStore(Store):
    # -- employers ------------------------------------------------------------------------
    def add_employer(self, employer: Employer) -> None:
        """Inserts the employer; ``Conflict`` naming the employer already holding its
        credit code."""
        with self.cursor() as cur:
            insert(
                cur, "employers", row_of(employer), " ON CONFLICT (uscc) DO NOTHING RETURNING id"
            )
            if cur.fetchone():
                return
            cur.execute("SELECT id FROM employers WHERE uscc = %s", (employer.uscc,))
            found = cur.fetchone()
        raise Conflict(
            "an employer with this unified social credit code is registered",
            {"employer_id": str(found[0]) if found else None},
        )

    def get_employer(self, employer_id) -> Employer | None:
        return self._employer("id", employer_id)

    def employer_by_uscc(self, uscc) -> Employer | None:
        return self._employer("uscc", uscc)

    def _employer(self, column, value):
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(EMPLOYER_COLUMNS)} FROM employers WHERE {column} = %s", (value,)
            )
            row = cur.fetchone()
        return employer_from(row) if row else None

    # -- postings -------------------------------------------------------------------------
    def add_posting(self, posting: Posting) -> None:
        with self.cursor() as cur:
            insert(cur, "postings", row_of(posting))

    def get_posting(self, posting_id, lock=False) -> Posting | None:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(POSTING_COLUMNS)} FROM postings WHERE id = %s"
                + (" FOR UPDATE" if lock else ""),
                (posting_id,),
            )
            row = cur.fetchone()
        return posting_from(row) if row else None

    def close_posting(self, posting_id, reason, now) -> bool:
        """Closes an open posting; False if it was closed already."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE postings SET status = 'closed', closed_reason = %s,"
                " closed_at = %s, updated_at = %s WHERE id = %s AND status = 'open'",
                (reason, now, now, posting_id),
            )
            return cur.rowcount == 1

    def expire_postings(self, today, now, limit=500) -> list[str]:
        """Closes open postings whose date has passed; returns their ids."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE postings SET status = 'closed', closed_reason = 'expired',"
                " closed_at = %s, updated_at = %s WHERE id IN (SELECT id FROM postings"
                "  WHERE status = 'open' AND closes_on < %s ORDER BY closes_on, id"
                "  LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
                (now, now, today, limit),
            )
            return [str(row[0]) for row in cur.fetchall()]

    def take_opening(self, posting_id, now) -> tuple[int, int]:
        """One more hire on an open posting with an opening left, atomically (concurrent
        hires queue on the row and see each other's count) → (hired, openings); Conflict
        when none is left."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE postings SET hired = hired + 1, updated_at = %s"
                " WHERE id = %s AND status = 'open' AND hired < openings"
                " RETURNING hired, openings",
                (now, posting_id),
            )
            taken = cur.fetchone()
        if taken is None:
            raise Conflict("the posting has no opening left", {"posting_id": str(posting_id)})
        return taken[0], taken[1]

    def search_postings(self, query, today, limit, offset) -> tuple[int, list[Posting]]:
        status, skill, title = query["status"], query.get("skill"), query.get("title")
        clause, args = where(
            ("status = 'open' AND closes_on >= %s", today if status == "open" else None),
            ("(status = 'closed' OR closes_on < %s)", today if status == "closed" else None),
            *(
                (f"{column} = %s", query.get(column))
                for column in ("county_code", "occupation", "employer_id", "source", "dedicated")
            ),
            ("skills_required @> %s::text[]", [skill] if skill else None),
            ("salary_max >= %s", query.get("min_salary")),
            ("title ILIKE %s", like_containing(title) if title else None),
        )
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT count(*) AS n FROM postings{clause}", args)
            total = cur.fetchone()["n"]
            cur.execute(
                f"SELECT {select(POSTING_COLUMNS)} FROM postings{clause}"
                " ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
                args + [limit, offset],
            )
            return total, [posting_from(row) for row in cur.fetchall()]

    # -- fairs ----------------------------------------------------------------------------
    def add_fair(self, fair: Fair) -> None:
        row = row_of(fair)
        row["employer_ids"], row["posting_ids"] = uuids(fair.employer_ids), uuids(fair.posting_ids)
        with self.cursor() as cur:
            insert(cur, "fairs", row)

    def get_fair(self, fair_id) -> Fair | None:
        with self.dict_cursor() as cur:
            cur.execute(f"SELECT {select(FAIR_COLUMNS)} FROM fairs WHERE id = %s", (fair_id,))
            row = cur.fetchone()
        return fair_from(row) if row else None

    def existing_employers(self, ids, counties=None) -> set[str]:
        """Which of ``ids`` are employers of ``counties`` (None: all)."""
        return self._existing("employers", ids, counties)

    def existing_postings(self, ids, counties=None) -> set[str]:
        """Which of ``ids`` are postings of ``counties`` (None: all)."""
        return self._existing("postings", ids, counties)

    def _existing(self, table, ids, counties):
        if not ids:
            return set()
        with self.cursor() as cur:
            cur.execute(
                f"SELECT id FROM {table} WHERE id = ANY(%(ids)s::uuid[]) AND {in_counties()}",
                {"ids": [str(i) for i in ids], "c": counties},
            )
            return {str(row[0]) for row in cur.fetchall()}

    def register_for_fair(self, fair_id, veteran_id, now, operator_id) -> bool:
        """False if the veteran was registered already."""
        with self.cursor() as cur:
            cur.execute(
                "INSERT INTO fair_registrations (fair_id, veteran_id, registered_at,"
                " registered_by) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (fair_id, veteran_id, now, operator_id),
            )
            return cur.rowcount == 1

    def fair_figures(self, fair_id) -> dict[str, int]:
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM fair_registrations WHERE fair_id = %(f)s)"
                "   AS registrations,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s) AS applications,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s"
                "   AND status IN ('interviewing', 'offered', 'hired')) AS interviews,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s"
                "   AND status IN ('offered', 'hired')) AS intentions_reached,"
                " (SELECT count(*) FROM applications WHERE fair_id = %(f)s"
                "   AND status = 'hired') AS hires",
                {"f": fair_id},
            )
            return dict(cur.fetchone())

    # -- applications and hires -----------------------------------------------------------
    def add_application(self, application: Application, submitted: Move) -> None:
        """Inserts the application and its first move; ``Conflict`` naming the application
        when the veteran has applied for this posting already."""
        with self.cursor() as cur:
            insert(
                cur,
                "applications",
                row_of(application),
                " ON CONFLICT (veteran_id, posting_id) DO NOTHING",
            )
            if cur.rowcount != 1:
                cur.execute(
                    "SELECT id FROM applications WHERE veteran_id = %s AND posting_id = %s",
                    (application.veteran_id, application.posting_id),
                )
                row = cur.fetchone()
                raise Conflict(
                    "this veteran has applied for this posting already",
                    {"application_id": str(row[0]) if row else None},
                )
        self.add_move(submitted)

    def get_application(self, application_id, lock=False) -> Application | None:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(APPLICATION_COLUMNS)} FROM applications WHERE id = %s"
                + (" FOR UPDATE" if lock else ""),
                (application_id,),
            )
            row = cur.fetchone()
        return application_from(row) if row else None

    def save_move(self, application: Application, move: Move) -> None:
        """The application's new status, and the move kept as its history."""
        with self.cursor() as cur:
            cur.execute(
                "UPDATE applications SET status = %s, updated_at = %s WHERE id = %s",
                (application.status, application.updated_at, application.id),
            )
        self.add_move(move)

    def add_move(self, move: Move) -> None:
        with self.cursor() as cur:
            insert(cur, "application_history", row_of(move))

    def history(self, application_ids) -> list[Move]:
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT application_id, at, from_status, to_status, note, operator_id"
                " FROM application_history WHERE application_id = ANY(%s::uuid[])"
                " ORDER BY id",
                (list(application_ids),),
            )
            return [move_from(row) for row in cur.fetchall()]

    def applications_of(self, veteran_id) -> list[ApplicationListing]:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(APPLICATION_COLUMNS, 'a.')},"
                " p.title, p.occupation, p.employer_id, e.name AS employer_name,"
                " h.started_on, h.salary"
                " FROM applications a JOIN postings p ON p.id = a.posting_id"
                " JOIN employers e ON e.id = p.employer_id"
                " LEFT JOIN hires h ON h.application_id = a.id"
                " WHERE a.veteran_id = %s ORDER BY a.submitted_at DESC, a.id",
                (veteran_id,),
            )
            rows = cur.fetchall()
        return [
            ApplicationListing(
                application=application_from(row),
                title=row["title"],
                occupation=row["occupation"],
                employer_id=str(row["employer_id"]),
                employer_name=row["employer_name"],
                started_on=row["started_on"],
                salary=row["salary"],
            )
            for row in rows
        ]

    def add_hire(self, hire: Hire) -> None:
        with self.cursor() as cur:
            insert(cur, "hires", row_of(hire))

    # -- statistics -----------------------------------------------------------------------
    def stats(self, counties, today, now) -> dict[str, Any]:
        """The bureau's job figures for ``counties`` (None: all). Employers, postings and
        fairs count by their own county; applications and hires by the veteran's."""
        args = {"c": counties, "today": today, "now": now}
        scope = in_counties()
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT (SELECT count(*) FROM employers WHERE {scope}) AS employers,"
                f" (SELECT count(*) FROM postings WHERE {scope}) AS postings_published,"
                f" (SELECT count(*) FROM postings WHERE {scope} AND status = 'open'"
                f"   AND closes_on >= %(today)s) AS postings_open,"
                f" (SELECT coalesce(sum(openings), 0) FROM postings WHERE {scope}) AS openings,"
                f" (SELECT coalesce(sum(openings - hired), 0) FROM postings WHERE {scope}"
                f"   AND status = 'open' AND closes_on >= %(today)s) AS openings_unfilled,"
                f" (SELECT count(*) FROM fairs WHERE {scope} AND starts_at <= %(now)s)"
                f"   AS fairs_held,"
                f" (SELECT count(*) FROM fair_registrations r JOIN fairs f ON f.id = r.fair_id"
                f"   WHERE {in_counties('f.county_code')})"
                f"   AS fair_registrations,"
                f" (SELECT count(*) FROM applications WHERE {scope}) AS applications,"
                f" (SELECT count(*) FROM applications WHERE {scope}"
                f"   AND status IN ('offered', 'hired')) AS intentions_reached,"
                f" (SELECT count(*) FROM hires WHERE {scope}) AS hires,"
                f" (SELECT count(*) FROM hires WHERE {scope} AND dedicated"
                f"   AND channel = 'referral') AS dedicated_referrals_placed,"
                + "".join(
                    f" (SELECT count(*) FROM fairs WHERE {scope} AND starts_at <= %(now)s"
                    f"   AND mode = %(mode_{mode})s) AS fairs_{mode},"
                    for mode in FAIR_MODES
                )
                + ",".join(
                    " (SELECT count(*) FROM hires h JOIN postings p ON p.id = h.posting_id"
                    f"   WHERE {in_counties('h.county_code')} AND p.occupation = %({key})s)"
                    f"   AS {key}"
                    for key in PLACEMENT_OCCUPATIONS
                ),
                {
                    **args,
                    **{f"mode_{mode}": mode for mode in FAIR_MODES},
                    **PLACEMENT_OCCUPATIONS,
                },
            )
            figures: dict[str, Any] = {k: int(v) for k, v in cur.fetchone().items()}
        figures["fairs_by_mode"] = {mode: figures.pop(f"fairs_{mode}") for mode in FAIR_MODES}
        return figures


class JobsStore(BureauStore, MatchingStore, OfferStore):
    """The store the service injects; matching and the bureau's parts join as mixins."""
