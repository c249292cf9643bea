"""training's rules for what follows a course, free of I/O: which open cohorts to offer a
veteran (recommendations) and which graduates were placed within 90 days."""
import datetime as dt

from services.training.domain import Veteran

PLACEMENT_WINDOW = dt.timedelta(days=90)
# Recommendation points: a course for an occupation the veteran wants, skills they lack,
# a stated need for training, a base in their county.
POINTS = {"occupation": 40, "new_skills": 30, "need": 20, "county": 10}


# -- recommendations ----------------------------------------------------------------------
def recommend(veteran: Veteran, cohorts, limit=10):
    """Open cohorts (dicts with the course's occupation, skills_granted, county_code) ranked
    for a veteran: ``[(cohort, score, reasons)]``. A course that grants no skill the
    veteran lacks is not offered."""
    held, wanted = set(veteran.skills), set(veteran.occupations)
    ranked = []
    for cohort in cohorts:
        new = [s for s in cohort["skills_granted"] if s not in held]
        if not new:
            continue
        reasons = {"new_skills": new, "occupation_wanted": cohort["occupation"] in wanted,
                   "needs_training": "skills_training" in veteran.service_needs,
                   "in_county": cohort["county_code"] == veteran.county_code}
        score = (POINTS["new_skills"] * len(new) // len(cohort["skills_granted"])
                 + POINTS["occupation"] * reasons["occupation_wanted"]
                 + POINTS["need"] * reasons["needs_training"]
                 + POINTS["county"] * reasons["in_county"])
        ranked.append((cohort, score, reasons))
    ranked.sort(key=lambda item: (-item[1], item[0]["starts_on"], str(item[0]["id"])))
    return ranked[:limit]


def recommendations(veterans, cohorts, limit=10):
    """What to store for each veteran, in id order: ``[(veteran_id, [(cohort_id,
    score)])]``, best first."""
    return [(veteran.veteran_id, [(str(cohort["id"]), score)
                                  for cohort, score, _ in recommend(veteran, cohorts, limit)])
            for veteran in sorted(veterans, key=lambda v: v.veteran_id)]


# -- placement ----------------------------------------------------------------------------
def placed_within(completed_on, placements, window=PLACEMENT_WINDOW):
    """Whether any placement date falls from the day before training ended (a hire agreed
    during the course counts) to ``window`` after it."""
    return any(completed_on - dt.timedelta(days=1) <= day <= completed_on + window
               for day in placements)


def placement_figures(graduates, placements_by_veteran):
    """``graduates``: [(veteran_id, completed_on)] → {graduates, placed, rate}."""
    placed = sum(1 for veteran_id, completed_on in graduates
                 if placed_within(completed_on, placements_by_veteran.get(veteran_id, ())))
    return {"graduates": len(graduates), "placed_within_90_days": placed,
            "rate": round(placed / len(graduates), 4) if graduates else None}


def placement_report(graduates, placements_by_veteran):
    """``graduates``: [(cohort_id, veteran_id, completed_on)] → the figures overall and per
    cohort (in cohort id order)."""
    cohorts: dict[str, list[tuple[str, dt.date]]] = {}
    for cohort_id, veteran_id, completed_on in graduates:
        cohorts.setdefault(cohort_id, []).append((veteran_id, completed_on))
    return {**placement_figures([(v, d) for _, v, d in graduates], placements_by_veteran),
            "cohorts": [{"cohort_id": cohort_id,
                         **placement_figures(members, placements_by_veteran)}
                        for cohort_id, members in sorted(cohorts.items())]}
