"""followup's rules, free of I/O: the plans file, revisit dates, overdue, and retention."""
import datetime as dt
import os
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields, validate

from shared.contracts import Event
from shared.contracts.followup import (CONTACT_RECORDED, ISSUE_ESCALATED, REVISIT_COMPLETED,
                                       REVISIT_DUE, REVISIT_SCHEDULED)

DEFAULT_PLANS = Path(__file__).resolve().parent / "plans.yaml"
CATEGORIES = ("wages", "contract", "social_insurance", "skills", "housing", "family", "other")
OUTCOMES = ("employed_same", "employed_other", "left_job", "business_operating",
            "business_closed", "unreachable")
CHANNELS = ("phone", "wechat", "visit", "service_center", "hotline")
TOPICS = ("policy_consultation", "job_referral", "skills_training", "startup_loan",
          "startup_guidance", "legal_aid", "psychological_support", "complaint", "other")
# Signals that a veteran works (an outcome or a status) or does not.
WORKING_STATUSES = {"employed", "self_employed", "flexible", "public_welfare_post"}
WORKING_OUTCOMES = {"employed_same", "employed_other", "business_operating"}
NOT_WORKING_OUTCOMES = {"left_job", "business_closed"}


class PlansSchema(Schema):
    plans = fields.Dict(keys=fields.String(validate=validate.OneOf(["employment", "business"])),
                        values=fields.List(fields.Integer(validate=validate.Range(min=1, max=3650)),
                                           validate=validate.Length(min=1)), required=True)
    grace_days = fields.Integer(required=True, validate=validate.Range(min=0, max=365))
    departments = fields.Dict(keys=fields.String(validate=validate.OneOf(CATEGORIES)),
                              values=fields.String(validate=validate.Length(min=1)),
                              required=True)


def load_plans(path=None):
    path = Path(path or os.environ.get("PLANS_FILE") or DEFAULT_PLANS)
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    try:
        plans = PlansSchema().load(raw)
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc.messages}") from None
    missing = set(CATEGORIES) - set(plans["departments"])
    if missing:
        raise ValueError(f"{path}: no department for {', '.join(sorted(missing))}")
    return plans


def plan(start, days):
    return [start + dt.timedelta(days=d) for d in sorted(set(days))]


def is_overdue(due_on, today, grace_days):
    return today > due_on + dt.timedelta(days=grace_days)


def employed_at(started_on, day, signals):
    """Whether a veteran hired on ``started_on`` still worked on ``day``: the latest signal
    (``(date, working?)`` from status changes and revisit outcomes) on or before ``day``
    decides; none since the hire means still employed."""
    relevant = [(when, working) for when, working in signals if started_on <= when <= day]
    return max(relevant)[1] if relevant else True


def continuously_employed(started_on, days, signals):
    """No sign of not working from the hire through ``days`` later (the US VA's
    "rehabilitated" rule counts 60 continuous days)."""
    end = started_on + dt.timedelta(days=days)
    return not any(started_on <= when <= end and not working for when, working in signals)


def retention(hires, signals_by_veteran, today):
    """``hires``: [(veteran_id, started_on)] → the share still employed at 90 and 180 days
    and employed 60 continuous days, each over the hires old enough to judge."""
    out = {}
    for key, days, judge in (("day_90", 90, "point"), ("day_180", 180, "point"),
                             ("continuous_60", 60, "span")):
        judged = [(v, s) for v, s in hires if s + dt.timedelta(days=days) <= today]
        kept = 0
        for veteran_id, started_on in judged:
            signals = signals_by_veteran.get(veteran_id, ())
            if judge == "point":
                kept += employed_at(started_on, started_on + dt.timedelta(days=days), signals)
            else:
                kept += continuously_employed(started_on, days, signals)
        out[key] = {"hires": len(judged), "retained": kept,
                    "rate": round(kept / len(judged), 4) if judged else None}
    return out


def scheduled_event(revisit):
    return Event(REVISIT_SCHEDULED, {"revisit_id": revisit["id"],
                                     "veteran_id": revisit["veteran_id"],
                                     "kind": revisit["kind"], "due_on": revisit["due_on"]})


def due_event(row):
    return Event(REVISIT_DUE, {"revisit_id": str(row["id"]), "veteran_id": str(row["veteran_id"]),
                               "county_code": row["county_code"], "due_on": row["due_on"]})


def completed_event(revisit, outcome, satisfaction):
    return Event(REVISIT_COMPLETED, {"revisit_id": str(revisit["id"]),
                                     "veteran_id": str(revisit["veteran_id"]),
                                     "outcome": outcome, "satisfaction": satisfaction})


def escalated_event(issue):
    return Event(ISSUE_ESCALATED, {"issue_id": issue["id"], "veteran_id": issue["veteran_id"],
                                   "category": issue["category"],
                                   "department": issue["department"]})


def contact_event(contact):
    return Event(CONTACT_RECORDED, {"contact_id": contact["id"],
                                    "veteran_id": contact["veteran_id"],
                                    "channel": contact["channel"], "topic": contact["topic"]})
