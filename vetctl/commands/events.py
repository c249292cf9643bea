"""vetctl events: live events from the services' exchanges."""

import json

import click

from vetctl import SERVICES, bus
from vetctl.settings import pass_settings


@click.group()
def events():
    """The event bus.  Example: vetctl events tail --source jobs"""


@events.command("tail")
@click.option(
    "--source", multiple=True, type=click.Choice(SERVICES), help="repeatable; default all"
)
@click.option("--type", "event_type", help="one event type, e.g. veteran_hired")
@click.option("--count", type=int, help="stop after this many events")
@click.option("--idle", type=float, help="stop after this many seconds without an event")
@pass_settings
def events_tail(settings, source, event_type, count, idle):
    """Print live events: time, source, type, correlation id, a summary (no personal
    identifiers), from a temporary queue.

    \b
    Example: vetctl events tail --type veteran_hired --count 10"""

    def echo(envelope):
        if settings.as_json:
            click.echo(json.dumps(envelope, ensure_ascii=False))
        else:
            click.echo(
                f"{envelope.get('occurred_at', '')[:19]}  {envelope.get('source', ''):9s}"
                f" {envelope.get('type', ''):26s} {envelope.get('correlation_id', '')[:12]:12s}"
                f"  {bus.summary(envelope)}"
            )

    bus.tail(settings.operations_uri, source or SERVICES, event_type, count, idle, echo)
