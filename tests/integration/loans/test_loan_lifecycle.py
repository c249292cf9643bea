"""loans: the 拥军创业贷 lifecycle on the real servers: every transition and its event, the
illegal ones, concurrent approvals and disbursements, schedules, repayments, delinquency,
subsidies, tax relief and statistics."""

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import envelope, publish, registered_event, scalar
from tests.integration.loans.loan_helpers import START, application, loan_events

BEIJING = ZoneInfo("Asia/Shanghai")


def test_a_loan_from_application_to_repaid(loans, clock, veteran, rpc, db):
    vid = veteran()
    loan = rpc.loans.apply_loan(application(vid))
    assert loan["status"] == "submitted" and loan["amount"] == "100000.00"
    clock.move(days=5)
    approved = rpc.loans.approve_loan(loan["id"], {"approved_amount": "80000.00"})
    assert approved["status"] == "approved" and approved["approved_amount"] == "80000.00"
    clock.move(days=9)
    active = rpc.loans.disburse_loan(loan["id"], {"disbursed_on": "2026-11-16"})
    assert active["status"] == "active" and active["days_to_disbursement"] == 14

    got = rpc.loans.get_loan(loan["id"])
    assert len(got["schedule"]) == 24
    assert sum(Decimal(i["principal"]) for i in got["schedule"]) == Decimal("80000.00")
    assert got["schedule"][0]["due_on"] == "2026-12-16"
    # Priced at approval: the (demo) one-year LPR in force, 3.00 %, + the product's 0 spread.
    assert got["schedule"][0]["interest"] == "200.00"  # 80,000 × 3.00% / 12
    assert got["schedule"][0]["subsidised_interest"] == "100.00"  # half paid by government
    assert got["totals"]["outstanding_principal"] == "80000.00"

    total = got["totals"]["outstanding"]
    closed = rpc.loans.record_repayment(loan["id"], {"amount": total, "paid_on": "2026-11-16"})
    assert closed["status"] == "closed" and closed["totals"]["outstanding"] == "0.00"
    assert [(h["from_status"], h["to_status"]) for h in closed["history"]] == [
        (None, "submitted"),
        ("submitted", "approved"),
        ("approved", "active"),
        ("active", "closed"),
    ]
    events = loan_events(db)
    assert [e[0] for e in events] == [
        "loan_applied",
        "loan_approved",
        "loan_disbursed",
        "loan_closed",
    ]
    assert events[1][1]["amount"] == "80000.00" and events[3][1]["status"] == "closed"
    assert [loan_["id"] for loan_ in rpc.loans.loans_for(vid)] == [loan["id"]]


def test_an_application_makes_the_veteran_ineligible_for_a_second(loans, veteran, rpc, db):
    vid = veteran()
    assert rpc.loans.check_eligibility(vid, "yongjun_chuangye")["eligible"] is True
    first = rpc.loans.apply_loan(application(vid))
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.apply_loan(application(vid))
    assert "criteria.no_active_loan" in caught.value.errors
    [latest] = rpc.loans.get_eligibility(vid, "yongjun_chuangye")
    assert latest["eligible"] is False
    rpc.loans.withdraw_loan(first["id"])
    assert rpc.loans.get_eligibility(vid)[0]["eligible"] is True  # free to apply again
    assert [e[0] for e in loan_events(db)] == ["loan_applied", "loan_closed"]
    assert loan_events(db)[1][1]["status"] == "withdrawn"


@pytest.mark.parametrize(
    "facts,fields,errors",
    [
        ({"willingness": "job"}, {}, {"criteria.business_intent"}),
        ({}, {"amount": "300000.01"}, {"amount"}),
        ({}, {"amount": "9999.99"}, {"amount"}),
        ({}, {"term_months": 37}, {"term_months"}),
        ({"birth_year": 1950}, {"amount": "500000.00"}, {"criteria.age_within_limits", "amount"}),
        ({}, {"amount": 100000.5}, {"amount"}),  # a float is never money
        ({}, {"amount": "100000.001"}, {"amount"}),
        ({}, {"product_code": "gold_loan"}, {"product_code"}),
        (
            {},
            {"enterprise_id": "00000000-0000-0000-0000-000000000000"},
            {"criteria.enterprise_not_closed"},
        ),
    ],
)
def test_an_application_that_fails_is_invalid_input_naming_why(
    loans, veteran, rpc, db, facts, fields, errors
):
    vid = veteran(**facts)
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.apply_loan(application(vid, **fields))
    assert set(caught.value.errors) == errors
    assert scalar(db, "SELECT count(*) FROM loans.loans") == 0


