"""Repayment schedules in exact money, property-based: for any principal, rate, term and
method the principal sums to the loan exactly and each instalment's interest is what the
method says; repayments are allocated oldest first, interest before principal."""

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.loans import schedule

DAY = dt.date(2026, 1, 31)
principals = st.decimals(
    min_value=Decimal("100.00"),
    max_value=Decimal("5000000.00"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
rates = st.decimals(
    min_value=Decimal("0"),
    max_value=Decimal("0.24"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)
terms = st.integers(min_value=1, max_value=120)
subsidies = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("1"), places=2, allow_nan=False, allow_infinity=False
)


@settings(max_examples=300, deadline=None)
@given(principals, rates, terms, subsidies)
def test_equal_instalments_sum_to_the_principal_with_interest_on_the_balance(
    principal, rate, term, subsidy
):
    rows = schedule.build(principal, rate, term, "equal_instalments", subsidy, DAY)
    assert len(rows) == term
    assert sum(r.principal for r in rows) == principal
    balance, payments = principal, []
    for row in rows:
        assert row.interest == schedule.money(balance * rate / 12)
        assert row.subsidised_interest == schedule.money(row.interest * subsidy)
        assert row.principal >= 0 and row.interest >= 0
        assert row.principal.as_tuple().exponent == -2
        payments.append(row.principal + row.interest)
        balance -= row.principal
    assert balance == 0
    # The same payment every month; the last one settles what rounding left over: at most
    # a fen a month, grown at the loan's rate until the end.
    assert len(set(payments[:-1])) <= 1
    if term > 1:
        assert abs(payments[-1] - payments[0]) <= Decimal("0.01") * term * (1 + rate / 12) ** term


@settings(max_examples=300, deadline=None)
@given(principals, rates, terms, subsidies)
def test_interest_only_charges_interest_on_the_whole_principal_and_repays_it_at_the_end(
    principal, rate, term, subsidy
):
    rows = schedule.build(principal, rate, term, "interest_only", subsidy, DAY)
    assert sum(r.principal for r in rows) == principal
    assert [r.principal for r in rows[:-1]] == [Decimal("0.00")] * (term - 1)
    assert rows[-1].principal == principal
    assert {r.interest for r in rows} == {schedule.money(principal * rate / 12)}


def test_a_known_schedule():
    # 100,000 over 12 months at 4.35% (等额本息): the banks' calculators say 8,530.99 a month.
    rows = schedule.build(
        Decimal("100000.00"),
        Decimal("0.0435"),
        12,
        "equal_instalments",
        Decimal("0.5"),
        dt.date(2026, 11, 16),
    )
    assert rows[0].principal + rows[0].interest == Decimal("8530.99")
    assert rows[0].interest == Decimal("362.50")
    assert rows[0].subsidised_interest == Decimal("181.25")
    assert rows[0].due_on == dt.date(2026, 12, 16) and rows[-1].due_on == dt.date(2027, 11, 16)


def test_due_dates_keep_the_day_or_the_months_last():
    assert schedule.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert schedule.add_months(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)
    assert schedule.add_months(dt.date(2026, 11, 16), 14) == dt.date(2028, 1, 16)


@settings(max_examples=200, deadline=None)
@given(
    principals,
    rates,
    st.integers(min_value=1, max_value=36),
    st.lists(
        st.decimals(
            min_value=Decimal("0.01"),
            max_value=Decimal("100000.00"),
            places=2,
            allow_nan=False,
            allow_infinity=False,
        ),
        max_size=8,
    ),
)
def test_repayments_never_lose_or_make_money(principal, rate, term, amounts):
    rows = schedule.build(principal, rate, term, "equal_instalments", Decimal("0.5"), DAY)
    owed = schedule.totals(rows)["outstanding"]
    paid = Decimal("0.00")
    for amount in amounts:
        amount = min(amount, schedule.totals(rows)["outstanding"])
        if amount == 0:
            break
        rows = schedule.allocate(rows, amount, DAY)
        paid += amount
        # Oldest first: nothing is paid on an instalment while an earlier one is open.
        open_seen = False
        for row in rows:
            if open_seen:
                assert row.paid_principal + row.paid_interest == 0
            if not row.settled:
                open_seen = True
    assert schedule.totals(rows)["paid"] == paid
    assert schedule.totals(rows)["outstanding"] == owed - paid


def test_days_overdue_counts_from_the_oldest_unsettled_instalment():
    rows = schedule.build(
        Decimal("1200.00"),
        Decimal("0"),
        12,
        "equal_instalments",
        Decimal("0"),
        dt.date(2026, 1, 10),
    )
    assert schedule.days_overdue(rows, dt.date(2026, 2, 10)) == 0
    assert schedule.days_overdue(rows, dt.date(2026, 3, 12)) == 30
    paid = schedule.allocate(rows, Decimal("100.00"), dt.date(2026, 3, 12))
    assert paid[0].settled and paid[0].paid_on == dt.date(2026, 3, 12)
    assert schedule.days_overdue(paid, dt.date(2026, 3, 12)) == 2


# -- subsidies by the rules (issue 20) ------------------------------------------------------
methods = st.sampled_from(["equal_instalments", "interest_only"])
shares = st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("1.0"), Decimal("0.476190")])
payments = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=800),  # days after disbursement
        st.decimals(
            min_value=Decimal("0.01"),
            max_value=Decimal("50000.00"),
            places=2,
            allow_nan=False,
            allow_infinity=False,
        ),
    ),
    max_size=10,
)


