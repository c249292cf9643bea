"""followup on the real servers: plans from events (never twice), due and overdue as the
clock moves, completion with escalation, resolution, contacts, retention, stats, access."""

import datetime as dt
import uuid

import pytest

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import scalar
from tests.integration.followup.conftest import envelope, hired


def events(db, kind):
    with db.cursor() as cur:
        cur.execute(
            "SELECT body->'data' FROM followup.outbox WHERE routing_key = %s ORDER BY id", (kind,)
        )
        return [row[0] for row in cur.fetchall()]


def test_a_hire_plans_four_revisits_once(followup, clock, deliver, db, rpc):
    vid = str(uuid.uuid4())
    event = hired(vid, started_on="2026-11-02")
    deliver(event)
    deliver(event)  # redelivered: the inbox skips it
    planned = rpc.followup.list_revisits({"veteran_id": vid})
    assert planned["total"] == 4
    assert [r["due_on"] for r in planned["items"]] == [
        "2026-11-09",
        "2026-12-02",
        "2027-01-31",
        "2027-05-01",
    ]
    assert {r["kind"] for r in planned["items"]} == {"employment"}
    assert [e["due_on"] for e in events(db, "revisit_scheduled")] == [
        "2026-11-09",
        "2026-12-02",
        "2027-01-31",
        "2027-05-01",
    ]


def test_a_loan_or_a_new_business_plans_business_revisits(followup, clock, deliver, rpc):
    founder, borrower = str(uuid.uuid4()), str(uuid.uuid4())
    deliver(
        envelope(
            "registry",
            "enterprise_registered",
            enterprise_id=str(uuid.uuid4()),
            kind="enterprise",
            county_code="652302",
            industry="logistics",
            stage="startup",
            founder_ids=[founder],
            founded_on="2026-10-01",
        )
    )
    registration = envelope(
        "registry",
        "veteran_registered",
        veteran_id=borrower,
        county_code="652323",
        gender="male",
        birth_year=1990,
        discharge_type="self_employment",
        discharged_on="2016-12-01",
        skills=[],
        certificates=[],
        willingness="business",
        service_needs=[],
        employment_status="unemployed",
        intentions={"occupations": [], "counties": [], "min_salary": None},
    )
    deliver(registration)
    deliver(
        envelope(
            "loans",
            "loan_disbursed",
            loan_id=str(uuid.uuid4()),
            veteran_id=borrower,
            enterprise_id=None,
            product_code="yongjun_chuangye",
            amount="100000.00",
            status="active",
        )
    )
    deliver(
        envelope(
            "loans",
            "loan_disbursed",
            loan_id=str(uuid.uuid4()),
            veteran_id=str(uuid.uuid4()),
            enterprise_id=None,
            product_code="yongjun_chuangye",
            amount="1.00",
            status="active",
        )
    )
    by_founder = rpc.followup.list_revisits({"veteran_id": founder})["items"]
    assert [(r["due_on"], r["county_code"]) for r in by_founder] == [
        ("2026-12-02", "652302"),
        ("2027-01-31", "652302"),
        ("2027-05-01", "652302"),
    ]
    by_borrower = rpc.followup.list_revisits({"veteran_id": borrower})["items"]
    assert [r["county_code"] for r in by_borrower] == ["652323"] * 3
    # The loan of a veteran followup never heard of waits for the veteran's county.
    assert rpc.followup.list_revisits()["total"] == 6
    assert rpc.followup.health()["plans_waiting_for_county"] == 1


