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
    type=click.Choice(["table", "json", "csv", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="file for csv / xlsx")
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
             vetctl report --county 652301 --stations"""
    from shared.jurisdiction import Jurisdiction

    if stations and not county:
        raise click.UsageError("--stations needs --county")
    counties = [county] if county else Jurisdiction.load().codes()
    with settings.client() as client:
        areas = reports.collect(client, counties)
        if stations:
            areas.update(reports.collect_stations(client, county))
    if county:
        areas.pop(None)
    if settings.as_json or fmt == "json":
        return emit_json(reports.as_json(areas))
    names, rows = reports.table(areas, lang)
    if fmt == "table":
        return table(
            "退役军人就业创业工作指标" if lang == "zh" else "the bureau's indicators",
            ["指标" if lang == "zh" else "indicator", *names],
            [(label, *values) for _, label, values in rows],
        )
    if not output:
        raise click.UsageError(f"--format {fmt} needs --output FILE")
    from vetctl import sheets

    sheets.write(
        output,
        ["指标" if lang == "zh" else "indicator", *names],
        ([label, *values] for _, label, values in rows),
        fmt,
    )
    click.echo(f"report written to {output}")
