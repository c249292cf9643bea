"""vetctl dlq: dead letters listed, shown, replayed and dropped."""

import click

from vetctl import SERVICES, bus
from vetctl.client import Failure
from vetctl.render import emit_json, table
from vetctl.settings import pass_settings


@click.group()
def dlq():
    """Dead letters: list, show, replay, drop.  Example: vetctl dlq list"""


def _services(service):
    return (service,) if service else SERVICES


@dlq.command("list")
@click.option("--service", type=click.Choice(SERVICES))
@pass_settings
def dlq_list(settings, service):
    """Every dead letter with the queue it came from and why.  Example: vetctl dlq list"""
    found = bus.dlq_list(settings.operations_uri, _services(service))
    if settings.as_json:
        return emit_json(found)
    table(
        f"{len(found)} dead letter(s)",
        ["id", "service", "queue", "type", "reason", "summary"],
        [(d["id"], d["service"], d["queue"], d["type"], d["reason"], d["summary"]) for d in found],
    )


@dlq.command("show")
@click.argument("message_id")
@click.option("--service", type=click.Choice(SERVICES))
@pass_settings
def dlq_show(settings, message_id, service):
    """One dead letter in full.  Example: vetctl dlq show 8c1b5a10-…"""
    found = bus.dlq_show(settings.operations_uri, _services(service), message_id)
    if found is None:
        raise Failure(f"no dead letter {message_id}")
    emit_json(found)


@dlq.command("replay")
@click.argument("message_id", required=False)
@click.option("--all", "everything", is_flag=True, help="replay every dead letter")
@click.option("--service", type=click.Choice(SERVICES))
@pass_settings
def dlq_replay(settings, message_id, everything, service):
    """Send dead letters back to the queue they came from (handlers skip what they did).

    \b
    Example: vetctl dlq replay --all --service loans"""
    if not message_id and not everything:
        raise click.UsageError("name a message id, or --all")
    done = bus.dlq_replay(
        settings.operations_uri, _services(service), None if everything else {message_id}
    )
    if message_id and not done:
        raise Failure(f"no dead letter {message_id}")
    if settings.as_json:
        return emit_json(done)
    click.echo(f"{len(done)} dead letter(s) replayed")


@dlq.command("drop")
@click.argument("message_id")
@click.option("--service", type=click.Choice(SERVICES))
@pass_settings
def dlq_drop(settings, message_id, service):
    """Remove one dead letter for good.  Example: vetctl dlq drop 8c1b5a10-…"""
    done = bus.dlq_drop(settings.operations_uri, _services(service), {message_id})
    if not done:
        raise Failure(f"no dead letter {message_id}")
    click.echo(f"dropped {message_id}") if not settings.as_json else emit_json(done)