def test_revisits_become_due_then_overdue_as_the_clock_moves(
    followup, clock, deliver, tick, db, rpc
):
    vid = str(uuid.uuid4())
    deliver(hired(vid, started_on="2026-11-02"))
    assert tick() == 0
    clock.move(days=7)  # 2026-11-09: the first revisit's day
    assert tick() == 1
    assert tick() == 0  # announced once
    [due] = events(db, "revisit_due")
    assert due["due_on"] == "2026-11-09" and due["county_code"] == "652301"
    [work] = rpc.followup.worklist("652301")
    assert work["status"] == "due" and work["overdue"] is False
    clock.move(days=8)  # past the 7-day grace
    tick()
    assert rpc.followup.worklist("652301")[0]["status"] == "overdue"
    ahead = rpc.followup.worklist("652301", "2026-12-31")
    assert [w["due_on"] for w in ahead] == ["2026-11-09", "2026-12-02"]


def test_completing_a_revisit_escalates_its_problems(followup, clock, deliver, tick, db, rpc):
    vid = str(uuid.uuid4())
    deliver(hired(vid))
    clock.move(days=7)
    tick()
    [work] = rpc.followup.worklist("652301")
    done = rpc.followup.complete_revisit(
        work["id"],
        {
            "contacted_on": "2026-11-09",
            "outcome": "employed_same",
            "veteran_satisfaction": 4,
            "employer_rating": 5,
            "problems": [
                {"category": "wages", "description": "加班费未按时发放"},
                {"category": "social_insurance", "description": "社保未缴"},
            ],
        },
    )
    assert done["status"] == "done" and len(done["issues"]) == 2
    assert done["issues"][0]["department"] == "人力资源和社会保障局劳动保障监察大队"
    [completed] = events(db, "revisit_completed")
    assert completed == {
        "revisit_id": work["id"],
        "veteran_id": vid,
        "outcome": "employed_same",
        "satisfaction": 4,
    }
    escalated = events(db, "issue_escalated")
    assert [e["category"] for e in escalated] == ["wages", "social_insurance"]
    assert all("description" not in e for e in escalated)
    with pytest.raises(Conflict):
        rpc.followup.complete_revisit(
            work["id"], {"contacted_on": "2026-11-09", "outcome": "employed_same"}
        )
    resolved = rpc.followup.resolve_issue(done["issues"][0]["id"], {"resolution": "已督促企业补发"})
    assert resolved["status"] == "resolved"
    with pytest.raises(Conflict):
        rpc.followup.resolve_issue(done["issues"][0]["id"], {"resolution": "again"})
    stats = rpc.followup.stats("652301")
    assert stats["issues"]["wages"] == {"open": 0, "resolved": 1}
    assert stats["issues"]["social_insurance"] == {"open": 1, "resolved": 0}
    assert stats["revisits"]["done"] == 1 and stats["average_satisfaction"] == 4.0


@pytest.mark.parametrize(
    "data,field",
    [
        ({"outcome": "abducted"}, "outcome"),
        ({"veteran_satisfaction": 6}, "veteran_satisfaction"),
        ({"problems": [{"category": "weather", "description": "x"}]}, "problems.0.category"),
        ({"contacted_on": "2026-12-31"}, "contacted_on"),
    ],
)
def test_a_bad_completion_is_invalid_input_and_changes_nothing(
    followup, clock, deliver, rpc, db, data, field
):
    deliver(hired(str(uuid.uuid4())))
    revisit = rpc.followup.list_revisits()["items"][0]
    with pytest.raises(InvalidInput) as caught:
        rpc.followup.complete_revisit(
            revisit["id"], {"contacted_on": "2026-11-02", "outcome": "employed_same", **data}
        )
    assert field in caught.value.errors
    assert scalar(db, "SELECT count(*) FROM followup.revisits WHERE status = 'done'") == 0
    assert scalar(db, "SELECT count(*) FROM followup.issues") == 0
    with pytest.raises(NotFound):
        rpc.followup.complete_revisit(
            str(uuid.uuid4()), {"contacted_on": "2026-11-02", "outcome": "unreachable"}
        )


