"""Matching veterans and postings. The score (0–100) is computed in SQL over candidates an
index finds (a required skill held, a wanted occupation, a wanted county), so a veteran is
never compared with every posting in Python; the reasons are worked out afterwards for the
few rows returned.

    skills       40 × required skills held / required skills (20 when none are required)
    certificate  10 when the veteran holds a preferred certificate
    occupation   20 when the occupation is one the veteran wants
    county       15 when the county is one the veteran wants (their own if they name none)
    salary       10 when the top of the range reaches the veteran's floor (or no floor)
    dedicated     5 for a post reserved for veterans (专岗)

The SQL (the scores, the candidate tiers) is in services/jobs/matching_store.py."""

from services.jobs.domain import Posting
from services.jobs.projection_domain import VeteranFacts

WEIGHTS = {
    "skills": 40,
    "skills_none_required": 20,
    "certificate": 10,
    "occupation": 20,
    "county": 15,
    "salary": 10,
    "dedicated": 5,
}


def wanted_counties(veteran: VeteranFacts) -> list[str]:
    return list(veteran.counties) or [veteran.county_code]


def reasons(veteran: VeteranFacts, posting: Posting) -> dict:
    """Why a posting and a veteran meet (or where they fall short), for a clerk to read."""
    held = set(veteran.skills)
    required = list(posting.skills_required)
    floor = veteran.min_salary
    return {
        "matched_skills": [s for s in required if s in held],
        "missing_skills": [s for s in required if s not in held],
        "certificates": [
            c for c in posting.certificates_preferred if c in set(veteran.certificates)
        ],
        "occupation_wanted": posting.occupation in set(veteran.occupations),
        "county": {
            "posting": posting.county_code,
            "wanted": posting.county_code in wanted_counties(veteran),
        },
        "salary": {
            "max": posting.salary_max,
            "floor": floor,
            "meets_floor": floor is None or posting.salary_max >= floor,
        },
        "dedicated": posting.dedicated,
    }
