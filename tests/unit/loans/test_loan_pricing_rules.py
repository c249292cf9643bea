"""Loans priced and subsidised by the rules (loan_rules.py, schedule.py, loan_domain.py),
without a database or a broker: the rate is the LPR in force at signing plus the spread,
the subsidy follows the rule of the signing date (a tier for the recently discharged), an
overdue instalment forfeits its subsidy and later ones paid on time keep theirs, an
extension removes it; borrowers by kind, the new-hire condition and repeat limits."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
import yaml

from services.loans import domain, loan_domain, loan_rules, schedule
from services.loans.loan_domain import Stamp
from services.loans.policy import NoRule, load_policy
from shared.contracts import dump_data
from shared.errors import Conflict, InvalidInput
from tests.unit.loans.test_loan_rules import PRODUCT, VETERAN, assessment, make_loan

D = Decimal


def entry(entry_id, start, end=None, **values):
    head = {"id": entry_id, "effective_from": start, "effective_to": end, "source": "test"}
    return {**head, **values}


@pytest.fixture
def policy(tmp_path):
    """Two LPR entries (the change on 2023-01-01) and both subsidy rules."""
    path = tmp_path / "policy.yaml"
    sections = {
        "lpr": [
            entry("lpr-2022", "2019-08-20", "2022-12-31", one_year="0.0370", five_year="0.0460"),
            entry("lpr-2023", "2023-01-01", one_year="0.0345", five_year="0.0420"),
        ],
        "loan_subsidy": [
            entry(
                "subsidy-pre-2023",
                "2019-08-20",
                "2022-12-31",
                kind="borrower_pays_below_lpr_minus",
                borrower_pays_below_lpr_minus="0.0150",
            ),
            entry("subsidy-2023", "2023-01-01", kind="share_of_rate", share_of_rate="0.50"),
        ],
        "loan_caps": [
            entry(
                "caps",
                "2023-09-14",
                kinds={
                    "individual": {"max_principal": "300000.00", "max_term_months": 36},
                    "small_micro_enterprise": {
                        "max_principal": "4000000.00",
                        "max_term_months": 24,
                        "new_hire_share": "0.10",
                        "new_hire_share_large": "0.05",
                        "large_above": 100,
                    },
                },
            )
        ],
        "loan_repeat_limits": [
            entry("repeat", "2023-01-01", limits={"individual": 3, "small_micro_enterprise": 2})
        ],
    }
    path.write_text(yaml.safe_dump(sections, allow_unicode=True), encoding="utf-8")
    return load_policy(path)


SPREAD = replace(PRODUCT, rate_spread=D("0.0050"), max_term_months=36)


# -- pricing ----------------------------------------------------------------------------
def test_the_rate_is_the_lpr_in_force_on_the_signing_day_plus_the_spread(policy):
    before = loan_rules.price(policy, SPREAD, dt.date(2022, 12, 31), None)
    after = loan_rules.price(policy, SPREAD, dt.date(2023, 1, 1), None)
    assert (before.lpr_entry, before.lpr, before.annual_rate) == (
        "lpr-2022",
        D("0.0370"),
        D("0.0420"),
    )
    assert (after.lpr_entry, after.lpr, after.annual_rate) == ("lpr-2023", D("0.0345"), D("0.0395"))
    five = loan_rules.price(
        policy, replace(SPREAD, lpr_term="five_year"), dt.date(2023, 1, 1), None
    )
    assert five.annual_rate == D("0.0470")
    negative = loan_rules.price(
        policy, replace(SPREAD, rate_spread=D("-0.0045")), dt.date(2023, 1, 1), None
    )
    assert negative.annual_rate == D("0.0300") and negative.rate_spread == D("-0.0045")


def test_a_loan_signed_in_2022_is_subsidised_above_lpr_minus_150_bp(policy):
    # 2022: LPR 3.70 %, rate 4.20 %; the borrower pays up to 3.70 − 1.50 = 2.20 %, the
    # government the other 2.00 points: 2.00 / 4.20 of the interest.
    signed = loan_rules.price(policy, SPREAD, dt.date(2022, 6, 1), None)
    assert signed.subsidy_rule == "subsidy-pre-2023"
    assert signed.subsidy_share == D("0.476190")
    rows = schedule.build(
        D("100000.00"), signed.annual_rate, 12, "equal_instalments", signed.subsidy_share, DAY
    )
    assert rows[0].interest == D("350.00")  # 100,000 × 4.20 % / 12
    assert rows[0].subsidised_interest == D("166.67")  # ≈ 100,000 × 2.00 % / 12
    assert rows[0].veteran_interest == D("183.33")  # ≈ 100,000 × 2.20 % / 12
    later = loan_rules.price(policy, SPREAD, dt.date(2023, 6, 1), None)
    assert (later.subsidy_rule, later.subsidy_share) == ("subsidy-2023", D("0.50"))


def test_a_rate_below_lpr_minus_150_bp_gets_no_subsidy_before_2023(policy):
    cheap = replace(SPREAD, rate_spread=D("-0.0200"))  # 1.70 %, below 2.20 %
    assert loan_rules.price(policy, cheap, dt.date(2022, 6, 1), None).subsidy_share == 0


def test_full_subsidy_within_five_years_of_discharge(policy):
    tiered = replace(SPREAD, subsidy_tiers=({"max_years_since_discharge": 5, "share": D("1.0")},))
    discharged = dt.date(2021, 3, 1)
    within = loan_rules.price(policy, tiered, dt.date(2026, 2, 28), discharged)
    past = loan_rules.price(policy, tiered, dt.date(2026, 3, 1), discharged)
    unknown = loan_rules.price(policy, tiered, dt.date(2026, 2, 28), None)
    assert within.subsidy_share == D("1.0") and within.subsidy_rule == "subsidy-2023"
    assert past.subsidy_share == D("0.50")
    assert unknown.subsidy_share == D("0.50")


def test_no_lpr_in_force_is_no_rule(policy):
    with pytest.raises(NoRule, match="no lpr rule is in force on 2019-01-01"):
        loan_rules.price(policy, SPREAD, dt.date(2019, 1, 1), None)


def test_approval_prices_the_loan_and_disbursement_builds_from_the_stored_rate(policy):
    pricing = loan_rules.price(policy, SPREAD, dt.date(2026, 11, 20), None)
    approved = loan_domain.approve(make_loan(), SPREAD, None, None, STAMP, pricing).loan
    assert (approved.lpr, approved.lpr_entry, approved.rate_spread) == (
        D("0.0345"),
        "lpr-2023",
        D("0.0050"),
    )
    assert (approved.annual_rate, approved.subsidy_rule, approved.interest_subsidy_rate) == (
        D("0.0395"),
        "subsidy-2023",
        D("0.50"),
    )
    _change, rows = loan_domain.disburse(approved, dt.date(2026, 11, 20), STAMP)
    assert rows[0].interest == schedule.money(D("100000.00") * D("0.0395") / 12)
    unpriced = replace(make_loan(status="approved"), annual_rate=None)
    with pytest.raises(Conflict, match="not priced"):
        loan_domain.disburse(unpriced, dt.date(2026, 11, 20), STAMP)


def test_no_subsidy_after_subsidy_months():
    rows = schedule.build(D("36000.00"), D("0.0435"), 36, "equal_instalments", D("0.5"), DAY, 24)
    assert all(r.subsidised_interest > 0 for r in rows[:24])
    assert all(r.subsidised_interest == 0 for r in rows[24:])


# -- forfeiture ---------------------------------------------------------------------------
DAY = dt.date(2026, 1, 10)


def at(day):
    return Stamp(dt.datetime.combine(day, dt.time(2), tzinfo=dt.UTC), day, "clerk-7")


def test_the_subsidy_stops_on_an_overdue_instalment_and_resumes_after_catch_up():
    loan = make_loan(
        status="active",
        approved_amount=D("100000.00"),
        disbursed_on=DAY,
        annual_rate=D("0.0435"),
        interest_subsidy_rate=D("0.5"),
    )
    rows = schedule.build(D("100000.00"), D("0.0435"), 12, "equal_instalments", D("0.5"), DAY)
    half = [r.subsidised_interest for r in rows]
    # 1 is paid on its due date (2026-02-10).
    paid = loan_domain.repay(
        loan, rows, rows[0].due, dt.date(2026, 2, 10), "r1", at(DAY.replace(month=2))
    )
    rows = paid.instalments
    assert rows[0].settled and not rows[0].subsidy_forfeited
    # The day 2 falls due (03-10) it is not forfeit yet; the sweep of 03-11 finds it overdue.
    rows, forfeited, change = loan_domain.sweep(loan, rows, at(dt.date(2026, 3, 10)))
    assert not forfeited and not rows[1].subsidy_forfeited
    rows, forfeited, change = loan_domain.sweep(loan, rows, at(dt.date(2026, 3, 11)))
    assert forfeited and change.loan.status == "delinquent"
    assert rows[1].subsidy_forfeited and rows[1].subsidised_interest == 0
    assert rows[1].due == rows[1].principal + rows[1].interest  # the whole interest is owed
    assert [r.subsidy_forfeited for r in rows[2:]] == [False] * 10
    # 2 is paid late (03-25), 3 on time (04-10): 2 keeps no subsidy, 3 keeps its own.
    loan = change.loan
    late = loan_domain.repay(
        loan, rows, rows[1].due, dt.date(2026, 3, 25), "r2", at(dt.date(2026, 3, 25))
    )
    rows = late.instalments
    assert late.change.loan.status == "active"  # caught up
    on_time = loan_domain.repay(
        late.change.loan, rows, rows[2].due, dt.date(2026, 4, 10), "r3", at(dt.date(2026, 4, 10))
    )
    rows = on_time.instalments
    assert on_time.change is None  # paid on time: nothing moves
    assert [r.settled for r in rows[:3]] == [True, True, True]
    assert [r.subsidised_interest for r in rows[:3]] == [half[0], D("0.00"), half[2]]
    assert [r.subsidy_forfeited for r in rows[:4]] == [False, True, False, False]
    # Forfeiture is permanent: settled since, 2 stays forfeited on the next sweep.
    rows, forfeited, _ = loan_domain.sweep(late.change.loan, rows, at(dt.date(2026, 4, 11)))
    assert not forfeited and rows[1].subsidy_forfeited


def test_a_repayment_recorded_later_for_a_payment_on_the_due_date_keeps_the_subsidy():
    rows = schedule.build(D("12000.00"), D("0.0435"), 12, "equal_instalments", D("0.5"), DAY)
    loan = make_loan(status="active", approved_amount=D("12000.00"), disbursed_on=DAY)
    paid = loan_domain.repay(
        loan, rows, rows[0].due, dt.date(2026, 2, 10), "r", at(dt.date(2026, 2, 20))
    )
    assert paid.instalments[0].settled and not paid.instalments[0].subsidy_forfeited


# -- extension ----------------------------------------------------------------------------
def extendable():
    loan = make_loan(
        status="active",
        approved_amount=D("24000.00"),
        term_months=12,
        disbursed_on=DAY,
        annual_rate=D("0.0435"),
        interest_subsidy_rate=D("0.5"),
    )
    rows = schedule.build(D("24000.00"), D("0.0435"), 12, "equal_instalments", D("0.5"), DAY)
    rows = schedule.allocate(rows, rows[0].due + rows[1].due, dt.date(2026, 3, 10))
    return loan, rows


def test_an_extension_re_spreads_the_unpaid_principal_without_any_subsidy():
    loan, rows = extendable()
    today = dt.date(2026, 4, 20)  # 3 (due 04-10) is overdue
    change, extended = loan_domain.extend(loan, rows, SPREAD, None, 6, "受灾", at(today))
    assert len(extended) == 18 and [r.number for r in extended] == list(range(1, 19))
    assert sum(r.principal for r in extended) == D("24000.00")
    assert extended[:2] == rows[:2]  # paid instalments stay as they were
    assert extended[2].principal == 0 and extended[2].subsidy_forfeited  # its interest stays owed
    assert all(r.subsidised_interest == 0 for r in extended[2:])
    assert extended[3].due_on == dt.date(2026, 5, 10) and extended[-1].due_on == dt.date(
        2027, 7, 10
    )
    unpaid = D("24000.00") - rows[0].principal - rows[1].principal
    assert extended[3].interest == schedule.money(unpaid * D("0.0435") / 12)
    assert (change.loan.extended_months, change.loan.extended_on) == (6, today)
    assert change.history.note == "extended by 6 months: 受灾"
    [event] = change.events
    assert dump_data("loans", event) == {
        "loan_id": loan.id,
        "veteran_id": loan.veteran_id,
        "product_code": loan.product_code,
        "extra_months": 6,
    }


def test_an_extension_past_the_longest_term_or_of_a_loan_not_repaying_is_refused():
    loan, rows = extendable()
    with pytest.raises(InvalidInput) as caught:
        loan_domain.extend(
            loan, rows, SPREAD, {"max_principal": D(1), "max_term_months": 24}, 13, None, at(DAY)
        )
    assert (
        "longest for a individual borrower of this product is 24"
        in caught.value.errors["extra_months"][0]
    )
    with pytest.raises(Conflict):
        loan_domain.extend(replace(loan, status="closed"), rows, SPREAD, None, 1, None, at(DAY))


# -- borrowers ----------------------------------------------------------------------------
STAMP = at(dt.date(2026, 11, 20))
FIRM = domain.Enterprise(
    "ent-1", "652301", "operating", ("vet-1",), kind="enterprise", employees=120, new_hires=6
)
CAP = {
    "max_principal": D("4000000.00"),
    "max_term_months": 24,
    "new_hire_share": D("0.10"),
    "new_hire_share_large": D("0.05"),
    "large_above": 100,
}


def apply_as(kind, enterprise=FIRM, cap=CAP, **terms):
    return loan_domain.apply_for(
        replace(PRODUCT, borrower_kinds=loan_rules.BORROWER_KINDS),
        VETERAN,
        assessment(),
        STAMP,
        loan_id="loan-9",
        amount=terms.pop("amount", D("100000.00")),
        term_months=terms.pop("term_months", 24),
        purpose="扩大经营",
        enterprise_id=enterprise.enterprise_id if enterprise else None,
        borrower_kind=kind,
        enterprise=enterprise,
        cap=cap,
    )


@pytest.mark.parametrize(
    "employees,new_hires,passes",
    [(120, 6, True), (120, 5, False), (100, 10, True), (100, 9, False), (20, None, False)],
)
def test_a_small_or_micro_enterprise_needs_its_new_hires(employees, new_hires, passes):
    firm = replace(FIRM, employees=employees, new_hires=new_hires)
    if passes:
        loan = apply_as("small_micro_enterprise", firm).loan
        assert (loan.borrower_kind, loan.enterprise_id) == ("small_micro_enterprise", "ent-1")
    else:
        with pytest.raises(InvalidInput) as caught:
            apply_as("small_micro_enterprise", firm)
        assert set(caught.value.errors) == {"new_hires"}


def test_an_enterprise_borrower_must_be_the_veterans_open_enterprise_of_the_matching_kind():
    with pytest.raises(InvalidInput) as caught:
        apply_as("cooperative", FIRM)
    assert "booklet kind is enterprise" in caught.value.errors["borrower_kind"][0]
    with pytest.raises(InvalidInput) as caught:
        apply_as("individual_business", None)
    assert caught.value.errors == {"enterprise_id": ["is required for a individual_business loan"]}
    stranger = replace(FIRM, founder_ids=("vet-2",))
    with pytest.raises(InvalidInput) as caught:
        apply_as("small_micro_enterprise", stranger)
    assert set(caught.value.errors) == {"enterprise_id"}
    with pytest.raises(InvalidInput) as caught:
        apply_as("small_micro_enterprise", replace(FIRM, stage="closed"))
    assert caught.value.errors["enterprise_id"] == ["the enterprise is closed"]


def test_the_kind_cap_applies_where_lower_than_the_products():
    individual = {"max_principal": D("200000.00"), "max_term_months": 12}
    with pytest.raises(InvalidInput) as caught:
        apply_as("individual", None, individual, amount=D("200000.01"), term_months=13)
    assert set(caught.value.errors) == {"amount", "term_months"}
    assert "200000.00" in caught.value.errors["amount"][0]
    assert apply_as("individual", None, individual, amount=D("200000.00"), term_months=12)


def test_a_product_lends_only_to_its_borrower_kinds():
    with pytest.raises(InvalidInput) as caught:
        loan_domain.apply_for(
            PRODUCT,
            VETERAN,
            assessment(),
            STAMP,
            loan_id="l",
            amount=D("100000.00"),
            term_months=12,
            purpose="x",
            enterprise_id="ent-1",
            borrower_kind="small_micro_enterprise",
            enterprise=FIRM,
            cap=CAP,
        )
    assert set(caught.value.errors) == {"borrower_kind"}


@pytest.mark.parametrize(
    "kind,earlier,written_off,passed",
    [
        ("individual", 2, 0, True),
        ("individual", 3, 0, False),
        ("small_micro_enterprise", 1, 0, True),
        ("small_micro_enterprise", 2, 0, False),
        ("individual", 1, 1, False),
        ("cooperative", 9, 0, True),  # no limit in force for the kind
    ],
)
def test_repeat_limit_counts_earlier_loans_and_refuses_a_written_off_one(
    kind, earlier, written_off, passed
):
    product = replace(PRODUCT, criteria={"repeat_limit": {}})
    result = domain.assess(
        product,
        VETERAN,
        0,
        dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        "a-1",
        borrower_kind=kind,
        repeat_limits={"individual": 3, "small_micro_enterprise": 2},
        earlier_loans=earlier,
        written_off=written_off,
    )
    [criterion] = [c for c in result.criteria if c.code == "repeat_limit"]
    assert criterion.passed is passed and result.eligible is passed
    if written_off:
        assert "written off" in criterion.detail


@pytest.mark.parametrize(
    "discharge_type,status,passed",
    [
        ("self_employment", "unemployed", True),
        ("assigned_job", "unemployed", False),
        ("self_employment", "public_welfare_post", False),
    ],
)
def test_placement_not_in_excludes_assigned_jobs_and_public_welfare_posts(
    discharge_type, status, passed
):
    product = replace(
        PRODUCT,
        criteria={
            "placement_not_in": {
                "discharge_types": ["assigned_job"],
                "employment_statuses": ["public_welfare_post"],
            }
        },
    )
    veteran = replace(VETERAN, discharge_type=discharge_type, employment_status=status)
    result = domain.assess(product, veteran, 0, dt.datetime(2026, 11, 20, tzinfo=dt.UTC), "a")
    assert result.eligible is passed


# -- the shipped rules --------------------------------------------------------------------
def test_the_shipped_loan_rules_name_their_sources_and_mark_what_is_unverified():
    shipped = load_policy()
    caps = shipped.in_force("loan_caps", dt.date(2026, 1, 1))
    assert caps.effective_from == dt.date(2023, 9, 14) and "普惠金融" in caps.source
    kinds = caps["kinds"]
    assert (kinds["individual"]["max_principal"], kinds["individual"]["max_term_months"]) == (
        D("300000.00"),
        36,
    )
    assert kinds["small_micro_enterprise"]["max_principal"] == D("4000000.00")
    assert kinds["small_micro_enterprise"]["new_hire_share"] == D("0.10")
    assert kinds["cooperative"]["unverified"] and kinds["individual_business"]["unverified"]
    assert not kinds["individual"]["unverified"]
    assert shipped.in_force("loan_subsidy", dt.date(2022, 6, 1)).id == "loan-subsidy-pre-2023"
    assert shipped.in_force("loan_subsidy", dt.date(2026, 1, 1))["share_of_rate"] == D("0.50")
    repeat = shipped.in_force("loan_repeat_limits", dt.date(2026, 1, 1))
    assert repeat.unverified and repeat["limits"]["individual"] == 3
    assert loan_rules.kind_cap(shipped, "partnership", dt.date(2026, 1, 1)) is None


def test_a_subsidy_rule_without_its_figure_stops_loading(tmp_path):
    path = tmp_path / "policy.yaml"
    bad = entry("bad", "2023-01-01", kind="share_of_rate")
    path.write_text(yaml.safe_dump({"loan_subsidy": [bad]}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"\(bad\).*share_of_rate"):
        load_policy(path)
