"""jobs' SQL for matching: the veterans projection, stored recommendations, and the
scores of services/jobs/matching.py's ``WEIGHTS`` computed in SQL over candidates an index
finds, tier by tier."""

import uuid

import psycopg2.extras

from services.jobs.domain import Posting
from services.jobs.matching import WEIGHTS, wanted_counties
from services.jobs.projection_domain import SEEKING_STATUSES, VeteranFacts
from services.jobs.records_store import (
    POSTING_COLUMNS,
    VETERAN_COLUMNS,
    posting_from,
    select,
    veteran_from,
)
from shared.db import Store, in_counties

_SCORE_FOR_VETERAN = f"""
    (CASE WHEN cardinality(p.skills_required) = 0 THEN {WEIGHTS["skills_none_required"]}
          -- The array operators settle most rows; counting runs for partial overlaps only.
          WHEN NOT p.skills_required && %(skills)s::text[] THEN 0
          WHEN p.skills_required <@ %(skills)s::text[] THEN {WEIGHTS["skills"]}
          ELSE {WEIGHTS["skills"]} * (SELECT count(*) FROM unnest(p.skills_required) s
                                      WHERE s = ANY(%(skills)s::text[]))
               / cardinality(p.skills_required) END
     + CASE WHEN p.certificates_preferred && %(certificates)s::text[]
            THEN {WEIGHTS["certificate"]} ELSE 0 END
     + CASE WHEN p.occupation = ANY(%(occupations)s::text[]) THEN {WEIGHTS["occupation"]} ELSE 0 END
     + CASE WHEN p.county_code = ANY(%(counties)s::text[]) THEN {WEIGHTS["county"]} ELSE 0 END
     + CASE WHEN %(min_salary)s::int IS NULL OR p.salary_max >= %(min_salary)s::int
            THEN {WEIGHTS["salary"]} ELSE 0 END
     + CASE WHEN p.dedicated THEN {WEIGHTS["dedicated"]} ELSE 0 END)::int"""

# Candidates come in tiers an index finds, each with the most any of its postings can
# score: sharing a skill and a wanted occupation; one of the two, in a wanted county or
# not; a wanted county only. A tier is looked at only while the ranking so far leaves room
# for a posting scoring its maximum, so most calls score a few hundred rows, not tens of
# thousands.
_SKILL = "p.skills_required && %(skills)s::text[]"
_OCCUPATION = "p.occupation = ANY(%(occupations)s::text[])"
_COUNTY = "p.county_code = ANY(%(counties)s::text[])"
_ONE_OF = f"(({_SKILL}) AND NOT {_OCCUPATION} OR {_OCCUPATION} AND NOT ({_SKILL}))"
_ONE_OF_MAX = (
    max(WEIGHTS["skills"], WEIGHTS["occupation"] + WEIGHTS["skills_none_required"])
    + WEIGHTS["certificate"]
    + WEIGHTS["salary"]
    + WEIGHTS["dedicated"]
)
TIERS = (
    (f"{_SKILL} AND {_OCCUPATION}", sum(WEIGHTS.values()) - WEIGHTS["skills_none_required"]),
    (f"{_ONE_OF} AND {_COUNTY}", _ONE_OF_MAX + WEIGHTS["county"]),
    (f"{_ONE_OF} AND NOT {_COUNTY}", _ONE_OF_MAX),
    (
        f"{_COUNTY} AND NOT ({_SKILL}) AND NOT {_OCCUPATION}",
        WEIGHTS["skills_none_required"]
        + WEIGHTS["certificate"]
        + WEIGHTS["county"]
        + WEIGHTS["salary"]
        + WEIGHTS["dedicated"],
    ),
)

_VETERAN_COUNTIES = (
    "CASE WHEN cardinality(v.counties) = 0 THEN ARRAY[v.county_code] ELSE v.counties END"
)

_SCORE_FOR_POSTING = f"""
    (CASE WHEN cardinality(%(required)s::text[]) = 0 THEN {WEIGHTS["skills_none_required"]}
          ELSE {WEIGHTS["skills"]} * (SELECT count(*) FROM unnest(%(required)s::text[]) s
                                      WHERE s = ANY(v.skills))
               / cardinality(%(required)s::text[]) END
     + CASE WHEN v.certificates && %(certificates)s::text[] THEN {WEIGHTS["certificate"]} ELSE 0 END
     + CASE WHEN %(occupation)s = ANY(v.occupations) THEN {WEIGHTS["occupation"]} ELSE 0 END
     + CASE WHEN %(county)s = ANY({_VETERAN_COUNTIES}) THEN {WEIGHTS["county"]} ELSE 0 END
     + CASE WHEN v.min_salary IS NULL OR v.min_salary <= %(salary_max)s
            THEN {WEIGHTS["salary"]} ELSE 0 END
     + CASE WHEN %(dedicated)s THEN {WEIGHTS["dedicated"]} ELSE 0 END)::int"""