def test_an_unknown_veteran_cannot_apply(loans, rpc):
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.apply_loan(application("00000000-0000-0000-0000-000000000000"))
    assert "criteria.registered_veteran" in caught.value.errors


def _to(rpc, loan_id, state):
    """Drive a fresh loan to ``state`` through the RPCs."""
    steps = {
        "approved": [("approve_loan", {})],
        "rejected": [("reject_loan", "资料不全")],
        "withdrawn": [("withdraw_loan",)],
        "active": [("approve_loan", {}), ("disburse_loan", {"disbursed_on": "2026-11-02"})],
        "written_off": [
            ("approve_loan", {}),
            ("disburse_loan", {"disbursed_on": "2026-11-02"}),
            ("write_off_loan", "经营失败，无力偿还"),
        ],
    }
    for name, *args in steps.get(state, []):
        getattr(rpc.loans, name)(loan_id, *args)


ACTIONS = {
    "approve": lambda rpc, i: rpc.loans.approve_loan(i, {}),
    "reject": lambda rpc, i: rpc.loans.reject_loan(i, "理由"),
    "withdraw": lambda rpc, i: rpc.loans.withdraw_loan(i),
    "disburse": lambda rpc, i: rpc.loans.disburse_loan(i, {"disbursed_on": "2026-11-02"}),
    "repay": lambda rpc, i: rpc.loans.record_repayment(
        i, {"amount": "100.00", "paid_on": "2026-11-02"}
    ),
    "write_off": lambda rpc, i: rpc.loans.write_off_loan(i, "理由"),
}
ILLEGAL = (
    [("submitted", a) for a in ("disburse", "repay", "write_off")]
    + [("approved", a) for a in ("approve", "reject", "repay", "write_off")]
    + [("rejected", a) for a in ACTIONS]
    + [("withdrawn", a) for a in ACTIONS]
    + [("active", a) for a in ("approve", "reject", "withdraw", "disburse")]
    + [("written_off", a) for a in ACTIONS]
)


@pytest.mark.parametrize("state,action", ILLEGAL)
def test_every_move_not_allowed_from_a_state_is_a_conflict(
    loans, clock, veteran, rpc, db, state, action
):
    loan_id = rpc.loans.apply_loan(application(veteran()))["id"]
    _to(rpc, loan_id, state)
    before = scalar(db, "SELECT count(*) FROM loans.loan_history")
    with pytest.raises(Conflict) as caught:
        ACTIONS[action](rpc, loan_id)
    assert state in caught.value.message
    assert rpc.loans.get_loan(loan_id)["status"] == state
    assert scalar(db, "SELECT count(*) FROM loans.loan_history") == before


@pytest.mark.parametrize("action", ["approve", "disburse"])
def test_of_two_concurrent_moves_one_wins_and_history_shows_one(
    loans, clock, veteran, rpc, db, config, admin_token, action
):
    loan_id = rpc.loans.apply_loan(application(veteran()))["id"]
    if action == "disburse":
        rpc.loans.approve_loan(loan_id, {})
    outcomes = []

    def attempt():
        with ClusterRpcProxy(config, context_data={"auth_token": admin_token}) as proxy:
            try:
                ACTIONS[action](proxy, loan_id)
                outcomes.append("won")
            except Conflict:
                outcomes.append("conflict")

    for thread in [eventlet.spawn(attempt), eventlet.spawn(attempt)]:
        thread.wait()
    assert sorted(outcomes) == ["conflict", "won"]
    target = {"approve": "approved", "disburse": "active"}[action]
    assert scalar(db, "SELECT count(*) FROM loans.loan_history WHERE to_status = %s", target) == 1
    assert (
        scalar(
            db,
            "SELECT count(*) FROM loans.outbox WHERE routing_key = %s",
            {"approve": "loan_approved", "disburse": "loan_disbursed"}[action],
        )
        == 1
    )


