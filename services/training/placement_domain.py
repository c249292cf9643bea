"""training's rules around its courses, free of I/O: what registry's and jobs' events tell
it (veterans' facts, placements), which open cohorts to offer a veteran, and which
graduates were placed within 90 days."""

import datetime as dt
from dataclasses import dataclass

from services.training.domain import Placement, Veteran
from shared.contracts.jobs import VETERAN_HIRED
from shared.contracts.registry import VETERAN_REGISTERED, VETERAN_UPDATED
from shared.months import label, series

PLACEMENT_WINDOW = dt.timedelta(days=90)
# Recommendation points: a course for an occupation the veteran wants, skills they lack,
# a stated need for training, a base in their county.
POINTS = {"occupation": 40, "new_skills": 30, "need": 20, "county": 10}


@dataclass(frozen=True)
class OpenCohort:
    """A cohort not started yet with a seat left, with its course's facts."""

    id: str
    course_id: str
    starts_on: dt.date
    ends_on: dt.date
    capacity: int
    enrolled: int
    county_code: str
    title: str
    occupation: str
    skills_granted: list[str]
    certificate_name: str
    mode: str


# -- what registry and jobs tell training -------------------------------------------------
def projection(data) -> Veteran:
    """The facts training keeps of a veteran from registry's snapshot."""
    intentions = data.get("intentions") or {}
    return Veteran(
        veteran_id=data["veteran_id"],
        county_code=data["county_code"],
        skills=list(data.get("skills") or []),
        occupations=list(intentions.get("occupations") or []),
        service_needs=list(data.get("service_needs") or []),
        willingness=data["willingness"],
        employment_status=data["employment_status"],
    )


def read_events(events) -> tuple[dict[str, Veteran], list[Placement]]:
    """A batch of received events → the veterans' newest facts (by id) and placements:
    a hire from ``started_on``, each founder of a new business from ``founded_on``."""
    veterans: dict[str, Veteran] = {}
    placements: list[Placement] = []
    for event in events:
        data = event.data
        if event.type in (VETERAN_REGISTERED, VETERAN_UPDATED):
            facts = data if event.type == VETERAN_REGISTERED else data["snapshot"]
            veterans[facts["veteran_id"]] = projection(facts)
        elif event.type == VETERAN_HIRED:
            placements.append(
                Placement(data["veteran_id"], event.event_id, "hired", data["started_on"])
            )
        else:  # enterprise_registered
            placements += [
                Placement(founder, event.event_id, "enterprise", data["founded_on"])
                for founder in data["founder_ids"]
            ]
    return veterans, placements


# -- recommendations ----------------------------------------------------------------------
def recommend(
    veteran: Veteran, cohorts: list[OpenCohort], limit=10
) -> list[tuple[OpenCohort, int, dict]]:
    """Open cohorts ranked for a veteran: ``[(cohort, score, reasons)]``. A course that
    grants no skill the veteran lacks is not offered."""
    held, wanted = set(veteran.skills), set(veteran.occupations)
    ranked = []
    for cohort in cohorts:
        new = [s for s in cohort.skills_granted if s not in held]
        if not new:
            continue
        occupation = cohort.occupation in wanted
        need = "skills_training" in veteran.service_needs
        county = cohort.county_code == veteran.county_code
        score = (
            POINTS["new_skills"] * len(new) // len(cohort.skills_granted)
            + POINTS["occupation"] * occupation
            + POINTS["need"] * need
            + POINTS["county"] * county
        )
        ranked.append(
            (
                cohort,
                score,
                {
                    "new_skills": new,
                    "occupation_wanted": occupation,
                    "needs_training": need,
                    "in_county": county,
                },
            )
        )
    ranked.sort(key=lambda item: (-item[1], item[0].starts_on, item[0].id))
    return ranked[:limit]


def recommendations(veterans, cohorts, limit=10):
    """What to store for each veteran, in id order: ``[(veteran_id, [(cohort_id,
    score)])]``, best first."""
    return [
        (
            veteran.veteran_id,
            [(cohort.id, score) for cohort, score, _ in recommend(veteran, cohorts, limit)],
        )
        for veteran in sorted(veterans, key=lambda v: v.veteran_id)
    ]


# -- placement ----------------------------------------------------------------------------
def placed_within(completed_on, placements, window=PLACEMENT_WINDOW):
    """Whether any placement date falls from the day before training ended (a hire agreed
    during the course counts) to ``window`` after it."""
    return any(
        completed_on - dt.timedelta(days=1) <= day <= completed_on + window for day in placements
    )


def placement_figures(graduates, placements_by_veteran):
    """``graduates``: [(veteran_id, completed_on)] → {graduates, placed, rate}."""
    placed = sum(
        1
        for veteran_id, completed_on in graduates
        if placed_within(completed_on, placements_by_veteran.get(veteran_id, ()))
    )
    return {
        "graduates": len(graduates),
        "placed_within_90_days": placed,
        "rate": round(placed / len(graduates), 4) if graduates else None,
    }


def placement_day(completed_on, placements, window=PLACEMENT_WINDOW):
    """The first placement date that counts for a graduate (see ``placed_within``), or
    None."""
    days = [
        day
        for day in placements
        if completed_on - dt.timedelta(days=1) <= day <= completed_on + window
    ]
    return min(days) if days else None


def placed_by_month(graduates, placements_by_veteran, months):
    """``{month: {placed_after_training}}`` for every month of ``months``: the graduates
    (as ``placement_figures`` counts them) by the month of their first placement that
    counts, zero when none."""
    rows: dict[str, dict[str, int]] = {}
    for veteran_id, completed_on in graduates:
        day = placement_day(completed_on, placements_by_veteran.get(veteran_id, ()))
        if day is not None:
            row = rows.setdefault(label(day), {"placed_after_training": 0})
            row["placed_after_training"] += 1
    return series(months, rows, {"placed_after_training": 0})


def placement_report(graduates, placements_by_veteran):
    """``graduates``: [(cohort_id, veteran_id, completed_on)] → the figures overall and per
    cohort (in cohort id order)."""
    cohorts: dict[str, list[tuple[str, dt.date]]] = {}
    for cohort_id, veteran_id, completed_on in graduates:
        cohorts.setdefault(cohort_id, []).append((veteran_id, completed_on))
    return {
        **placement_figures([(v, d) for _, v, d in graduates], placements_by_veteran),
        "cohorts": [
            {"cohort_id": cohort_id, **placement_figures(members, placements_by_veteran)}
            for cohort_id, members in sorted(cohorts.items())
        ],
    }
