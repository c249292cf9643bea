"""Tax relief for veterans' business and employment (退役士兵创业就业税收优惠), computed by
the rules in force: a self-employed 自主就业 veteran's yearly cap from the month their
individual business was registered, an employer's per hire, and relief recorded against
them. Pure: the policy table, the projections' records in; entitlements, records and
events out."""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.loans.domain import Criterion
from services.loans.policy import Entry, NoRule, Policy
from shared.contracts import Event
from shared.contracts.loans import TAX_RELIEF_RECORDED
from shared.errors import Conflict, invalid

SELF_EMPLOYED = "tax_relief_self_employed"
EMPLOYER = "tax_relief_employer"
PLACEMENT = "self_employment"  # 自主就业, registry's discharge_type
INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户, registry's enterprise kind
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Business:
    """An enterprise of the booklet as loans' projection holds it. ``closed_on``: the
    bureau's date loans first saw it closed (registry sends no closing date)."""

    enterprise_id: str
    county_code: str
    kind: str | None
    stage: str
    founded_on: dt.date | None
    founder_ids: tuple[str, ...] = ()
    closed_on: dt.date | None = None


@dataclass(frozen=True)
class Hire:
    """A hire as loans' projection of jobs' ``veteran_hired`` holds it (no employer name).
    ``contract_months`` None: not stated; ``insured_from`` None: from the start."""

    hire_id: str
    veteran_id: str
    employer_id: str
    county_code: str
    started_on: dt.date
    contract_months: int | None = None
    social_insurance: bool = False
    insured_from: dt.date | None = None


@dataclass(frozen=True)
class Entitlement:
    """What a subject may deduct in ``year``: ``cap`` over ``months``, ``used`` already."""

    subject: Mapping[str, str]
    year: int
    eligible: bool
    cap: Decimal
    months: int
    used: Decimal
    criteria: tuple[Criterion, ...]
    policy: tuple[Entry, ...]
    per_hire: tuple[dict, ...] | None = None
    note: str | None = None

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.cap - self.used)


@dataclass(frozen=True)
class TaxRelief:
    """Relief actually deducted, recorded against an entitlement."""

    id: str
    veteran_id: str | None
    enterprise_id: str | None
    employer_id: str | None
    county_code: str
    tax_year: int
    amount: Decimal
    tax_due: Decimal
    note: str | None
    policy_ids: tuple[str, ...]
    recorded_at: dt.datetime
    recorded_by: str


# -- months ----------------------------------------------------------------------------
def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _rule_at(policy: Policy, section: str, start: int) -> Entry | None:
    """The rule in force in month ``start``, else the first that comes into force later."""
    try:
        return policy.in_force(section, month_start(start))
    except NoRule:
        later = [e for e in policy.entries(section) if e.effective_from > month_start(start)]
        return later[0] if later else None


def _window_months(policy: Policy, section: str, start: int) -> int:
    """How long the relief lasts from month ``start`` (0 when no rule ever applies)."""
    rule = _rule_at(policy, section, start)
    return int(rule["months"]) if rule else 0


@dataclass
class _Tally:
    """Months of one year inside a window, grouped by the rule in force in each."""

    counted: list[int] = field(default_factory=list)
    uncovered: list[int] = field(default_factory=list)
    by_entry: dict[str, tuple[Entry, int]] = field(default_factory=dict)

    def amount(self, figure: str) -> Decimal:
        # Σ figure × (1 + float) × months ÷ 12, rounded to the fen once, at the end.
        total = sum(
            (Decimal(e[figure]) * (1 + Decimal(e["float"])) * n for e, n in self.by_entry.values()),
            Decimal(0),
        )
        return (total / 12).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(e for e, _ in self.by_entry.values())


