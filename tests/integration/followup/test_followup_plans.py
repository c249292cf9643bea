"""Where business plans get their county: the enterprise a loan names, the veteran's county
from registry's events (newest fact wins), or a wait until registry tells followup."""

import datetime as dt
import uuid

from tests.helpers import scalar
from tests.integration.followup.conftest import START, disbursed, envelope, hired, registered


def scheduled(db):
    with db.cursor() as cur:
        cur.execute(
            "SELECT body->'data'->>'veteran_id', body->'data'->>'due_on'"
            " FROM followup.outbox WHERE routing_key = 'revisit_scheduled' ORDER BY id"
        )
        return cur.fetchall()


def test_a_loan_of_an_unknown_veteran_waits_and_is_planned_when_registry_names_the_county(
    followup, clock, deliver, db, rpc
):
    vid = str(uuid.uuid4())
    loan = disbursed(vid)
    deliver(loan)
    deliver(loan)  # redelivered while waiting: still one plan waiting
    assert rpc.followup.list_revisits({"veteran_id": vid})["total"] == 0
    assert scalar(db, "SELECT count(*) FROM followup.waiting_plans") == 1
    clock.move(days=3)  # registry's event comes later; the plan keeps the loan's day
    deliver(registered(vid, county="652325", occurred_at=START + dt.timedelta(days=3)))
    got = rpc.followup.list_revisits({"veteran_id": vid})["items"]
    assert [(r["due_on"], r["county_code"], r["kind"]) for r in got] == [
        ("2026-12-02", "652325", "business"),
        ("2027-01-31", "652325", "business"),
        ("2027-05-01", "652325", "business"),
    ]
    assert scheduled(db) == [(vid, "2026-12-02"), (vid, "2027-01-31"), (vid, "2027-05-01")]
    assert scalar(db, "SELECT count(*) FROM followup.waiting_plans") == 0
    deliver(
        envelope(
            "registry",
            "veteran_updated",
            veteran_id=vid,
            changed={},
            snapshot=registered(vid, county="652325")["data"],
        )
    )
    assert rpc.followup.list_revisits({"veteran_id": vid})["total"] == 3  # planned once


def test_a_loan_naming_an_enterprise_is_revisited_in_the_enterprises_county(
    followup, clock, deliver, rpc
):
    founder, enterprise = str(uuid.uuid4()), str(uuid.uuid4())
    deliver(registered(founder, county="652301"))
    deliver(
        envelope(
            "registry",
            "enterprise_registered",
            enterprise_id=enterprise,
            kind="individual_business",
            county_code="652327",
            industry="agriculture",
            stage="operating",
            founder_ids=[founder, founder],
            founded_on="2019-04-01",
        )
    )
    deliver(disbursed(founder, enterprise_id=enterprise, occurred_at=START + dt.timedelta(days=10)))
    got = rpc.followup.list_revisits({"veteran_id": founder}, page_size=10)["items"]
    # Three from the registration (founded years ago: counted from the registration day,
    # a founder listed twice planned once), three from the loan ten days later.
    assert [(r["due_on"], r["cause_type"], r["county_code"]) for r in got] == [
        ("2026-12-02", "enterprise_registered", "652327"),
        ("2026-12-12", "loan_disbursed", "652327"),
        ("2027-01-31", "enterprise_registered", "652327"),
        ("2027-02-10", "loan_disbursed", "652327"),
        ("2027-05-01", "enterprise_registered", "652327"),
        ("2027-05-11", "loan_disbursed", "652327"),
    ]


def test_an_older_event_about_a_veteran_never_replaces_a_newer_county(
    followup, clock, deliver, rpc
):
    vid = str(uuid.uuid4())
    deliver(registered(vid, county="652302", occurred_at=START))
    deliver(
        envelope(
            "registry",
            "veteran_updated",
            occurred_at=START - dt.timedelta(days=1),
            veteran_id=vid,
            changed={"county_code": "652323"},
            snapshot=registered(vid, county="652323")["data"],
        )
    )
    deliver(disbursed(vid))
    assert {r["county_code"] for r in rpc.followup.list_revisits({"veteran_id": vid})["items"]} == {
        "652302"
    }


def test_a_hire_recorded_late_is_planned_from_its_start_and_comes_due_at_once(
    followup, clock, deliver, tick, db, rpc
):
    vid = str(uuid.uuid4())
    event = hired(vid, started_on="2026-10-26", county="652324")
    deliver(event)
    deliver(event)
    got = rpc.followup.list_revisits({"veteran_id": vid})
    assert [(r["due_on"], r["county_code"]) for r in got["items"]] == [
        ("2026-11-02", "652324"),
        ("2026-11-25", "652324"),
        ("2027-01-24", "652324"),
        ("2027-04-24", "652324"),
    ]
    assert scalar(db, "SELECT count(*) FROM followup.hires") == 1
    assert tick() == 1  # the 7-day revisit's day is today
    assert rpc.followup.list_revisits({"status": "due"})["items"][0]["due_on"] == "2026-11-02"
