"""vetctl import: veterans and enterprises from a spreadsheet, through the bulk RPCs."""

import click

from vetctl import records
from vetctl.render import console, emit_json
from vetctl.settings import pass_settings


@click.group("import")
def import_():
    """Import veterans or enterprises from .xlsx or .csv (UTF-8 or GB18030); ID numbers as text."""


def _progress(settings):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(),
        disable=settings.as_json,
        transient=False,
    )


def _import(settings, kind, path, report_path):
    report_path = report_path or f"{path}.rejected.csv"
    with settings.client() as client, _progress(settings) as progress:
        importer = records.import_veterans if kind == "veterans" else records.import_enterprises
        result = importer(client, path, report_path, progress)
    if settings.as_json:
        emit_json(result)
    else:
        click.echo(
            f"{kind}: {result['created']} created, {result['duplicate']} duplicate, "
            f"{result['rejected']} rejected; rejected rows in {result['report']}"
        )
        if result["unknown_columns"]:
            click.echo(f"ignored columns: {', '.join(result['unknown_columns'])}")


@import_.command("veterans")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--report", "report_path", help="where to write rejected rows (default FILE.rejected.csv)"
)
@pass_settings
def import_veterans(settings, file, report_path):
    """Veterans through the bulk RPC, 500 rows a call, streamed.

    \b
    Example: vetctl import veterans 昌吉市退役军人.xlsx
    Headers in Chinese (身份证号, 姓名, 手机, 县市区代码, 退役时间, 退役类型, 技能, 意愿,
    就业状态, …) or English (id_number, name, …); codes or their Chinese labels. Running a
    file again creates nothing new (its rows count as duplicates)."""
    _import(settings, "veterans", file, report_path)


@import_.command("enterprises")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--report", "report_path", help="where to write rejected rows (default FILE.rejected.csv)"
)
@pass_settings
def import_enterprises(settings, file, report_path):
    """Enterprises, founders named by ID number (创办人身份证号).

    \b
    Example: vetctl import enterprises 企业名册.csv"""
    _import(settings, "enterprises", file, report_path)
