"""What vetctl prints: JSON for --json and scripts, rich tables for people."""

import json
import os
import sys

import click


def emit_json(value):
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def console():
    """Rich output to standard output: the terminal's width, or 200 columns when piped
    (a report has nine columns)."""
    from rich.console import Console

    width = os.environ.get("COLUMNS")
    return Console(
        file=sys.stdout,
        soft_wrap=False,
        width=int(width) if width else (None if sys.stdout.isatty() else 200),
    )


def table(title, columns, rows):
    """One rich table; None shows as "—", the first column never wraps."""
    from rich.table import Table

    table_ = Table(title=title)
    for position, column in enumerate(columns):
        table_.add_column(column, no_wrap=position == 0)
    for row in rows:
        table_.add_row(*["—" if v is None else str(v) for v in row])
    console().print(table_)
