"""followup's rules without servers: what events ask for, dates, overdue, outcomes as
signals, retention arithmetic."""

import datetime as dt
import uuid

import pytest

from services.followup import domain
from shared.clock import zone
from shared.contracts import ReceivedEvent

D = dt.date
BEIJING = zone("Asia/Shanghai")


def test_plans_are_days_after_the_start_in_order():
    assert domain.plan(D(2026, 11, 2), [30, 7, 7]) == [D(2026, 11, 9), D(2026, 12, 2)]


def test_overdue_is_past_the_grace_period():
    assert not domain.is_overdue(D(2026, 11, 9), D(2026, 11, 16), 7)
    assert domain.is_overdue(D(2026, 11, 9), D(2026, 11, 17), 7)


def test_the_latest_signal_before_a_day_decides_whether_a_veteran_still_works():
    start = D(2026, 1, 1)
    signals = [(D(2026, 2, 1), False), (D(2026, 3, 1), True)]
    assert domain.employed_at(start, D(2026, 1, 31), signals) is True
    assert domain.employed_at(start, D(2026, 2, 15), signals) is False
    assert domain.employed_at(start, D(2026, 4, 1), signals) is True
    assert domain.employed_at(start, D(2026, 4, 1), [(D(2025, 12, 1), False)]) is True
    assert not domain.continuously_employed(start, 60, signals)
    assert domain.continuously_employed(start, 30, signals)


def test_retention_judges_only_hires_old_enough():
    hires = [("a", D(2026, 1, 1)), ("b", D(2026, 1, 1)), ("c", D(2026, 10, 1))]
    got = domain.retention(hires, {"b": [(D(2026, 5, 1), False)]}, D(2026, 11, 1))
    assert got["day_90"] == {"hires": 2, "retained": 2, "rate": 1.0}
    assert got["day_180"] == {"hires": 2, "retained": 1, "rate": 0.5}
    assert got["continuous_60"] == {"hires": 2, "retained": 2, "rate": 1.0}
    assert domain.retention([], {}, D(2026, 11, 1))["day_90"]["rate"] is None


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
    assert domain.event_day("2026-11-02T15:59:59+00:00", BEIJING) == D(2026, 11, 2)
    assert domain.event_day("2026-11-02T16:00:00+00:00", BEIJING) == D(2026, 11, 3)
    assert domain.event_day(dt.datetime(2026, 12, 31, 20, tzinfo=dt.UTC), BEIJING) == D(2027, 1, 1)
    # a bureau configured for Xinjiang time (UTC+6) turns the day two hours later
    assert domain.event_day("2026-11-02T17:00:00+00:00", zone("Asia/Urumqi")) == D(2026, 11, 2)


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
    facts = domain.read_events([hire, business, loan], BEIJING)
    assert [(w.veteran_id, w.kind, w.starts_on, w.county_code) for w in facts.wanted] == [
        ("v1", "employment", D(2026, 12, 1), "652301"),
        ("v2", "business", D(2026, 11, 3), "652327"),  # registration day, not founded_on
        ("v3", "business", D(2026, 11, 3), "652327"),
        ("v4", "business", D(2026, 11, 2), None),
    ]  # county found later
    assert facts.enterprises == {"e1": "652327"}
    assert facts.hires == [("v1", hire.event_id, "652301", D(2026, 12, 1))]


