"""vetctl report: the bureau's indicators per county and for the prefecture."""

import click

from vetctl import report as reports
from vetctl.render import emit_json, table
from vetctl.settings import pass_settings


@click.command()
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
@pass_settings
def report(settings, county, fmt, lang, output, stations):
    """The bureau's indicators per county and for the prefecture.

    \b
    Example: vetctl report --format xlsx -o 2026年11月.xlsx
             vetctl report --format html -o 报告.html   (one file, opens offline, prints on A4)
             vetctl report --county 652301 --stations"""
    from shared.clock import bureau_clock
    from shared.jurisdiction import Jurisdiction

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
    if county:
        areas.pop(None)
    # One document for --json and the HTML page: the same numbers in both.
    document = reports.document(areas, jurisdiction, bureau_clock().local_now())
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
