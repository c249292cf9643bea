"""loans priced and subsidised by the rules, on the real servers: a loan priced from the
LPR at approval (get_loan's pricing), an overdue instalment losing its subsidy, an
extension, a small or micro enterprise's loan and its new-hire condition (the booklet from
registry's events), and the repeat-loan limit."""

from decimal import Decimal

import pytest
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from shared.errors import InvalidInput
from tests.helpers import publish, registered_event, scalar
from tests.integration.loans.loan_helpers import application, loan_events


def active_loan(rpc, vid, disbursed_on="2026-11-02", **fields):
    loan = rpc.loans.apply_loan(application(vid, **fields))
    rpc.loans.approve_loan(loan["id"], {})
    rpc.loans.disburse_loan(loan["id"], {"disbursed_on": disbursed_on})
    return loan["id"]


def test_an_in_house_loan_is_priced_from_the_lpr_at_approval(loans, clock, veteran, rpc):
    vid = veteran()
    loan = rpc.loans.apply_loan(application(vid))
    assert loan["annual_rate"] is None and loan["borrower_kind"] == "individual"
    assert rpc.loans.get_loan(loan["id"])["pricing"] is None  # not signed yet
    rpc.loans.approve_loan(loan["id"], {})
    got = rpc.loans.get_loan(loan["id"])
    pricing = got["pricing"]
    # The (demo) one-year LPR in force on 2026-11-02 is 3.00 %; the product's spread 0.
    assert (pricing["lpr"], pricing["rate_spread"], pricing["annual_rate"]) == ("0.03", "0", "0.03")
    assert pricing["lpr_entry"]["id"] == "lpr-demo-2025-01" and pricing["lpr_entry"]["demo"]
    assert pricing["subsidy_rule"]["id"] == "loan-subsidy-2023"
    assert pricing["subsidy_rule"]["effective_from"] == "2023-01-01"
    assert pricing["subsidy_share"] == "0.5"
    assert got["annual_rate"] == "0.03"
    [product] = [p for p in rpc.loans.list_products() if p["code"] == "yongjun_chuangye"]
    assert (product["annual_rate"], product["rate_spread"], product["lpr_term"]) == (
        "0.0300",
        "0.0000",
        "one_year",
    )
    assert product["interest_subsidy_rate"] == "0.50"
    assert "small_micro_enterprise" in product["borrower_kinds"]


def test_an_overdue_instalment_loses_its_subsidy_and_the_next_paid_on_time_keeps_it(
    loans, clock, veteran, rpc, db
):
    loan_id = active_loan(rpc, veteran(), term_months=12)
    before = rpc.loans.get_loan(loan_id)["schedule"]
    assert before[0]["subsidised_interest"] == "125.00"  # 100,000 × 3 % / 12, half
    assert not before[0]["subsidy_forfeited"]
    clock.move(days=31)  # 2026-12-03: the first instalment (due 12-02) is overdue
    with entrypoint_hook(loans, "mark_delinquency") as sweep:
        sweep()
    got = rpc.loans.get_loan(loan_id)
    first, second = got["schedule"][0], got["schedule"][1]
    assert got["status"] == "delinquent"
    assert (first["subsidy_forfeited"], first["subsidised_interest"]) == (True, "0.00")
    assert Decimal(first["due"]) == Decimal(before[0]["due"]) + Decimal("125.00")
    kept = before[1]["subsidised_interest"]
    assert Decimal(kept) > 0
    assert (second["subsidy_forfeited"], second["subsidised_interest"]) == (False, kept)
    rpc.loans.record_repayment(loan_id, {"amount": first["due"], "paid_on": "2026-12-03"})
    clock.move(days=30)  # 2027-01-02: the second is due today, paid today
    paid = rpc.loans.record_repayment(loan_id, {"amount": second["due"], "paid_on": "2027-01-02"})
    assert paid["status"] == "active"
    assert [i["subsidy_forfeited"] for i in paid["schedule"][:3]] == [True, False, False]
    assert paid["schedule"][1]["subsidised_interest"] == kept
    assert (
        scalar(
            db,
            "SELECT count(*) FROM loans.instalments WHERE loan_id = %s AND subsidy_forfeited",
            loan_id,
        )
        == 1
    )