def test_the_newest_fact_about_a_veterans_county_wins_within_a_batch():
    snapshot = {"veteran_id": "v1", "county_code": "652323"}
    facts = domain.read_events(
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
    assert [(v, day, status) for v, _, day, status in facts.changes] == [
        ("v2", D(2026, 11, 2), "employed")
    ]


def test_a_plan_takes_its_own_county_then_the_enterprises_then_the_veterans_or_waits():
    w = domain.Wanted
    wanted = [
        w("e1", "veteran_hired", "v1", "employment", D(2026, 1, 1), "652301"),
        w("e2", "loan_disbursed", "v1", "business", D(2026, 1, 1), None, "ent"),
        w("e3", "loan_disbursed", "v2", "business", D(2026, 1, 1)),
        w("e4", "loan_disbursed", "v3", "business", D(2026, 1, 1)),
    ]
    ready, waiting = domain.place(wanted, {"v1": "652302", "v2": "652323"}, {"ent": "652327"})
    assert [(r.cause_event_id, r.county_code) for r in ready] == [
        ("e1", "652301"),
        ("e2", "652327"),
        ("e3", "652323"),
    ]
    assert [r.cause_event_id for r in waiting] == ["e4"]
    rows = domain.revisit_rows(
        ready[:1], {"employment": [7, 30, 90, 180]}, "now", lambda: str(uuid.uuid4())
    )
    assert [r["due_on"] for r in rows] == [
        D(2026, 1, 8),
        D(2026, 1, 31),
        D(2026, 4, 1),
        D(2026, 6, 30),
    ]
    assert len({r["id"] for r in rows}) == 4


def test_revisit_rows_take_their_ids_from_the_caller():
    ready = [domain.Wanted("e1", "veteran_hired", "v1", "employment", D(2026, 1, 1), "652301")]
    ids = iter(["r1", "r2"])
    rows = domain.revisit_rows(ready, {"employment": [30, 7]}, "now", lambda: next(ids))
    assert [(r["id"], r["due_on"]) for r in rows] == [("r1", D(2026, 1, 8)), ("r2", D(2026, 1, 31))]
    assert rows[0] == {
        "id": "r1",
        "veteran_id": "v1",
        "county_code": "652301",
        "kind": "employment",
        "cause_event_id": "e1",
        "cause_type": "veteran_hired",
        "due_on": D(2026, 1, 8),
        "created_at": "now",
    }


@pytest.mark.parametrize(
    "outcome,working",
    [
        ("employed_same", True),
        ("employed_other", True),
        ("business_operating", True),
        ("left_job", False),
        ("business_closed", False),
        ("unreachable", None),
    ],
)
def test_each_outcome_says_whether_the_veteran_works(outcome, working):
    assert domain.is_working(outcome=outcome) is working


def test_statuses_and_outcomes_become_dated_signals_and_unreachable_says_nothing():
    got = domain.signals(
        [
            ("v1", D(2026, 2, 1), "unemployed"),
            ("v1", D(2026, 3, 1), "flexible"),
            ("v2", D(2026, 2, 1), "in_training"),
        ],
        [("v1", D(2026, 4, 1), "unreachable"), ("v2", D(2026, 5, 1), "employed_other")],
    )
    assert got == {
        "v1": [(D(2026, 2, 1), False), (D(2026, 3, 1), True)],
        "v2": [(D(2026, 2, 1), False), (D(2026, 5, 1), True)],
    }


def test_a_hire_exactly_90_days_old_is_judged_and_one_a_day_younger_is_not():
    today = D(2026, 4, 1)
    judged, young = today - dt.timedelta(days=90), today - dt.timedelta(days=89)
    got = domain.retention([("a", judged), ("b", young)], {}, today)
    assert got["day_90"] == {"hires": 1, "retained": 1, "rate": 1.0}
    assert got["continuous_60"] == {"hires": 2, "retained": 2, "rate": 1.0}
    assert got["day_180"] == {"hires": 0, "retained": 0, "rate": None}


def test_leaving_on_day_61_keeps_the_60_continuous_days_but_not_day_90():
    start = D(2026, 1, 1)
    left = [(start + dt.timedelta(days=61), False)]
    got = domain.retention([("a", start)], {"a": left}, D(2026, 12, 31))
    assert got["continuous_60"]["retained"] == 1
    assert got["day_90"]["retained"] == 0
    back = left + [(start + dt.timedelta(days=80), True)]
    assert domain.retention([("a", start)], {"a": back}, D(2026, 12, 31))["day_90"]["retained"] == 1
