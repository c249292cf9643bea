"""vetctl export: the ledger's list form to a spreadsheet."""

import click

from vetctl import records
from vetctl.render import emit_json
from vetctl.settings import pass_settings


@click.group()
def export():
    """Export the ledger (ID numbers masked, no phone or address; audited; text that would
    start a formula stays text)."""


@export.command("veterans")
@click.option("--county", help="a county code")
@click.option("--status", help="an employment status code")
@click.option("--station", help="a township or village station code (a township: its villages too)")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
@pass_settings
def export_veterans(settings, county, status, station, fmt, output):
    """Example: vetctl export veterans --county 652301 --format csv -o 昌吉市.csv"""
    with settings.client() as client:
        count = records.export_veterans(client, output, fmt, county, status, station)
    if settings.as_json:
        emit_json({"rows": count, "file": output})
    else:
        click.echo(f"{count} veterans written to {output}")
