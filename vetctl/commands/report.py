"""vetctl report: the bureau's indicators per county and for the prefecture, and
``vetctl report form``: the ministry's annual form."""

import click

from vetctl import report as reports
from vetctl.render import emit_json, table
from vetctl.settings import pass_settings


@click.group(invoke_without_command=True)
@click.option("--county", help="one county (default: every county and the prefecture)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx", "html"]),
    default="table",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="file for csv / xlsx / html")
@click.option(
    "--stations",
    is_flag=True,
    help="with --county: a column per township and village station of that county "
    "(registry's indicators; the others show —)",
)
@click.pass_context
@pass_settings
def report(settings, ctx, county, fmt, lang, output, stations):
    """The bureau's indicators per county and for the prefecture; `report form` is the
    ministry's annual form.

    \b
    Example: vetctl report --format xlsx -o 2026年11月.xlsx
             vetctl report --format html -o 报告.html   (one file, opens offline, prints on A4)
             vetctl report --county 652301 --stations
             vetctl report form --year 2025 --format xlsx -o 2025年度情况表.xlsx"""
    from shared.clock import bureau_clock
    from shared.jurisdiction import Jurisdiction

    if ctx.invoked_subcommand is not None:
        return None
    if stations and not county:
        raise click.UsageError("--stations needs --county")
    if fmt in ("csv", "xlsx", "html") and not output and not settings.as_json:
        raise click.UsageError(f"--format {fmt} needs --output FILE")
    jurisdiction = Jurisdiction.load()
    counties = [county] if county else jurisdiction.codes()
    with settings.client() as client:
        areas = reports.collect(client, counties)
        if stations:
            areas.update(reports.collect_stations(client, county))
        # Last year's annual form for the same scope (None if registry does not answer).
        annual = client.try_call("registry", "annual_form", None, county)
    if county:
        areas.pop(None)
    reports.attach_form(areas, annual)
    # One document for --json and the HTML page: the same numbers in both.
    document = reports.document(areas, jurisdiction, bureau_clock().local_now(), form=annual)
    if settings.as_json or fmt == "json":
        return emit_json(document)
    if fmt == "html":
        from pathlib import Path

        from vetctl import html_report

        Path(output).write_text(html_report.render(document, lang), encoding="utf-8")
        return click.echo(f"report written to {output}")
    names, rows = reports.table(areas, lang)
    if fmt == "table":
        return table(
            "退役军人就业创业工作指标" if lang == "zh" else "the bureau's indicators",
            ["指标" if lang == "zh" else "indicator", *names],
            [(label, *values) for _, label, values in rows],
        )
    from vetctl import sheets

    sheets.write(
        output,
        ["指标" if lang == "zh" else "indicator", *names],
        ([label, *values] for _, label, values in rows),
        fmt,
    )
    click.echo(f"report written to {output}")


@report.command("form")
@click.option(
    "--year",
    type=click.IntRange(1950, 9999),
    help="the discharge year (default: last year, in the bureau's calendar)",
)
@click.option("--county", help="one county (default: the prefecture, a row per county)")
@click.option("--station", help="one township or village station (12-digit code)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="file for csv / xlsx")
@pass_settings
def form(settings, year, county, station, fmt, output):
    """The ministry's annual form (年度新增自主就业退役士兵就业及去向情况表) for a discharge year:
    veterans discharged that year and placed as 自主就业, each counted once, with the form's
    checks (A = B + C + D + L, D = E + G + H, H = I + J + K) verified. Exit code 1 when a
    check fails: the form is still shown or written, with the failing checks, for a clerk to
    correct the cards listed by --json before filing.

    \b
    Example: vetctl report form --year 2025 --format xlsx -o 2025年度情况表.xlsx"""
    from vetctl import form_sheet

    if fmt in ("csv", "xlsx") and not output:
        raise click.UsageError(f"--format {fmt} needs --output FILE")
    with settings.client() as client:
        sheet = client.call(
            "registry", "annual_form", year=year, county_code=county, station_code=station
        )
    if settings.as_json or fmt == "json":
        emit_json(sheet)
    elif fmt == "table":
        # The columns by letter (a terminal is too narrow for the labels), then the legend.
        columns = ["地区", *(c["key"] for c in sheet["columns"])]
        table(f"{sheet['year']}{sheet['title']}", columns, list(form_sheet.lines(sheet)))
        click.echo("栏目：" + "，".join(f"{c['key']} {c['label']}" for c in sheet["columns"]))
        for line in form_sheet.notes(sheet):
            click.echo(line)
    else:
        if fmt == "xlsx":
            form_sheet.write_xlsx(output, sheet, sheet["generated_at"])
        else:
            form_sheet.write_csv(output, sheet)
        click.echo(f"form written to {output}")
    if not sheet["ok"]:
        failed = sum(not c["ok"] for c in sheet["checks"])
        click.echo(
            f"vetctl: {failed} check(s) of the form fail; "
            f"{len(sheet['unclassified'])} card(s) fit no column (see --json)",
            err=True,
        )
        raise SystemExit(1)
    return None
