"""Matching veterans and postings. The score (0–100) is computed in SQL over candidates an
index finds (a required skill held, a wanted occupation, a wanted county), so a veteran is
never compared with every posting in Python; the reasons are worked out afterwards for the
few rows returned.

    skills       40 × required skills held / required skills (20 when none are required)
    certificate  10 when the veteran holds a preferred certificate
    occupation   20 when the occupation is one the veteran wants
    county       15 when the county is one the veteran wants (their own if they name none)
    salary       10 when the top of the range reaches the veteran's floor (or no floor)
    dedicated     5 for a post reserved for veterans (专岗)"""
from shared.db import Store

WEIGHTS = {"skills": 40, "skills_none_required": 20, "certificate": 10, "occupation": 20,
           "county": 15, "salary": 10, "dedicated": 5}

_SCORE_FOR_VETERAN = f"""
    (CASE WHEN cardinality(p.skills_required) = 0 THEN {WEIGHTS['skills_none_required']}
          -- The array operators settle most rows; counting runs for partial overlaps only.
          WHEN NOT p.skills_required && %(skills)s::text[] THEN 0
          WHEN p.skills_required <@ %(skills)s::text[] THEN {WEIGHTS['skills']}
          ELSE {WEIGHTS['skills']} * (SELECT count(*) FROM unnest(p.skills_required) s
                                      WHERE s = ANY(%(skills)s::text[]))
               / cardinality(p.skills_required) END
     + CASE WHEN p.certificates_preferred && %(certificates)s::text[]
            THEN {WEIGHTS['certificate']} ELSE 0 END
     + CASE WHEN p.occupation = ANY(%(occupations)s::text[]) THEN {WEIGHTS['occupation']} ELSE 0 END
     + CASE WHEN p.county_code = ANY(%(counties)s::text[]) THEN {WEIGHTS['county']} ELSE 0 END
     + CASE WHEN %(min_salary)s::int IS NULL OR p.salary_max >= %(min_salary)s::int
            THEN {WEIGHTS['salary']} ELSE 0 END
     + CASE WHEN p.dedicated THEN {WEIGHTS['dedicated']} ELSE 0 END)::int"""

# Candidates come in tiers an index finds, each with the most any of its postings can
# score: sharing a skill and a wanted occupation; one of the two, in a wanted county or
# not; a wanted county only. A tier is looked at only while the ranking so far leaves room
# for a posting scoring its maximum, so most calls score a few hundred rows, not tens of
# thousands.
_SKILL = "p.skills_required && %(skills)s::text[]"
_OCCUPATION = "p.occupation = ANY(%(occupations)s::text[])"
_COUNTY = "p.county_code = ANY(%(counties)s::text[])"
_ONE_OF = f"(({_SKILL}) AND NOT {_OCCUPATION} OR {_OCCUPATION} AND NOT ({_SKILL}))"
_ONE_OF_MAX = (max(WEIGHTS["skills"], WEIGHTS["occupation"] + WEIGHTS["skills_none_required"])
               + WEIGHTS["certificate"] + WEIGHTS["salary"] + WEIGHTS["dedicated"])
TIERS = (
    (f"{_SKILL} AND {_OCCUPATION}", sum(WEIGHTS.values()) - WEIGHTS["skills_none_required"]),
    (f"{_ONE_OF} AND {_COUNTY}", _ONE_OF_MAX + WEIGHTS["county"]),
    (f"{_ONE_OF} AND NOT {_COUNTY}", _ONE_OF_MAX),
    (f"{_COUNTY} AND NOT ({_SKILL}) AND NOT {_OCCUPATION}",
     WEIGHTS["skills_none_required"] + WEIGHTS["certificate"] + WEIGHTS["county"]
     + WEIGHTS["salary"] + WEIGHTS["dedicated"]),
)

_VETERAN_COUNTIES = ("CASE WHEN cardinality(v.counties) = 0 THEN ARRAY[v.county_code]"
                     " ELSE v.counties END")

_SCORE_FOR_POSTING = f"""
    (CASE WHEN cardinality(%(required)s::text[]) = 0 THEN {WEIGHTS['skills_none_required']}
          ELSE {WEIGHTS['skills']} * (SELECT count(*) FROM unnest(%(required)s::text[]) s
                                      WHERE s = ANY(v.skills))
               / cardinality(%(required)s::text[]) END
     + CASE WHEN v.certificates && %(certificates)s::text[] THEN {WEIGHTS['certificate']} ELSE 0 END
     + CASE WHEN %(occupation)s = ANY(v.occupations) THEN {WEIGHTS['occupation']} ELSE 0 END
     + CASE WHEN %(county)s = ANY({_VETERAN_COUNTIES}) THEN {WEIGHTS['county']} ELSE 0 END
     + CASE WHEN v.min_salary IS NULL OR v.min_salary <= %(salary_max)s
            THEN {WEIGHTS['salary']} ELSE 0 END
     + CASE WHEN %(dedicated)s THEN {WEIGHTS['dedicated']} ELSE 0 END)::int"""


