"""Repayment schedules and the allocation of repayments, in exact decimal money. Pure.

Two methods, as the products file names them:
- ``equal_instalments`` (等额本息): the same payment every month, ``P·r / (1 − (1+r)^−n)``
  rounded to the fen; each month's interest is the balance times the monthly rate
  ``r = annual / 12`` rounded to the fen, the rest of the payment is principal, and the
  last instalment takes whatever principal is left, so the principal sums exactly to P.
- ``interest_only`` (按月付息、到期还本): each month the interest on the whole principal;
  the principal in full with the last instalment.

The government pays the loan's subsidy share (0–1, fixed at signing: loan_rules.price) of
each instalment's interest, rounded to the fen; the veteran pays the rest. Instalments after
``subsidy_months`` get none. An instalment not settled by its due date forfeits its subsidy
for good (``forfeit_overdue``: the veteran owes its whole interest), later ones paid on time
keep theirs; an extended loan (``extend``) has no subsidy from the extension on."""

import calendar
import datetime as dt
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value):
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Instalment:
    number: int
    due_on: dt.date
    principal: Decimal
    interest: Decimal
    subsidised_interest: Decimal
    paid_principal: Decimal = ZERO
    paid_interest: Decimal = ZERO
    paid_on: dt.date | None = None
    subsidy_forfeited: bool = False

    @property
    def due(self):
        """What the veteran owes for this instalment: principal and their share of the
        interest."""
        return self.principal + self.interest - self.subsidised_interest

    @property
    def veteran_interest(self):
        return self.interest - self.subsidised_interest

    @property
    def outstanding(self):
        return self.due - self.paid_principal - self.paid_interest

    @property
    def settled(self):
        return self.outstanding == ZERO


def add_months(day, months):
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def build(
    principal, annual_rate, term_months, method, subsidy_rate, first_day, subsidy_months=None
):
    """The instalments of a loan disbursed on ``first_day``: one a month from a month
    after it; none subsidised after ``subsidy_months`` (None: all)."""
    principal, annual = money(principal), Decimal(annual_rate)
    rate = annual / 12
    subsidy_rate = Decimal(subsidy_rate)
    if method == "equal_instalments":
        if rate == 0:
            payment = money(principal / term_months)
        else:
            payment = money(principal * rate / (1 - (1 + rate) ** -term_months))
    elif method != "interest_only":
        raise ValueError(f"unknown repayment method {method}")
    balance, rows = principal, []
    for number in range(1, term_months + 1):
        interest = money(balance * annual / 12)  # not balance × (annual / 12): 1/12 is inexact
        last = number == term_months
        if method == "interest_only":
            part = balance if last else ZERO
        else:
            part = balance if last else min(balance, max(ZERO, payment - interest))
        rows.append(
            Instalment(
                number,
                add_months(first_day, number),
                part,
                interest,
                money(interest * subsidy_rate)
                if subsidy_months is None or number <= subsidy_months
                else ZERO,
            )
        )
        balance -= part
    return rows


def totals(instalments):
    return {
        "principal": sum((i.principal for i in instalments), ZERO),
        "interest": sum((i.interest for i in instalments), ZERO),
        "subsidised_interest": sum((i.subsidised_interest for i in instalments), ZERO),
        "paid": sum((i.paid_principal + i.paid_interest for i in instalments), ZERO),
        "outstanding": sum((i.outstanding for i in instalments), ZERO),
        "outstanding_principal": sum((i.principal - i.paid_principal for i in instalments), ZERO),
    }


def allocate(instalments, amount, paid_on):
    """Apply a repayment oldest instalment first, interest before principal. → the
    instalments after it. An amount over what is outstanding is the caller's to refuse."""
    left, out = money(amount), []
    for item in instalments:
        if left == ZERO or item.settled:
            out.append(item)
            continue
        interest = min(left, item.veteran_interest - item.paid_interest)
        left -= interest
        principal = min(left, item.principal - item.paid_principal)
        left -= principal
        item = replace(
            item,
            paid_interest=item.paid_interest + interest,
            paid_principal=item.paid_principal + principal,
        )
        out.append(replace(item, paid_on=paid_on) if item.settled else item)
    return out


def days_overdue(instalments, today):
    """Days since the oldest unsettled instalment fell due, 0 when none is overdue."""
    overdue = [i.due_on for i in instalments if not i.settled and i.due_on < today]
    return (today - min(overdue)).days if overdue else 0


def forfeit_overdue(instalments, day):
    """Every instalment still unsettled after its due date (``due_on < day``) loses its
    subsidy for good: the veteran owes its whole interest. Never one not yet due, never
    one settled. → (the instalments, whether any changed)."""
    out, changed = [], False
    for item in instalments:
        if not item.settled and item.due_on < day and item.subsidised_interest > ZERO:
            item = replace(item, subsidised_interest=ZERO, subsidy_forfeited=True)
            changed = True
        out.append(item)
    return out, changed


def extend(instalments, annual_rate, method, extra_months, today, first_day):
    """展期: the unpaid principal (of overdue instalments and those not yet due) re-spread
    over the months not yet due plus ``extra_months`` at the same rate, with no subsidy,
    on the loan's due days (``first_day``: the disbursement). Instalments due by
    ``today`` stay (an overdue one keeps its unpaid interest, its principal moves); one
    not yet due but partly paid keeps what was paid and owes nothing more."""
    touched = [
        n
        for n, item in enumerate(instalments)
        if item.due_on <= today or item.paid_principal + item.paid_interest > ZERO
    ]
    cut = touched[-1] + 1 if touched else 0
    kept, moved = [], ZERO
    for item in instalments[:cut]:
        if item.due_on > today:
            # A prepaid part of an instalment not yet due stays paid, and is all it owes.
            moved += item.principal - item.paid_principal
            item = replace(
                item,
                principal=item.paid_principal,
                interest=item.paid_interest,
                subsidised_interest=ZERO,
                paid_on=item.paid_on or today,
            )
        elif not item.settled:
            moved += item.principal - item.paid_principal
            item = replace(item, principal=item.paid_principal)
            if item.settled:  # what was owed now is paid: settled by the extension
                item = replace(item, paid_on=today)
        kept.append(item)
    moved += sum((item.principal for item in instalments[cut:]), ZERO)
    months = len(instalments) - cut + extra_months
    rows = build(moved, annual_rate, months, method, ZERO, first_day)
    return kept + [
        replace(row, number=row.number + cut, due_on=add_months(first_day, row.number + cut))
        for row in rows
    ]
