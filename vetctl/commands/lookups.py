"""Look-ups: a veteran's card, an enterprise's booklet, a county's revisits due and a
veteran's matching postings."""

import click

from vetctl import records
from vetctl.render import emit_json, table
from vetctl.settings import pass_settings


def timeline(lines):
    """A card's or booklet's timeline, newest first, as a table."""
    table(
        "timeline",
        ["at", "source", "event", "summary"],
        [(line["at"][:16], line["source"], line["type"], line["summary"]) for line in lines],
    )


@click.command()
@click.argument("key")
@pass_settings
def card(settings, key):
    """The one-card view (一人一卡): profile, status, enterprises, timeline.

    \b
    Example: vetctl card 652301199003071231   (or a veteran id)"""
    with settings.client() as client:
        got = records.find_card(client, key)
    if settings.as_json:
        return emit_json(got)
    v = got["veteran"]
    table(
        f"{v['name']} · {v['id_number']}",
        ["field", "value"],
        [
            ("id", v["id"]),
            ("county", v["county_code"]),
            ("gender / born", f"{v['gender']} / {v['birth_date']}"),
            ("discharged", f"{v['discharged_on']} ({v['discharge_type']})"),
            ("skills", "、".join(v["skills"]) or "—"),
            ("certificates", "、".join(v["certificates"]) or "—"),
            ("willingness", v["willingness"]),
            ("employment status", v["employment_status"]),
            ("employer", v.get("employer")),
            ("service needs", "、".join(v["service_needs"]) or "—"),
            ("political status", v.get("political_status")),
            ("preferential card", v.get("preferential_card_number")),  # masked
            ("honours", _honours(v.get("honours")) or "—"),
            ("health", _health(v)),
            ("difficulty", _difficulty(v.get("employment_difficulty"))),
            ("reported", v.get("reported_on")),
            (
                "hukou / placement",
                f"{v.get('hukou_place') or '—'} / {v.get('placement_place') or '—'}",
            ),
            ("collected / verified", _verified(v)),
            ("trained", "yes" if v.get("trained") else "no"),
            ("flags", "、".join(v.get("flags") or ()) or "—"),
        ],
    )
    if got["enterprises"]:
        table(
            "enterprises",
            ["name", "kind", "stage"],
            [(e["name"], e["kind"], e["stage"]) for e in got["enterprises"]],
        )
    timeline(got["timeline"])


def _honours(honours):
    return "、".join(f"{h['kind']} {h['year']}" for h in honours or ())


def _health(v):
    grade = v.get("disability_grade")
    return f"{v.get('health') or '—'}" + (f" (grade {grade})" if grade else "")


def _difficulty(difficulty):
    if not difficulty:
        return "not assessed"
    if not difficulty.get("recognised"):
        return "not recognised"
    outcome = difficulty.get("outcome") or "no outcome yet"
    return (
        f"recognised: {'、'.join(difficulty['reasons'])}; help "
        f"{'、'.join(difficulty.get('help') or ()) or '—'}; {outcome}"
    )


def _verified(v):
    verified = (
        f"{v['verified_by']} at {v['verified_at'][:16]}" if v.get("verified_by") else "not verified"
    )
    return f"{v.get('collected_by') or '—'} / {verified}"


@click.command()
@click.argument("enterprise_id")
@pass_settings
def booklet(settings, enterprise_id):
    """The enterprise's booklet (一企一册).  Example: vetctl booklet 5b7f0f43-…"""
    with settings.client() as client:
        got = client.call("registry", "get_booklet", enterprise_id)
    if settings.as_json:
        return emit_json(got)
    e = got["enterprise"]
    table(
        f"{e['name']}",
        ["field", "value"],
        [
            ("id", e["id"]),
            ("kind", e["kind"]),
            ("credit code", e.get("uscc")),
            ("county", e["county_code"]),
            ("industry", e["industry"]),
            ("stage", e["stage"]),
            ("founded", e["founded_on"]),
        ],
    )
    timeline(got["timeline"])


@click.command()
@click.option("--county", required=True, help="a county code")
@pass_settings
def worklist(settings, county):
    """Revisits due and overdue in a county, oldest first.

    Example: vetctl worklist --county 652301"""
    with settings.client() as client:
        got = client.call("followup", "worklist", county)
    if settings.as_json:
        return emit_json(got)
    items = got["items"] if isinstance(got, dict) and "items" in got else got
    table(
        f"revisits due in {county}",
        ["revisit", "veteran", "kind", "due on", "status"],
        [
            (
                r.get("id") or r.get("revisit_id"),
                r.get("veteran_id"),
                r.get("kind"),
                r.get("due_on"),
                r.get("status"),
            )
            for r in items
        ],
    )


@click.command()
@click.argument("veteran_id")
@click.option("--limit", type=int, default=10, show_default=True)
@pass_settings
def match(settings, veteran_id, limit):
    """Open postings ranked for a veteran, with reasons.  Example: vetctl match 3f2a…"""
    with settings.client() as client:
        got = client.call("jobs", "match_jobs", veteran_id, limit)
    if settings.as_json:
        return emit_json(got)
    table(
        "matches",
        ["score", "posting", "county", "salary", "matched", "missing"],
        [
            (
                m["score"],
                m["posting"]["title"],
                m["posting"]["county_code"],
                f"{m['posting']['salary_min']}–{m['posting']['salary_max']}",
                "、".join(m["reasons"]["matched_skills"]),
                "、".join(m["reasons"]["missing_skills"]),
            )
            for m in got
        ],
    )