def wanted_counties(veteran):
    return list(veteran["counties"]) or [veteran["county_code"]]


class MatchingStore(Store):
    def match_postings(self, veteran, today, limit, columns):
        """Open postings (date not passed, an opening left) ranked for ``veteran`` (a
        projection row): ``[(posting row, score)]``, best first, ties by closing date and
        id; candidates tier by tier (``TIERS``)."""
        args = {"skills": list(veteran["skills"]), "certificates": list(veteran["certificates"]),
                "occupations": list(veteran["occupations"]),
                "counties": wanted_counties(veteran), "min_salary": veteran["min_salary"],
                "today": today, "limit": limit, "veteran_id": veteran["veteran_id"]}
        ranked = []
        for candidates, best_possible in TIERS:
            if len(ranked) == limit and ranked[-1][1] > best_possible:
                break
            ranked = sorted(ranked + self._ranked_postings(columns, args, candidates),
                            key=lambda item: (-item[1], item[0]["closes_on"], item[0]["id"]))
            ranked = ranked[:limit]
        return ranked

    def _ranked_postings(self, columns, args, candidates):
        selected = list(dict.fromkeys([*columns, "id", "closes_on"]))
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {', '.join('p.' + c for c in selected)}, {_SCORE_FOR_VETERAN} AS score"
                " FROM postings p"
                " WHERE p.status = 'open' AND p.closes_on >= %(today)s AND p.hired < p.openings"
                f"   AND {candidates}"
                "   AND NOT EXISTS (SELECT 1 FROM applications a"
                "                   WHERE a.veteran_id = %(veteran_id)s AND a.posting_id = p.id)"
                " ORDER BY score DESC, p.closes_on, p.id LIMIT %(limit)s", args)
            return [(row, row.pop("score")) for row in cur.fetchall()]

    def match_veterans(self, posting, limit, counties, seeking, columns):
        """Veterans who want a job and are not working, ranked for ``posting``, limited to
        ``counties`` (None: all): ``[(veteran row, score)]``."""
        args = {"required": list(posting["skills_required"]),
                "certificates": list(posting["certificates_preferred"]),
                "occupation": posting["occupation"], "county": posting["county_code"],
                "salary_max": posting["salary_max"], "dedicated": posting["dedicated"],
                "limit": limit, "seeking": list(seeking), "counties": counties,
                "posting_id": posting["id"]}
        with self.dict_cursor() as cur:
            cur.execute(
                f"SELECT {', '.join('v.' + c for c in columns)}, {_SCORE_FOR_POSTING} AS score"
                " FROM veterans v"
                " WHERE v.willingness = 'job' AND v.employment_status = ANY(%(seeking)s)"
                "   AND (%(counties)s::text[] IS NULL OR v.county_code = ANY(%(counties)s::text[]))"
                "   AND (v.skills && %(required)s::text[]"
                "        OR %(occupation)s = ANY(v.occupations)"
                "        OR v.county_code = %(county)s OR %(county)s = ANY(v.counties))"
                "   AND NOT EXISTS (SELECT 1 FROM applications a"
                "                   WHERE a.posting_id = %(posting_id)s AND a.veteran_id = v.veteran_id)"
                " ORDER BY score DESC, v.veteran_id LIMIT %(limit)s", args)
            return [(row, row.pop("score")) for row in cur.fetchall()]


def reasons(veteran, posting):
    """Why a posting and a veteran meet (or where they fall short), for a clerk to read."""
    held = set(veteran["skills"])
    required = list(posting["skills_required"])
    floor = veteran["min_salary"]
    return {
        "matched_skills": [s for s in required if s in held],
        "missing_skills": [s for s in required if s not in held],
        "certificates": [c for c in posting["certificates_preferred"]
                         if c in set(veteran["certificates"])],
        "occupation_wanted": posting["occupation"] in set(veteran["occupations"]),
        "county": {"posting": posting["county_code"],
                   "wanted": posting["county_code"] in wanted_counties(veteran)},
        "salary": {"max": posting["salary_max"], "floor": floor,
                   "meets_floor": floor is None or posting["salary_max"] >= floor},
        "dedicated": posting["dedicated"],
    }