def _tally(
    policy: Policy, section: str, start: int, length: int, year: int, stop: int | None
) -> _Tally:
    """The months of ``year`` in [start, start + length) and up to ``stop`` (inclusive)."""
    tally = _Tally()
    last = start + length - 1 if stop is None else min(start + length - 1, stop)
    for index in range(max(start, year * 12), min(last, year * 12 + 11) + 1):
        try:
            entry = policy.in_force(section, month_start(index))
        except NoRule:
            tally.uncovered.append(index)
            continue
        tally.counted.append(index)
        seen = tally.by_entry.get(entry.id, (entry, 0))
        tally.by_entry[entry.id] = (entry, seen[1] + 1)
    return tally


def _window_detail(start: int, length: int, year: int, tally: _Tally, stop: int | None) -> str:
    text = f"the {length} months from {month_label(start)} run to {month_label(start + length - 1)}"
    if stop is not None and stop < start + length - 1:
        text += f"; closed {month_label(stop)}: no month after it counts"
    text += f"; {len(tally.counted)} of them count in {year}"
    if tally.uncovered:
        text += (
            f" ({len(tally.uncovered)} more fall where no rule is in force:"
            f" {month_label(tally.uncovered[0])}..{month_label(tally.uncovered[-1])})"
        )
    return text


def _policy_criterion(section: str, tally: _Tally, year: int) -> Criterion:
    if tally.by_entry:
        names = ", ".join(f"{e.id} ({n} months)" for e, n in tally.by_entry.values())
        return Criterion("policy_in_force", True, f"{section} in {year}: {names}")
    if not tally.uncovered:  # no month of the window in the year: within_36_months says so
        return Criterion("policy_in_force", True, f"no month of the window in {year} to apply")
    return Criterion("policy_in_force", False, f"no {section} rule is in force in those months")


def _placement(discharge_type: str | None) -> Criterion:
    if discharge_type is None:
        return Criterion("placement_self_employment", False, "loans does not know the veteran")
    return Criterion(
        "placement_self_employment",
        discharge_type == PLACEMENT,
        f"placed as {discharge_type}" + ("" if discharge_type == PLACEMENT else "; needs 自主就业"),
    )


# -- the self-employed -----------------------------------------------------------------
def first_business(businesses: Iterable[Business]) -> Business | None:
    """The veteran's individual business whose registration starts the 36 months: the
    earliest registered (a later one does not start them again)."""
    dated = [b for b in businesses if b.kind == INDIVIDUAL_BUSINESS and b.founded_on]
    return min(dated, key=lambda b: (b.founded_on, b.enterprise_id)) if dated else None


def self_employed(
    policy: Policy,
    subject: Mapping[str, str],
    year: int,
    placements: Sequence[str | None],
    business: Business | None,
    used: Decimal,
) -> Entitlement:
    """The self-employed relief of ``year`` for ``business`` (the subject's individual
    business), given its founders' placements (``discharge_type``, None when unknown)."""
    # One founder placed 自主就业 is enough (else the first founder's placement is shown).
    placed = PLACEMENT if PLACEMENT in placements else next(iter(placements), None)
    criteria = [_placement(placed)]
    if business is None:
        criteria.append(
            Criterion(
                "individual_business_registered",
                False,
                "no individual business (个体工商户) in the booklet",
            )
        )
        return _entitlement(subject, year, criteria, _Tally(), "cap", used)
    if business.kind != INDIVIDUAL_BUSINESS or business.founded_on is None:
        kind = business.kind or "business of unknown kind"
        detail = (
            f"{business.enterprise_id} is a {kind}, not an individual business"
            if business.kind != INDIVIDUAL_BUSINESS
            else f"{business.enterprise_id}: its registration date is not known yet"
        )
        criteria.append(Criterion("individual_business_registered", False, detail))
        return _entitlement(subject, year, criteria, _Tally(), "cap", used)
    start = month_index(business.founded_on)
    criteria.append(
        Criterion(
            "individual_business_registered",
            True,
            f"{business.enterprise_id} registered {month_label(start)}",
        )
    )
    length = _window_months(policy, SELF_EMPLOYED, start)
    stop = month_index(business.closed_on) if business.closed_on else None
    tally = _tally(policy, SELF_EMPLOYED, start, length, year, stop)
    criteria.append(
        Criterion(
            "within_36_months",
            bool(tally.counted or tally.uncovered),
            _window_detail(start, length, year, tally, stop),
        )
    )
    criteria.append(_policy_criterion(SELF_EMPLOYED, tally, year))
    return _entitlement(subject, year, criteria, tally, "cap", used)