def test_an_overdue_instalment_makes_the_loan_delinquent_until_caught_up(
    loans, clock, veteran, rpc, db
):
    loan_id = rpc.loans.apply_loan(application(veteran(), term_months=12))["id"]
    rpc.loans.approve_loan(loan_id, {})
    rpc.loans.disburse_loan(loan_id, {"disbursed_on": "2026-11-02"})
    clock.move(days=45)  # the first instalment fell due on 2026-12-02
    with entrypoint_hook(loans, "mark_delinquency") as sweep:
        assert sweep() == 1
    got = rpc.loans.get_loan(loan_id)
    assert got["status"] == "delinquent" and got["days_overdue"] == 15
    assert got["schedule"][0]["overdue"] is True
    with pytest.raises(InvalidInput) as caught:  # more than is owed
        rpc.loans.record_repayment(loan_id, {"amount": "999999.00", "paid_on": "2026-12-17"})
    assert "amount" in caught.value.errors

    caught_up = rpc.loans.record_repayment(
        loan_id, {"amount": got["schedule"][0]["due"], "paid_on": "2026-12-17"}
    )
    assert caught_up["status"] == "active" and caught_up["days_overdue"] == 0
    assert caught_up["schedule"][0]["paid_on"] == "2026-12-17"
    assert caught_up["schedule"][1]["paid"] == "0.00"
    assert [h["to_status"] for h in caught_up["history"]][-2:] == ["delinquent", "active"]


def test_events_are_stamped_by_the_services_clock(loans, clock, veteran, rpc, db):
    clock.move(days=3)
    rpc.loans.apply_loan(application(veteran()))
    stamped = scalar(
        db, "SELECT body->>'occurred_at' FROM loans.outbox WHERE routing_key = 'loan_applied'"
    )
    assert dt.datetime.fromisoformat(stamped) == START + dt.timedelta(days=3)


def test_the_sweep_reaches_every_repaying_loan_not_just_the_first_page(
    loans, clock, veteran, rpc, db
):
    """1,200 loans being repaid, more than two pages of the sweep; only the last by id
    has an instalment overdue."""
    template = rpc.loans.apply_loan(application(veteran(), term_months=12))["id"]
    rpc.loans.approve_loan(template, {})
    rpc.loans.disburse_loan(template, {"disbursed_on": "2026-11-02"})
    ids = sorted(str(uuid.uuid4()) for _ in range(1200))
    with db.cursor() as cur:
        cur.execute(
            "SELECT string_agg(column_name, ', ') FROM information_schema.columns"
            " WHERE table_schema = 'loans' AND table_name = 'loans'"
            " AND column_name <> 'id'"
        )
        columns = cur.fetchone()[0]
        cur.execute(
            f"INSERT INTO loans.loans (id, {columns}) SELECT new.id::uuid, {columns}"
            " FROM loans.loans, unnest(%s::text[]) AS new(id) WHERE loans.id = %s",
            (ids, template),
        )
        # Every copy's schedule a year later, but the last one's: that one falls due.
        cur.execute(
            "INSERT INTO loans.instalments (loan_id, number, due_on, principal,"
            " interest, subsidised_interest) SELECT new.id::uuid, number,"
            " due_on + CASE WHEN new.id = %s THEN 0 ELSE 365 END, principal, interest,"
            " subsidised_interest FROM loans.instalments, unnest(%s::text[]) AS new(id)"
            " WHERE loan_id = %s",
            (ids[-1], ids, template),
        )
        cur.execute("UPDATE loans.loans SET status = 'closed' WHERE id = %s", (template,))
    clock.move(days=45)
    with entrypoint_hook(loans, "mark_delinquency") as sweep:
        assert sweep() == 1
    assert scalar(
        db, "SELECT array_agg(id::text) FROM loans.loans WHERE status = 'delinquent'"
    ) == [ids[-1]]
    assert scalar(db, "SELECT days_overdue FROM loans.loans WHERE id = %s", ids[-1]) == 15
    assert scalar(db, "SELECT count(*) FROM loans.loans WHERE status = 'active'") == 1199