class MatchingStore(Store):
    # -- the veterans projection ----------------------------------------------------------
    def save_veterans(self, veterans: list[VeteranFacts], now) -> None:
        """Upsert the facts, one row per veteran, in veteran order (as UUIDs: the order of
        the table's key) so that concurrent batches lock rows in one order."""
        values = [
            tuple(getattr(v, c) for c in VETERAN_COLUMNS) + (now,)
            for v in sorted(veterans, key=lambda v: uuid.UUID(v.veteran_id))
        ]
        if not values:
            return
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in VETERAN_COLUMNS[1:])
        with self.cursor() as cur:
            psycopg2.extras.execute_values(
                cur,
                f"INSERT INTO veterans ({select(VETERAN_COLUMNS)}, updated_at) VALUES %s"
                f" ON CONFLICT (veteran_id) DO UPDATE SET {updates},"
                " updated_at = EXCLUDED.updated_at",
                values,
                page_size=len(values),
            )

    def get_veterans(self, veteran_ids, lock=False) -> dict[str, VeteranFacts]:
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(VETERAN_COLUMNS)} FROM veterans"
                " WHERE veteran_id = ANY(%s::uuid[]) ORDER BY veteran_id"
                + (" FOR UPDATE" if lock else ""),
                (sorted(veteran_ids),),
            )
            return {str(row["veteran_id"]): veteran_from(row) for row in cur.fetchall()}

    def get_veteran(self, veteran_id) -> VeteranFacts | None:
        return self.get_veterans([str(veteran_id)]).get(str(veteran_id))

    def save_recommendations(self, veteran_id, scored: list[tuple[str, int]], now) -> None:
        """Replace a veteran's stored recommendations by ``[(posting_id, score)]``."""
        with self.cursor() as cur:
            cur.execute("DELETE FROM recommendations WHERE veteran_id = %s", (veteran_id,))
            if scored:
                psycopg2.extras.execute_values(
                    cur,
                    "INSERT INTO recommendations (veteran_id, rank, posting_id, score,"
                    " refreshed_at) VALUES %s",
                    [
                        (veteran_id, rank, posting_id, score, now)
                        for rank, (posting_id, score) in enumerate(scored, 1)
                    ],
                )

    def recommended(self, veteran_id) -> list[tuple[Posting, int]]:
        """The stored recommendations, best first, with their postings as they are now."""
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(POSTING_COLUMNS, 'p.')}, r.score"
                " FROM recommendations r JOIN postings p ON p.id = r.posting_id"
                " WHERE r.veteran_id = %s ORDER BY r.rank",
                (veteran_id,),
            )
            return [(posting_from(row), row["score"]) for row in cur.fetchall()]

    # -- matching -------------------------------------------------------------------------
    def match_postings(self, veteran: VeteranFacts, today, limit) -> list[tuple[Posting, int]]:
        """Open postings (date not passed, an opening left) ranked for ``veteran``:
        ``[(posting, score)]``, best first, ties by closing date and id."""
        return [
            (posting_from(row), score)
            for row, score in self._rank(veteran, today, limit, POSTING_COLUMNS)
        ]

    def ranked_posting_ids(self, veteran: VeteranFacts, today, limit) -> list[tuple[str, int]]:
        """As ``match_postings``, ids only (the recommendations stored)."""
        return [
            (str(row["id"]), score) for row, score in self._rank(veteran, today, limit, ("id",))
        ]

    def _rank(self, veteran, today, limit, columns):
        """Candidates tier by tier (``TIERS``), a tier read only while it could still place
        a posting."""
        args = {
            "skills": list(veteran.skills),
            "certificates": list(veteran.certificates),
            "occupations": list(veteran.occupations),
            "counties": wanted_counties(veteran),
            "min_salary": veteran.min_salary,
            "today": today,
            "limit": limit,
            "veteran_id": veteran.veteran_id,
        }
        ranked: list[tuple[dict, int]] = []
        for candidates, best_possible in TIERS:
            if len(ranked) == limit and ranked[-1][1] > best_possible:
                break
            ranked = sorted(
                ranked + self._ranked_postings(columns, args, candidates),
                key=lambda item: (-item[1], item[0]["closes_on"], item[0]["id"]),
            )
            ranked = ranked[:limit]
        return ranked

    def _ranked_postings(self, columns, args, candidates):
        selected = list(dict.fromkeys([*columns, "id", "closes_on"]))
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(selected, 'p.')}, {_SCORE_FOR_VETERAN} AS score"
                " FROM postings p"
                " WHERE p.status = 'open' AND p.closes_on >= %(today)s AND p.hired < p.openings"
                f"   AND {candidates}"
                "   AND NOT EXISTS (SELECT 1 FROM applications a"
                "                   WHERE a.veteran_id = %(veteran_id)s AND a.posting_id = p.id)"
                " ORDER BY score DESC, p.closes_on, p.id LIMIT %(limit)s",
                args,
            )
            return [(row, row.pop("score")) for row in cur.fetchall()]

    def match_veterans(
        self,
        posting: Posting,
        limit,
        counties,
    ) -> list[tuple[VeteranFacts, int]]:
        """Veterans who want a job and are not working, ranked for ``posting``, limited to
        ``counties`` (None: all): ``[(veteran, score)]``."""
        args = {
            "required": list(posting.skills_required),
            "certificates": list(posting.certificates_preferred),
            "occupation": posting.occupation,
            "county": posting.county_code,
            "salary_max": posting.salary_max,
            "dedicated": posting.dedicated,
            "limit": limit,
            "seeking": list(SEEKING_STATUSES),
            "counties": counties,
            "posting_id": posting.id,
        }
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {select(VETERAN_COLUMNS, 'v.')}, {_SCORE_FOR_POSTING} AS score"
                " FROM veterans v"
                " WHERE v.willingness = 'job' AND v.employment_status = ANY(%(seeking)s)"
                f"   AND {in_counties('v.county_code', 'counties')}"
                "   AND (v.skills && %(required)s::text[]"
                "        OR %(occupation)s = ANY(v.occupations)"
                "        OR v.county_code = %(county)s OR %(county)s = ANY(v.counties))"
                "   AND NOT EXISTS (SELECT 1 FROM applications a"
                "                   WHERE a.posting_id = %(posting_id)s"
                "                     AND a.veteran_id = v.veteran_id)"
                " ORDER BY score DESC, v.veteran_id LIMIT %(limit)s",
                args,
            )
            rows = cur.fetchall()
        return [
            (veteran_from({k: v for k, v in row.items() if k != "score"}), row["score"])
            for row in rows
        ]
