"""vetctl loans: a subject's tax relief entitlement as the rules compute it."""

import click

from vetctl.client import Failure
from vetctl.render import emit_json, table
from vetctl.settings import pass_settings


@click.group()
def loans():
    """Loans and tax relief.  Example: vetctl loans relief --veteran 0d6f3a52-… --year 2026"""


@loans.command("relief")
@click.option("--veteran", "veteran_id", help="a self-employed veteran's id")
@click.option("--employer", "employer_id", help="an employer's id (jobs)")
@click.option("--enterprise", "enterprise_id", help="an individual business's id (booklet)")
@click.option("--year", type=int, required=True, help="the tax year")
@pass_settings
def relief(settings, veteran_id, employer_id, enterprise_id, year):
    """Tax relief entitlement for a year: cap, months, used, remaining, each criterion
    and the rules applied.

    \b
    Example: vetctl loans relief --veteran 0d6f3a52-4c1e-4b7a-9f2d-8e5c1a3b7d90 --year 2026
             vetctl loans relief --employer 2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f --year 2026"""
    subject = {
        key: value
        for key, value in (
            ("veteran_id", veteran_id),
            ("employer_id", employer_id),
            ("enterprise_id", enterprise_id),
        )
        if value
    }
    if len(subject) != 1:
        raise Failure("give one of --veteran, --employer or --enterprise")
    with settings.client() as client:
        got = client.call("loans", "tax_relief_entitlement", subject, year)
    if settings.as_json:
        return emit_json(got)
    [(kind, key)] = subject.items()
    table(
        f"tax relief {year} · {kind} {key}",
        ["figure", "value"],
        [
            ("eligible", "yes" if got["eligible"] else "no"),
            ("cap", got["cap"]),
            ("months", got["months"]),
            ("used", got["used"]),
            ("remaining", got["remaining"]),
            (
                "rules",
                "; ".join(
                    p["id"] + (" (unverified)" if p["unverified"] else "") for p in got["policy"]
                )
                or None,
            ),
            ("note", got.get("note")),
        ],
    )
    table(
        "criteria",
        ["criterion", "passed", "detail"],
        [(c["code"], "yes" if c["passed"] else "no", c["detail"]) for c in got["criteria"]],
    )
    if got.get("per_hire"):
        table(
            "hires",
            ["hire", "veteran", "from", "months", "amount", "failed"],
            [
                (
                    h["hire_id"],
                    h["veteran_id"],
                    h["counted_from"],
                    h["months"],
                    h["amount"],
                    ", ".join(h["failed"]) or None,
                )
                for h in got["per_hire"]
            ],
        )
