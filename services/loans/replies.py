"""What loans' lifecycle RPCs answer: its records as JSON-safe dicts, money as text with
two decimals, dates and times in ISO 8601."""

import datetime as dt
from dataclasses import fields
from decimal import Decimal

from services.loans import schedule, schemas
from services.loans.domain import Loan, LoanHistory, Repayment, Subsidy
from services.loans.schedule import Instalment
from shared.months import series

MONEY = ("amount", "approved_amount")
RATES = ("annual_rate", "interest_subsidy_rate", "lpr", "rate_spread")
UNSHOWN = ("created_by",)  # who made the loan is in its history


def money(value: Decimal) -> str:
    return f"{schedule.money(value):.2f}"


def present_loan(loan: Loan) -> dict:
    out: dict = {}
    for item in fields(loan):
        if item.name in UNSHOWN:
            continue
        value = getattr(loan, item.name)
        if item.name in MONEY:
            value = None if value is None else money(value)
        elif item.name in RATES:
            value = None if value is None else str(value.normalize())
        elif isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        out[item.name] = value
    out["days_to_disbursement"] = loan.days_to_disbursement
    return out


def present_loan_details(
    loan: Loan,
    instalments: list[Instalment],
    repayments: list[Repayment],
    history: list[LoanHistory],
    overdue: int,
    today: dt.date,
    pricing: dict | None = None,
) -> dict:
    """``get_loan``: the loan with its schedule, totals, repayments and history, and its
    ``pricing`` (None before it is priced at approval)."""
    return {
        **present_loan(loan),
        "days_overdue": overdue,
        "pricing": pricing,
        "schedule": [
            {
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "principal": money(i.principal),
                "interest": money(i.interest),
                "subsidised_interest": money(i.subsidised_interest),
                "subsidy_forfeited": i.subsidy_forfeited,
                "due": money(i.due),
                "paid": money(i.paid_principal + i.paid_interest),
                "outstanding": money(i.outstanding),
                "paid_on": i.paid_on.isoformat() if i.paid_on else None,
                "overdue": not i.settled and i.due_on < today,
            }
            for i in instalments
        ],
        "totals": {key: money(value) for key, value in schedule.totals(instalments).items()},
        "repayments": [
            {"id": r.id, "amount": money(r.amount), "paid_on": r.paid_on.isoformat()}
            for r in repayments
        ],
        "history": [
            {
                "at": h.at.isoformat(),
                "from_status": h.from_status,
                "to_status": h.to_status,
                "note": h.note,
                "operator_id": h.operator_id,
            }
            for h in history
        ],
    }


def rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value.normalize())


def present_pricing(loan: Loan, lpr_entry: dict, subsidy_rule: dict) -> dict:
    """How the loan was priced at signing: the LPR (its entry cited), the spread, the rate,
    the subsidy rule (cited) and the share of each instalment's interest it pays."""
    return {
        "lpr": rate(loan.lpr),
        "lpr_entry": lpr_entry,
        "rate_spread": rate(loan.rate_spread),
        "annual_rate": rate(loan.annual_rate),
        "subsidy_rule": subsidy_rule,
        "subsidy_share": rate(loan.interest_subsidy_rate),
        "subsidy_months": loan.subsidy_months,
        "extended": loan.extended_months > 0,
    }


def present_subsidy(subsidy: Subsidy) -> dict:
    out = {
        item.name: getattr(subsidy, item.name)
        for item in fields(subsidy)
        if item.name != "granted_by"
    }
    return {**out, "amount": money(subsidy.amount), "granted_at": subsidy.granted_at.isoformat()}


def present_stats(county_code: str | None, listed: list, figures: dict, by_kind: dict) -> dict:
    median = figures["median_days_to_disbursement"]
    return {
        "county_code": county_code,
        "counties": listed,
        **{
            k: int(figures[k])
            for k in ("eligible_veterans", "applications", "approvals", "disbursed", "delinquent")
        },
        "disbursed_amount": money(figures["disbursed_amount"]),
        "outstanding_principal": money(figures["outstanding_principal"]),
        "median_days_to_disbursement": None if median is None else float(median),
        "subsidies": {
            kind: {
                "count": int(by_kind[kind]["n"]) if kind in by_kind else 0,
                "amount": money(by_kind[kind]["total"]) if kind in by_kind else "0.00",
            }
            for kind in schemas.SUBSIDY_KINDS
        },
        "tax_relief_total": money(figures["tax_relief_total"]),
    }


def present_by_month(months: list[str], rows: dict) -> dict:
    """Every month of ``months`` with the loans disbursed in it and their amount (yuan,
    as the other amounts: a string with two decimals), zero when none."""
    filled = series(months, rows, {"loans_disbursed": 0, "loans_amount": Decimal(0)})
    return {
        month: {
            "loans_disbursed": int(row["loans_disbursed"]),
            "loans_amount": money(row["loans_amount"]),
        }
        for month, row in filled.items()
    }