def _entitlement(subject, year, criteria, tally: _Tally, figure, used, per_hire=None, note=None):
    eligible = all(c.passed for c in criteria)
    return Entitlement(
        subject=dict(subject),
        year=year,
        eligible=eligible,
        cap=tally.amount(figure) if eligible else ZERO,
        months=len(tally.counted) if eligible else 0,
        used=used,
        criteria=tuple(criteria),
        policy=tally.entries,
        per_hire=per_hire,
        note=note,
    )


# -- employers ---------------------------------------------------------------------------
def hire_start(hire: Hire) -> dt.date:
    """The month both the job and the social insurance have started."""
    return max(hire.started_on, hire.insured_from or hire.started_on)


def _hire_criteria(
    policy: Policy, hire: Hire, discharge_type: str | None, year: int
) -> tuple[list[Criterion], _Tally]:
    start = month_index(hire_start(hire))
    length = _window_months(policy, EMPLOYER, start)
    tally = _tally(policy, EMPLOYER, start, length, year, None)
    # The conditions are those of the rule in force in the first counted month (else at
    # the start): a rule the hire never reaches does not judge it.
    rule = tally.entries[0] if tally.entries else _rule_at(policy, EMPLOYER, start)
    criteria = [_placement(discharge_type)]
    need = int(rule["min_contract_months"]) if rule else 12
    if hire.contract_months is None:
        criteria.append(Criterion("contract_at_least_a_year", False, "contract length not stated"))
    else:
        criteria.append(
            Criterion(
                "contract_at_least_a_year",
                hire.contract_months >= need,
                f"contract of {hire.contract_months} months; needs at least {need}",
            )
        )
    if rule is None or rule["social_insurance_required"]:
        criteria.append(
            Criterion(
                "social_insurance",
                hire.social_insurance,
                "social insurance paid"
                + (f" from {hire.insured_from.isoformat()}" if hire.insured_from else "")
                if hire.social_insurance
                else "no social insurance paid for the hire",
            )
        )
    criteria.append(
        Criterion(
            "within_36_months",
            bool(tally.counted or tally.uncovered),
            _window_detail(start, length, year, tally, None),
        )
    )
    criteria.append(_policy_criterion(EMPLOYER, tally, year))
    return criteria, tally


def employer(
    policy: Policy,
    subject: Mapping[str, str],
    year: int,
    hires: Sequence[Hire],
    placements: Mapping[str, str | None],
    used: Decimal,
) -> Entitlement:
    """The employer's relief of ``year``: Σ over its qualifying hires of the months of
    ``year`` in each hire's 36 months × the per-person figure ÷ 12, rounded once."""
    total = _Tally()
    per_hire: list[dict[str, Any]] = []
    count = 0
    for hire in sorted(hires, key=lambda h: (h.started_on, h.hire_id)):
        criteria, tally = _hire_criteria(policy, hire, placements.get(hire.veteran_id), year)
        qualifies = all(c.passed for c in criteria)
        count += qualifies
        if qualifies:
            total.counted += tally.counted
            for key, (entry, n) in tally.by_entry.items():
                total.by_entry[key] = (entry, total.by_entry.get(key, (entry, 0))[1] + n)
        per_hire.append(
            {
                "hire_id": hire.hire_id,
                "veteran_id": hire.veteran_id,
                "started_on": hire.started_on.isoformat(),
                "counted_from": month_label(month_index(hire_start(hire))),
                "qualifies": qualifies,
                "months": len(tally.counted) if qualifies else 0,
                "amount": f"{tally.amount('per_person') if qualifies else ZERO:.2f}",
                "failed": [c.code for c in criteria if not c.passed],
                "criteria": [c.__dict__ for c in criteria],
            }
        )
    criteria = [
        Criterion(
            "qualifying_hires",
            count > 0,
            f"{count} of {len(per_hire)} hires seen qualify in {year}",
        )
    ]
    return _entitlement(
        subject, year, criteria, total, "per_person", used, per_hire=tuple(per_hire)
    )


