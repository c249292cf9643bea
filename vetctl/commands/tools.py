"""Anything else: any RPC by name (call) and demo data through the real RPCs (demo)."""

import json

import click

from vetctl.render import emit_json
from vetctl.settings import pass_settings


@click.command()
@click.argument("service")
@click.argument("method")
@click.argument("arguments", default="[]")
@pass_settings
def call(settings, service, method, arguments):
    """Call any RPC: ARGUMENTS is a JSON list of positional arguments (or one object).

    \b
    Example: vetctl call loans check_eligibility '["3f2a…", "yongjun_chuangye"]'"""
    try:
        args = json.loads(arguments)
    except ValueError as exc:
        raise click.UsageError(f"ARGUMENTS is not JSON: {exc}") from None
    args = args if isinstance(args, list) else [args]
    with settings.client() as client:
        emit_json(client.call(service, method, *args))


@click.command()
@click.option("--veterans", "count", type=int, default=300, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@pass_settings
def demo(settings, count, seed):
    """Fill the system with realistic demo data through the real RPCs.

    \b
    Example: vetctl demo --veterans 300"""
    from vetctl import demo as demo_data

    with settings.client() as client:
        result = demo_data.run(
            client, count, seed, echo=lambda line: click.echo(line, err=settings.as_json)
        )
    if settings.as_json:
        emit_json(result)
