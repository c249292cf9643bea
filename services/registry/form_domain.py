"""The ministry's annual form (年度新增自主就业退役士兵就业及去向情况表) computed from the ledger:
each member of a discharge year's 自主就业 cohort put in exactly one column by the written
precedence rule, the rows per area and their total, and the form's checks verified on every
row. Pure: the layout, the mapping and the rate are a ``FormDefinition``, read from
shared/data/annual_form.yaml by ``services.registry.form_file``."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

LEAVES = ("B", "C", "E", "G", "I", "J", "K", "L")


@dataclass(frozen=True)
class FormDefinition:
    title: str
    placement: str
    columns: tuple[dict, ...]
    checks: tuple[dict, ...]
    status_columns: dict[str, str]
    enterprise_columns: dict[str, str]  # kind -> column, in precedence order
    closed_stage: str
    rate: dict
    precedence: str  # the rule in words, printed with every form

    @staticmethod
    def from_data(data: dict, source: str = "the form's definition") -> "FormDefinition":
        """The definition in ``data`` (the YAML file's contents), every column it uses
        defined, else ``ValueError`` naming ``source`` and the columns."""
        definition = FormDefinition(
            title=str(data["title"]),
            placement=str(data["placement"]),
            columns=tuple(data["columns"]),
            checks=tuple(data["checks"]),
            status_columns=dict(data["status_columns"]),
            enterprise_columns=dict(data["enterprise_columns"]),
            closed_stage=str(data["closed_stage"]),
            rate=dict(data["rate"]),
            precedence=str(data["precedence"]),
        )
        keys = set(definition.keys())
        used = {
            *LEAVES,
            *definition.status_columns.values(),
            *definition.enterprise_columns.values(),
            definition.rate["numerator"],
            definition.rate["denominator"],
            *(k for check in definition.checks for k in (*check["left"], *check["right"])),
        }
        if not used <= keys:
            raise ValueError(f"{source}: columns {sorted(used - keys)} are used but not defined")
        return definition

    def keys(self) -> list[str]:
        return [c["key"] for c in self.columns]


@dataclass(frozen=True)
class Member:
    """One veteran of the cohort, as the form needs them: no name, no ID number."""

    veteran_id: str
    area: str  # the code of the row the veteran is counted in
    employment_status: str
    enterprise_kinds: tuple[str, ...] = ()  # kinds of the businesses founded, not closed
    trained: bool = False
    difficulty: bool = False  # recognised as in employment difficulty (就业困难)
    helped: bool = False  # received targeted help (就业困难帮扶)


def classify(member: Member, definition: FormDefinition) -> tuple[str | None, str | None]:
    """The one leaf column (B C E G I J K L) ``member`` is counted in, or ``(None, reason)``."""
    for kind, column in definition.enterprise_columns.items():
        if kind in member.enterprise_kinds:
            return column, None
    by_status = definition.status_columns.get(member.employment_status)
    if by_status is None:
        return None, f"employment_status {member.employment_status} has no column on the form"
    return by_status, None


def tally(members, definition: FormDefinition) -> tuple[dict[str, int], list[dict]]:
    """The form's values for ``members`` and the members no column takes. A is the number
    of members; the subtotals D and H are sums of their columns; F, L_difficulty and
    L_helped count the marked members of E and L."""
    values = dict.fromkeys(definition.keys(), 0)
    unclassified = []
    for member in members:
        values["A"] += 1
        column, reason = classify(member, definition)
        if column is None:
            unclassified.append({"veteran_id": member.veteran_id, "reason": reason})
            continue
        values[column] += 1
        if column == "E" and member.trained:
            values["F"] += 1
        if column == "L" and member.difficulty:
            values["L_difficulty"] += 1
            if member.helped:
                values["L_helped"] += 1
    values["H"] = values["I"] + values["J"] + values["K"]
    values["D"] = values["E"] + values["G"] + values["H"]
    return values, unclassified


def check(values: dict[str, int], definition: FormDefinition) -> list[dict]:
    """Every check of the form on one row of values: ``{rule, ok, left, right}``. Works on
    any row, computed here or typed in elsewhere."""
    results = []
    for rule in definition.checks:
        left = sum(values[k] for k in rule["left"])
        right = sum(values[k] for k in rule["right"])
        ok = left <= right if rule.get("bound") else left == right
        results.append({"rule": rule["rule"], "ok": ok, "left": left, "right": right})
    return results


def rate(values: dict[str, int], definition: FormDefinition) -> str | None:
    numerator = values[definition.rate["numerator"]]
    denominator = values[definition.rate["denominator"]]
    if not denominator:
        return None
    return str((Decimal(numerator) / denominator).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def compute(year, scope, areas, members, definition: FormDefinition) -> dict:
    """The form for one discharge year: a row per area of ``areas`` (``[(code, name)]``, in
    order; an area of a member not listed gets a row of its own), the total, the checks of
    every row and that the rows add up to the total, the rate with its definition, and the
    members left unclassified (by card id, for a clerk to correct)."""
    members = list(members)
    by_area: dict[str, list[Member]] = {}
    for member in members:
        by_area.setdefault(member.area, []).append(member)
    names = dict(areas)
    # An area no row was asked for still gets one (named by its code): the rows must add
    # up to the total.
    names.update((code, code) for code in sorted(by_area) if code not in names)
    rows = []
    for code, name in names.items():
        values, _ = tally(by_area.get(code, ()), definition)
        rows.append({"area": code, "name": name, "values": values})
    total, unclassified = tally(members, definition)
    checks = [
        {**result, "area": row["area"]}
        for row in rows
        for result in check(row["values"], definition)
    ]
    checks += [{**result, "area": None} for result in check(total, definition)]
    for key in definition.keys():
        summed = sum(row["values"][key] for row in rows)
        checks.append(
            {
                "rule": f"合计{key} = 各行{key}之和",
                "ok": summed == total[key],
                "left": total[key],
                "right": summed,
                "area": None,
            }
        )
    return {
        "title": definition.title,
        "year": year,
        "scope": scope,
        "columns": [dict(c) for c in definition.columns],
        "rows": rows,
        "total": total,
        "checks": checks,
        "ok": all(c["ok"] for c in checks),
        "rate": {
            "value": rate(total, definition),
            "rows": {row["area"]: rate(row["values"], definition) for row in rows},
            "definition": definition.rate["definition"],
        },
        "precedence": definition.precedence,
        "unclassified": unclassified,
    }