def test_founding_an_enterprise_makes_a_job_seeker_eligible(loans, veteran, rpc, config):
    vid = veteran(willingness="job")
    assert rpc.loans.get_eligibility(vid)[0]["eligible"] is False
    enterprise = {
        "enterprise_id": "5b7f0f43-7a52-4d7e-9f38-3a52a1f0c001",
        "kind": "enterprise",
        "county_code": "652301",
        "industry": "logistics",
        "stage": "startup",
        "founder_ids": [vid],
        "founded_on": "2026-10-01",
    }
    event = registered_event(**enterprise)
    event.update(type="enterprise_registered", data=enterprise)
    with entrypoint_waiter(loans, "on_registry_events", timeout=15):
        publish(config, event)
    assert rpc.loans.get_eligibility(vid)[0]["eligible"] is True
    loan = rpc.loans.apply_loan(application(vid, enterprise_id=enterprise["enterprise_id"]))
    assert loan["enterprise_id"] == enterprise["enterprise_id"]

    closed = registered_event()
    closed.update(
        type="enterprise_updated",
        data={
            "enterprise_id": enterprise["enterprise_id"],
            "changed": {"stage": "closed"},
            "snapshot": {**enterprise, "stage": "closed"},
        },
    )
    with entrypoint_waiter(loans, "on_registry_events", timeout=15):
        publish(config, closed)
    [latest] = rpc.loans.get_eligibility(vid, "yongjun_chuangye")
    failed = [c["code"] for c in latest["criteria"] if not c["passed"]]
    assert "business_intent" in failed


def test_subsidies_are_capped_per_beneficiary_kind_and_year(loans, veteran, rpc, db):
    vid = veteran()
    granted = rpc.loans.grant_subsidy(
        {"veteran_id": vid, "kind": "startup", "amount": "6000.00", "period": "2026"}
    )
    assert granted["amount"] == "6000.00"
    with pytest.raises(Conflict) as caught:
        rpc.loans.grant_subsidy(
            {"veteran_id": vid, "kind": "startup", "amount": "4000.01", "period": "2026"}
        )
    assert caught.value.details == {"granted": "6000.00", "cap": "10000.00"}
    rpc.loans.grant_subsidy(
        {"veteran_id": vid, "kind": "startup", "amount": "4000.00", "period": "2026"}
    )  # exactly the cap
    rpc.loans.grant_subsidy(
        {"veteran_id": vid, "kind": "startup", "amount": "4000.00", "period": "2027"}
    )  # a new year
    granted = "SELECT count(*) FROM loans.outbox WHERE routing_key = 'subsidy_granted'"
    assert scalar(db, granted) == 3
    for bad, field in (
        ({"kind": "lottery"}, "kind"),
        ({"period": "26"}, "period"),
        ({"amount": "-1"}, "amount"),
        ({"enterprise_id": "5b7f0f43-7a52-4d7e-9f38-3a52a1f0c001"}, "veteran_id"),
    ):
        with pytest.raises(InvalidInput) as caught:
            rpc.loans.grant_subsidy(
                {
                    "veteran_id": vid,
                    "kind": "employment",
                    "amount": "100.00",
                    "period": "2026",
                    **bad,
                }
            )
        assert field in caught.value.errors
    with pytest.raises(NotFound):
        rpc.loans.grant_subsidy(
            {
                "veteran_id": "00000000-0000-0000-0000-000000000000",
                "kind": "employment",
                "amount": "100.00",
                "period": "2026",
            }
        )