def test_contacts_are_counted_by_channel(followup, clock, deliver, rpc, db, rpc_as):
    vid = str(uuid.uuid4())
    deliver(hired(vid))
    deliver(
        envelope(
            "registry",
            "veteran_updated",
            veteran_id=vid,
            changed={},
            snapshot={
                "veteran_id": vid,
                "county_code": "652301",
                "gender": "male",
                "birth_year": 1990,
                "discharge_type": "self_employment",
                "discharged_on": "2016-12-01",
                "skills": [],
                "certificates": [],
                "willingness": "job",
                "service_needs": [],
                "employment_status": "employed",
                "intentions": {"occupations": [], "counties": [], "min_salary": None},
            },
        )
    )
    contact = rpc.followup.record_contact(
        {
            "veteran_id": vid,
            "channel": "phone",
            "topic": "policy_consultation",
            "notes": "询问创业担保贷款，手机 13900000000",
        }
    )
    assert contact["county_code"] == "652301" and "notes" not in contact
    rpc.followup.record_contact(
        {"county_code": "652302", "channel": "hotline", "topic": "legal_aid"}
    )
    with pytest.raises(InvalidInput):
        rpc.followup.record_contact({"channel": "phone", "topic": "legal_aid"})
    stranger = str(uuid.uuid4())  # not (yet) known to followup: no county known
    with pytest.raises(NotFound):
        rpc.followup.record_contact(
            {"veteran_id": stranger, "channel": "phone", "topic": "legal_aid"}
        )
    # Refused also when a county is named: the card may be another county's, and the
    # contact would land on its timeline.
    with pytest.raises(NotFound) as unknown:
        rpc.followup.record_contact(
            {
                "veteran_id": stranger,
                "county_code": "652301",
                "channel": "wechat",
                "topic": "job_referral",
            }
        )
    assert str(unknown.value) == (
        f"followup has no veteran {stranger} (registered veterans "
        "reach followup through registry's events)"
    )
    with pytest.raises(InvalidInput) as caught:
        rpc.followup.record_contact({"county_code": "652301", "channel": "fax", "topic": "rumours"})
    assert set(caught.value.errors) == {"channel", "topic"}
    [sent, _] = events(db, "contact_recorded")
    assert sent == {
        "contact_id": contact["id"],
        "veteran_id": vid,
        "channel": "phone",
        "topic": "policy_consultation",
    }
    assert scalar(db, "SELECT count(*) FROM followup.contacts") == 2
    assert rpc.followup.stats()["contacts"]["total"] == 2
    assert rpc.followup.stats("652301")["contacts"]["by_channel"] == {
        "phone": 1,
        "wechat": 0,
        "visit": 0,
        "service_center": 0,
        "hotline": 0,
    }
    with rpc_as(token("county", ["652302"])) as clerk:
        with pytest.raises(Forbidden) as refused:
            clerk.followup.worklist("652301")
        assert "652301" not in str(refused.value)
        for county_code in (None, "652302"):  # another county's veteran: as an unknown one
            with pytest.raises(NotFound) as outside:
                clerk.followup.record_contact(
                    {
                        "veteran_id": vid,
                        "channel": "visit",
                        "county_code": county_code,
                        "topic": "other",
                    }
                )
            assert str(outside.value) == str(unknown.value).replace(stranger, vid)
        assert clerk.followup.stats()["contacts"]["total"] == 1
    assert scalar(db, "SELECT count(*) FROM followup.contacts") == 2