def not_an_individual_business(
    subject: Mapping[str, str], year: int, business: Business, used: Decimal
) -> Entitlement:
    """An enterprise of another kind: the self-employed relief is an individual business's;
    what it owes as an employer is the employer's (jobs' employers), which loans does not
    link to the booklet's enterprises."""
    return Entitlement(
        subject=dict(subject),
        year=year,
        eligible=False,
        cap=ZERO,
        months=0,
        used=used,
        criteria=(
            Criterion(
                "individual_business_registered",
                False,
                f"{business.enterprise_id} is a {business.kind or 'business of unknown kind'}:"
                " the self-employed relief is an individual business's (个体工商户)",
            ),
        ),
        policy=(),
        note=(
            "an enterprise's relief as an employer is asked for by its jobs employer_id;"
            " the booklet's enterprises are not linked to jobs' employers"
        ),
    )


# -- recording ---------------------------------------------------------------------------
def record(entitlement: Entitlement, relief: TaxRelief) -> tuple[TaxRelief, tuple[Event, ...]]:
    """Relief deducted within what is left of the entitlement and within the tax due;
    ``InvalidInput`` when it passes the tax due, ``Conflict`` with ``details {remaining,
    tax_due}`` when it passes what is left."""
    if relief.amount > relief.tax_due:
        raise invalid({"amount": [f"must be at most the tax due ({relief.tax_due:.2f})"]})
    remaining = entitlement.remaining
    if relief.amount > remaining:
        reason = (
            f"{relief.amount:.2f} would pass what is left of the {relief.tax_year} entitlement"
            f" ({remaining:.2f} of {entitlement.cap:.2f})"
            if entitlement.eligible
            else f"no entitlement for {relief.tax_year}: "
            + "; ".join(c.detail for c in entitlement.criteria if not c.passed)
        )
        raise Conflict(
            reason, {"remaining": f"{remaining:.2f}", "tax_due": f"{relief.tax_due:.2f}"}
        )
    event = Event(
        TAX_RELIEF_RECORDED,
        {
            "tax_relief_id": relief.id,
            "veteran_id": relief.veteran_id,
            "enterprise_id": relief.enterprise_id,
            "employer_id": relief.employer_id,
            "tax_year": relief.tax_year,
            "amount": relief.amount,
            "policy_ids": list(relief.policy_ids),
        },
    )
    return relief, (event,)


# -- replies -----------------------------------------------------------------------------
def present(entitlement: Entitlement) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "subject": dict(entitlement.subject),
        "year": entitlement.year,
        "eligible": entitlement.eligible,
        "cap": f"{entitlement.cap:.2f}",
        "months": entitlement.months,
        "used": f"{entitlement.used:.2f}",
        "remaining": f"{entitlement.remaining:.2f}",
        "criteria": [c.__dict__ for c in entitlement.criteria],
        "policy": [entry.cite() for entry in entitlement.policy],
    }
    if entitlement.per_hire is not None:
        reply["per_hire"] = list(entitlement.per_hire)
    if entitlement.note:
        reply["note"] = entitlement.note
    return reply


def present_relief(relief: TaxRelief, entitlement: Entitlement) -> dict[str, Any]:
    return {
        "id": relief.id,
        "veteran_id": relief.veteran_id,
        "enterprise_id": relief.enterprise_id,
        "employer_id": relief.employer_id,
        "county_code": relief.county_code,
        "tax_year": relief.tax_year,
        "amount": f"{relief.amount:.2f}",
        "tax_due": f"{relief.tax_due:.2f}",
        "note": relief.note,
        "policy_ids": list(relief.policy_ids),
        "recorded_at": relief.recorded_at.isoformat(),
        "remaining": f"{max(ZERO, entitlement.remaining - relief.amount):.2f}",
    }