def test_an_extension_re_spreads_the_loan_without_subsidy_and_is_announced(
    loans, clock, veteran, rpc, db
):
    loan_id = active_loan(rpc, veteran(), term_months=12)
    clock.move(days=40)
    extended = rpc.loans.extend_loan(loan_id, {"extra_months": 6, "note": "受灾"})
    assert len(extended["schedule"]) == 18
    assert sum(Decimal(i["principal"]) for i in extended["schedule"]) == Decimal("100000.00")
    assert all(i["subsidised_interest"] == "0.00" for i in extended["schedule"])
    assert extended["extended_months"] == 6 and extended["pricing"]["extended"] is True
    assert extended["history"][-1]["note"] == "extended by 6 months: 受灾"
    [event] = [data for key, data in loan_events(db) if key == "loan_extended"]
    assert event["extra_months"] == 6 and event["loan_id"] == loan_id
    with pytest.raises(InvalidInput) as caught:  # 12 + 6 + 19 > 36 months
        rpc.loans.extend_loan(loan_id, {"extra_months": 19})
    assert "extra_months" in caught.value.errors


def enterprise_event(loans, config, vid, kind="registered", **facts):
    enterprise = {
        "enterprise_id": facts.pop("enterprise_id", "5b7f0f43-7a52-4d7e-9f38-3a52a1f0c0e1"),
        "kind": "enterprise",
        "county_code": "652301",
        "industry": "logistics",
        "stage": "operating",
        "founder_ids": [vid],
        "founded_on": "2025-10-01",
        "employees": 120,
        **facts,
    }
    event = registered_event()
    if kind == "registered":
        event.update(type="enterprise_registered", data=enterprise)
    else:
        event.update(
            type="enterprise_updated",
            data={
                "enterprise_id": enterprise["enterprise_id"],
                "changed": facts,
                "snapshot": enterprise,
            },
        )
    with entrypoint_waiter(loans, "on_registry_events", timeout=15):
        publish(config, event)
    return enterprise["enterprise_id"]


def test_a_small_or_micro_enterprise_loan_needs_its_new_hires(
    loans, clock, veteran, rpc, config, db
):
    vid = veteran()
    firm = enterprise_event(loans, config, vid, new_hires=5)  # 5 of 120: 5 % needs 6
    ask = application(
        vid, enterprise_id=firm, borrower_kind="small_micro_enterprise", term_months=24
    )
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.apply_loan(ask)
    assert set(caught.value.errors) == {"new_hires"}
    assert "below 5 % of 120 employees" in caught.value.errors["new_hires"][0]
    with pytest.raises(InvalidInput) as caught:  # the enterprise kind's longest term is 24
        rpc.loans.apply_loan({**ask, "term_months": 36})
    assert set(caught.value.errors) == {"new_hires", "term_months"}
    assert scalar(db, "SELECT count(*) FROM loans.loans") == 0

    enterprise_event(loans, config, vid, kind="updated", new_hires=6)
    loan = rpc.loans.apply_loan(ask)
    assert (loan["borrower_kind"], loan["enterprise_id"]) == ("small_micro_enterprise", firm)
    with pytest.raises(InvalidInput) as caught:  # a cooperative loan needs a cooperative
        rpc.loans.apply_loan({**ask, "borrower_kind": "cooperative"})
    assert "booklet kind is enterprise" in caught.value.errors["borrower_kind"][0]


def test_a_fourth_loan_or_one_after_a_written_off_loan_is_refused(loans, clock, veteran, rpc, db):
    vid = veteran()
    for _ in range(3):
        loan_id = active_loan(rpc, vid, term_months=12)
        total = rpc.loans.get_loan(loan_id)["totals"]["outstanding"]
        rpc.loans.record_repayment(loan_id, {"amount": total, "paid_on": "2026-11-02"})
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.apply_loan(application(vid))
    assert set(caught.value.errors) == {"criteria.repeat_limit"}
    assert "3 earlier loan(s) disbursed" in caught.value.errors["criteria.repeat_limit"][0]

    other = veteran()
    written = active_loan(rpc, other)
    rpc.loans.write_off_loan(written, "经营失败")
    with pytest.raises(InvalidInput) as caught:
        rpc.loans.apply_loan(application(other))
    assert "written off" in caught.value.errors["criteria.repeat_limit"][0]
    assert scalar(db, "SELECT count(*) FROM loans.loans WHERE veteran_id = %s", other) == 1