def simulate(rows, events):
    """Repayments in day order, each preceded and followed by the look that forfeits
    the subsidy of instalments unsettled after their due date (as repay and the hourly
    sweep do). → the instalments and the last day looked at."""
    day = DAY
    for offset, amount in sorted(events):
        day = DAY + dt.timedelta(days=offset)
        rows, _ = schedule.forfeit_overdue(rows, day)
        amount = min(amount, schedule.totals(rows)["outstanding"])
        if amount > 0:
            rows = schedule.allocate(rows, amount, day)
        rows, _ = schedule.forfeit_overdue(rows, day)
    return rows, day


@settings(max_examples=300, deadline=None)
@given(
    principals,
    rates,
    st.integers(min_value=1, max_value=36),
    methods,
    shares,
    st.one_of(st.none(), st.integers(min_value=0, max_value=36)),
    payments,
)
def test_the_subsidy_never_exceeds_the_share_of_the_interest_due_and_forfeits_only_when_late(
    principal, rate, term, method, share, months, events
):
    built = schedule.build(principal, rate, term, method, share, DAY, months)
    assert sum(r.principal for r in built) == principal
    rows, last = simulate(built, events)
    for before, row in zip(built, rows, strict=True):
        assert row.subsidised_interest <= schedule.money(row.interest * share)
        if months is not None and row.number > months:
            assert row.subsidised_interest == 0
        if row.subsidy_forfeited:
            # Forfeited only when unsettled after its due date: never paid, or paid late.
            assert row.subsidised_interest == 0
            assert row.paid_on is None or row.paid_on > row.due_on
            assert row.due_on < last
        elif before.subsidised_interest > 0:
            # Kept: settled by its due date, or not yet overdue on the last look.
            assert (
                (row.paid_on is not None and row.paid_on <= row.due_on)
                or row.due_on >= last
                or row.due == 0  # wholly subsidised, no principal: nothing to pay
            )
            assert row.subsidised_interest == before.subsidised_interest
    assert schedule.totals(rows)["outstanding"] >= 0


@settings(max_examples=300, deadline=None)
@given(
    principals,
    rates,
    st.integers(min_value=1, max_value=36),
    methods,
    payments,
    st.integers(min_value=0, max_value=1200),
    st.integers(min_value=1, max_value=24),
)
def test_an_extension_keeps_the_principal_exact_and_pays_no_subsidy_after_it(
    principal, rate, term, method, events, offset, extra
):
    rows, _ = simulate(schedule.build(principal, rate, term, method, Decimal("0.5"), DAY), events)
    paid_before = schedule.totals(rows)["paid"]
    today = DAY + dt.timedelta(days=offset)
    extended = schedule.extend(rows, rate, method, extra, today, DAY)
    assert len(extended) == term + extra
    assert [r.number for r in extended] == list(range(1, term + extra + 1))
    assert sum(r.principal for r in extended) == principal
    assert schedule.totals(extended)["paid"] == paid_before  # nothing paid is lost
    assert all(r.subsidised_interest == 0 for r in extended if r.due_on > today)
    assert all(a.due_on < b.due_on for a, b in itertools.pairwise(extended))
