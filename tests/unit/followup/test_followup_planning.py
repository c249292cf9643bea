"""What consumed events tell followup, without servers: the plans they ask for and from
which day, the newest county, where a plan belongs, and the revisits laid out."""

import datetime as dt
import uuid

from services.followup import domain, planning_domain
from shared.clock import zone
from shared.contracts import ReceivedEvent

D = dt.date
BEIJING = zone("Asia/Shanghai")
NOW = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)


def test_plans_are_days_after_the_start_in_order():
    assert planning_domain.plan(D(2026, 11, 2), [30, 7, 7]) == [D(2026, 11, 9), D(2026, 12, 2)]


def received(event_type, occurred_at="2026-11-02T02:00:00+00:00", **data):
    return ReceivedEvent(
        event_id=str(uuid.uuid4()),
        type=event_type,
        source="x",
        occurred_at=occurred_at,
        correlation_id=None,
        version=1,
        data=data,
    )


def test_an_events_day_is_its_day_in_the_bureaus_zone():
    assert planning_domain.event_day("2026-11-02T15:59:59+00:00", BEIJING) == D(2026, 11, 2)
    assert planning_domain.event_day("2026-11-02T16:00:00+00:00", BEIJING) == D(2026, 11, 3)
    assert planning_domain.event_day(dt.datetime(2026, 12, 31, 20, tzinfo=dt.UTC), BEIJING) == D(
        2027, 1, 1
    )
    # a bureau configured for Xinjiang time (UTC+6) turns the day two hours later
    assert planning_domain.event_day("2026-11-02T17:00:00+00:00", zone("Asia/Urumqi")) == D(
        2026, 11, 2
    )


def test_each_event_asks_for_the_plan_of_its_kind_from_its_day():
    hire = received(
        "veteran_hired", veteran_id="v1", county_code="652301", started_on=D(2026, 12, 1)
    )
    business = received(
        "enterprise_registered",
        occurred_at="2026-11-02T17:00:00+00:00",
        enterprise_id="e1",
        county_code="652327",
        founder_ids=["v2", "v3", "v2"],
        founded_on=D(2019, 1, 1),
    )
    loan = received("loan_disbursed", veteran_id="v4", enterprise_id=None)
    facts = planning_domain.read_events([hire, business, loan], BEIJING)
    assert [(w.veteran_id, w.kind, w.starts_on, w.county_code) for w in facts.wanted] == [
        ("v1", "employment", D(2026, 12, 1), "652301"),
        ("v2", "business", D(2026, 11, 3), "652327"),  # registration day, not founded_on
        ("v3", "business", D(2026, 11, 3), "652327"),
        ("v4", "business", D(2026, 11, 2), None),
    ]  # county found later
    assert facts.enterprises == {"e1": "652327"}
    assert facts.hires == [domain.Hire("v1", hire.event_id, "652301", D(2026, 12, 1))]


def test_the_newest_fact_about_a_veterans_county_wins_within_a_batch():
    snapshot = {"veteran_id": "v1", "county_code": "652323"}
    facts = planning_domain.read_events(
        [
            received(
                "veteran_registered",
                "2026-11-02T03:00:00+00:00",
                veteran_id="v1",
                county_code="652301",
            ),
            received(
                "veteran_updated",
                "2026-11-01T03:00:00+00:00",
                veteran_id="v1",
                changed={},
                snapshot=snapshot,
            ),
            received(
                "employment_status_changed",
                "2026-11-02T05:00:00+00:00",
                veteran_id="v2",
                previous="unemployed",
                current="employed",
                reason="hired",
                cause_event_id=None,
                county_code=None,
            ),
        ],
        BEIJING,
    )
    assert {v: c for v, (c, _) in facts.counties.items()} == {"v1": "652301"}
    assert [(c.veteran_id, c.on_day, c.current) for c in facts.changes] == [
        ("v2", D(2026, 11, 2), "employed")
    ]


def test_a_plan_takes_its_own_county_then_the_enterprises_then_the_veterans_or_waits():
    w = planning_domain.Wanted
    wanted = [
        w("e1", "veteran_hired", "v1", "employment", D(2026, 1, 1), "652301"),
        w("e2", "loan_disbursed", "v1", "business", D(2026, 1, 1), None, "ent"),
        w("e3", "loan_disbursed", "v2", "business", D(2026, 1, 1)),
        w("e4", "loan_disbursed", "v3", "business", D(2026, 1, 1)),
    ]
    ready, waiting = planning_domain.place(
        wanted, {"v1": "652302", "v2": "652323"}, {"ent": "652327"}
    )
    assert [(r.cause_event_id, r.county_code) for r in ready] == [
        ("e1", "652301"),
        ("e2", "652327"),
        ("e3", "652323"),
    ]
    assert [r.cause_event_id for r in waiting] == ["e4"]
    revisits = planning_domain.new_revisits(
        ready[:1], {"employment": [7, 30, 90, 180]}, NOW, lambda: str(uuid.uuid4())
    )
    assert [r.due_on for r in revisits] == [
        D(2026, 1, 8),
        D(2026, 1, 31),
        D(2026, 4, 1),
        D(2026, 6, 30),
    ]
    assert len({r.id for r in revisits}) == 4


def test_revisits_take_their_ids_and_time_from_the_caller():
    ready = [
        planning_domain.Wanted("e1", "veteran_hired", "v1", "employment", D(2026, 1, 1), "652301")
    ]
    ids = iter(["r1", "r2"])
    revisits = planning_domain.new_revisits(ready, {"employment": [30, 7]}, NOW, lambda: next(ids))
    assert [(r.id, r.due_on) for r in revisits] == [("r1", D(2026, 1, 8)), ("r2", D(2026, 1, 31))]
    assert revisits[0] == domain.Revisit(
        id="r1",
        veteran_id="v1",
        county_code="652301",
        kind="employment",
        cause_event_id="e1",
        cause_type="veteran_hired",
        due_on=D(2026, 1, 8),
        status="scheduled",
        created_at=NOW,
    )


def test_only_plans_without_a_county_send_followup_looking_for_one():
    w = planning_domain.Wanted
    wanted = [
        w("e1", "veteran_hired", "v1", "employment", D(2026, 1, 1), "652301"),
        w("e2", "loan_disbursed", "v2", "business", D(2026, 1, 1), None, "ent"),
        w("e3", "loan_disbursed", "v3", "business", D(2026, 1, 1)),
    ]
    assert planning_domain.unplaced(wanted) == ({"v2", "v3"}, {"ent", None})
