"""training's rules, free of I/O: pass marks, certificate numbers, course recommendations
and placement within 90 days."""
import datetime as dt

from shared.contracts import Event
from shared.contracts.training import CERTIFICATE_ISSUED, ENROLLED, TRAINING_COMPLETED

PLACEMENT_WINDOW = dt.timedelta(days=90)
# Recommendation points: a course for an occupation the veteran wants, skills they lack,
# a stated need for training, a base in their county.
POINTS = {"occupation": 40, "new_skills": 30, "need": 20, "county": 10}


def passed(course, theory_score, practical_score):
    return theory_score >= course["theory_pass"] and practical_score >= course["practical_pass"]


def cert_no(issued_on, county_code, number):
    """退役军人培训证书 number: year, county, a running number (unique by the sequence)."""
    return f"TR{issued_on.year}{county_code}{number:07d}"


def recommend(veteran, cohorts, limit=10):
    """Open cohorts (dicts with the course's occupation, skills_granted, county_code) ranked
    for a veteran: ``[(cohort, score, reasons)]``. A course that grants no skill the
    veteran lacks is not offered."""
    held, wanted = set(veteran["skills"]), set(veteran["occupations"])
    ranked = []
    for cohort in cohorts:
        new = [s for s in cohort["skills_granted"] if s not in held]
        if not new:
            continue
        reasons = {"new_skills": new, "occupation_wanted": cohort["occupation"] in wanted,
                   "needs_training": "skills_training" in veteran["service_needs"],
                   "in_county": cohort["county_code"] == veteran["county_code"]}
        score = (POINTS["new_skills"] * len(new) // len(cohort["skills_granted"])
                 + POINTS["occupation"] * reasons["occupation_wanted"]
                 + POINTS["need"] * reasons["needs_training"]
                 + POINTS["county"] * reasons["in_county"])
        ranked.append((cohort, score, reasons))
    ranked.sort(key=lambda item: (-item[1], item[0]["starts_on"], str(item[0]["id"])))
    return ranked[:limit]


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


def enrolled_event(enrollment):
    return Event(ENROLLED, {"enrollment_id": enrollment["id"],
                            "veteran_id": enrollment["veteran_id"],
                            "cohort_id": enrollment["cohort_id"],
                            "course_id": enrollment["course_id"]})


def completed_event(enrollment, passed_):
    return Event(TRAINING_COMPLETED, {"enrollment_id": enrollment["id"],
                                      "veteran_id": enrollment["veteran_id"],
                                      "course_id": enrollment["course_id"], "passed": passed_})


def certificate_event(certificate):
    return Event(CERTIFICATE_ISSUED, {"veteran_id": certificate["veteran_id"],
                                      "certificate_name": certificate["certificate_name"],
                                      "cert_no": certificate["cert_no"],
                                      "skills_granted": list(certificate["skills"]),
                                      "issued_on": certificate["issued_on"]})