def test_stats_count_loans_subsidies_and_tax_relief(loans, clock, veteran, rpc, rpc_as, config):
    first, second, elsewhere = veteran(), veteran(), veteran(county_code="652302")
    shop = {  # an individual business: the founder's tax relief (20,000 in 2026)
        "enterprise_id": str(uuid.uuid4()),
        "kind": "individual_business",
        "county_code": "652301",
        "industry": "catering",
        "stage": "operating",
        "founder_ids": [first],
        "founded_on": "2025-03-01",
    }
    with entrypoint_waiter(loans, "on_registry_events", timeout=15):
        publish(config, envelope("registry", "enterprise_registered", **shop))
    disbursed = rpc.loans.apply_loan(application(first))["id"]
    rpc.loans.approve_loan(disbursed, {"approved_amount": "50000.00"})
    clock.move(days=10)
    rpc.loans.disburse_loan(disbursed, {"disbursed_on": "2026-11-12"})
    rpc.loans.apply_loan(application(second))
    rpc.loans.apply_loan(application(elsewhere))
    rpc.loans.grant_subsidy(
        {"veteran_id": first, "kind": "interest", "amount": "1200.50", "period": "2026"}
    )
    relief = rpc.loans.record_tax_relief(
        {"veteran_id": first, "tax_year": 2026, "amount": "14400.00", "tax_due": "15000.00"}
    )
    assert relief["amount"] == "14400.00"

    veteran()  # eligible, with no loan yet
    got = rpc.loans.stats("652301")
    # The two who applied have an active 拥军创业贷 now; they stay eligible for the referral
    # product (no_active_loan is per product), so all three count.
    assert got["eligible_veterans"] == 3
    assert (got["applications"], got["approvals"], got["disbursed"], got["delinquent"]) == (
        2,
        1,
        1,
        0,
    )
    assert got["disbursed_amount"] == "50000.00" and got["outstanding_principal"] == "50000.00"
    assert got["median_days_to_disbursement"] == 10.0
    assert got["subsidies"]["interest"] == {"count": 1, "amount": "1200.50"}
    assert got["subsidies"]["startup"] == {"count": 0, "amount": "0.00"}
    assert got["tax_relief_total"] == "14400.00"
    assert rpc.loans.stats()["applications"] == 3
    with rpc_as(token("county", ["652302"])) as clerk:
        assert clerk.loans.stats()["applications"] == 1
        with pytest.raises(NotFound) as outside:  # answered as a missing loan
            clerk.loans.get_loan(disbursed)
        with pytest.raises(Forbidden) as refused:  # a county named directly: Forbidden
            clerk.loans.stats("652301")
    assert str(outside.value) == f"no loan {disbursed}"
    assert "652301" not in str(refused.value)


def test_stats_give_the_loans_disbursed_by_month_of_disbursement(
    loans, clock, veteran, rpc, rpc_as
):
    def disburse(on, amount, county="652301"):
        """A loan approved and disbursed on the bureau's day ``on``."""
        clock.at = dt.datetime.combine(on, dt.time(10), BEIJING)
        loan = rpc.loans.apply_loan(application(veteran(county_code=county)))["id"]
        rpc.loans.approve_loan(loan, {"approved_amount": amount})
        rpc.loans.disburse_loan(loan, {"disbursed_on": on.isoformat()})

    disburse(dt.date(2025, 11, 30), "90000.00")  # thirteen months back: not shown
    disburse(dt.date(2026, 8, 31), "50000.00")
    disburse(dt.date(2026, 9, 1), "30000.00")
    disburse(dt.date(2026, 9, 30), "20000.50")
    disburse(dt.date(2026, 11, 1), "40000.00", county="652302")
    clock.at = dt.datetime.combine(dt.date(2026, 11, 20), dt.time(10), BEIJING)
    rpc.loans.apply_loan(application(veteran()))  # applied, not disbursed: not counted

    everywhere = rpc.loans.stats()["by_month"]
    assert list(everywhere) == ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]
    assert everywhere["2026-08"] == {"loans_disbursed": 1, "loans_amount": "50000.00"}
    assert everywhere["2026-09"] == {"loans_disbursed": 2, "loans_amount": "50000.50"}
    assert everywhere["2026-10"] == {"loans_disbursed": 0, "loans_amount": "0.00"}
    assert everywhere["2026-11"] == {"loans_disbursed": 1, "loans_amount": "40000.00"}
    assert everywhere["2025-12"] == {"loans_disbursed": 0, "loans_amount": "0.00"}
    assert sum(m["loans_disbursed"] for m in everywhere.values()) == 4
    county = rpc.loans.stats("652301")["by_month"]
    assert county["2026-11"] == {"loans_disbursed": 0, "loans_amount": "0.00"}
    assert county["2026-09"]["loans_disbursed"] == 2
    with rpc_as(token("county", ["652302"])) as clerk:
        mine = clerk.loans.stats()["by_month"]
    assert [m for m, row in mine.items() if row["loans_disbursed"]] == ["2026-11"]