def test_retention_counts_who_stayed_employed(followup, clock, deliver, rpc):
    stayed, left, late_leaver, recent = (str(uuid.uuid4()) for _ in range(4))
    for vid in (stayed, left, late_leaver):
        deliver(hired(vid, started_on="2026-01-05"))
    deliver(hired(recent, started_on="2026-10-01"))
    # left: unemployed after 40 days (registry's event); late_leaver: found gone at 120
    # days, on a visit made ahead of the 180-day revisit.
    deliver(
        envelope(
            "registry",
            "employment_status_changed",
            occurred_at=dt.datetime(2026, 2, 14, 3, tzinfo=dt.UTC),
            veteran_id=left,
            previous="employed",
            current="unemployed",
            reason="left_job",
            cause_event_id=None,
        )
    )
    [revisit] = [
        r
        for r in rpc.followup.list_revisits({"veteran_id": late_leaver})["items"]
        if r["due_on"] == "2026-07-04"
    ]
    rpc.followup.complete_revisit(
        revisit["id"], {"contacted_on": "2026-05-05", "outcome": "left_job"}
    )
    got = rpc.followup.retention("652301")
    assert got["day_90"] == {"hires": 3, "retained": 2, "rate": 0.6667}
    assert got["day_180"] == {"hires": 3, "retained": 1, "rate": 0.3333}
    # The hire of 2026-10-01 is too recent to judge by any of the three.
    assert got["continuous_60"] == {"hires": 3, "retained": 2, "rate": 0.6667}


def test_stats_by_month_give_retention_at_the_ninety_day_mark_and_revisit_satisfaction(
    followup, clock, deliver, rpc, rpc_as
):
    stayed, left, stayed_too, recent, elsewhere = (str(uuid.uuid4()) for _ in range(5))
    for vid in (stayed, left, stayed_too):
        deliver(hired(vid, started_on="2026-01-05"))  # day 90: 5 April
    deliver(hired(elsewhere, started_on="2026-05-31", county="652302"))  # day 90: 29 August
    deliver(hired(recent, started_on="2026-10-01"))  # day 90: 30 December, not yet judged
    deliver(
        envelope(
            "registry",
            "employment_status_changed",
            occurred_at=dt.datetime(2026, 2, 14, 3, tzinfo=dt.UTC),
            veteran_id=left,
            previous="employed",
            current="unemployed",
            reason="left_job",
            cause_event_id=None,
        )
    )

    def complete(vid, satisfaction, at, index=0):
        revisit = rpc.followup.list_revisits({"veteran_id": vid})["items"][index]
        clock.at = at
        rpc.followup.complete_revisit(
            revisit["id"],
            {
                "contacted_on": at.astimezone(clock.tz).date().isoformat(),
                "outcome": "employed_same",
                "veteran_satisfaction": satisfaction,
            },
        )

    # 23:00 on 30 September in Beijing: September. 23:30 UTC the same day is already
    # 1 October there: October, with the other October revisit.
    complete(stayed, 2, dt.datetime(2026, 9, 30, 15, 0, tzinfo=dt.UTC))
    complete(stayed_too, 5, dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC))
    complete(recent, 4, dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.UTC))
    complete(elsewhere, 1, dt.datetime(2026, 10, 21, 2, 0, tzinfo=dt.UTC))
    clock.at = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)

    months = rpc.followup.stats()["by_month"]
    assert list(months) == ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]
    assert months["2026-04"] == {
        "hires_judged": 3,
        "retained": 2,
        "retention_90": 0.6667,
        "revisits_done": 0,
        "satisfaction": None,
    }
    assert (months["2026-08"]["hires_judged"], months["2026-08"]["retention_90"]) == (1, 1.0)
    assert (months["2026-09"]["revisits_done"], months["2026-09"]["satisfaction"]) == (1, 2.0)
    assert (months["2026-10"]["revisits_done"], months["2026-10"]["satisfaction"]) == (3, 3.33)
    assert months["2026-11"]["hires_judged"] == 0
    assert sum(m["hires_judged"] for m in months.values()) == 4
    county = rpc.followup.stats("652301")["by_month"]
    assert (county["2026-10"]["revisits_done"], county["2026-10"]["satisfaction"]) == (2, 4.5)
    assert county["2026-08"]["retention_90"] is None
    with rpc_as(token("viewer", ["652302"])) as viewer:
        mine = viewer.followup.stats()["by_month"]
    assert mine["2026-10"]["satisfaction"] == 1.0 and mine["2026-04"]["hires_judged"] == 0
