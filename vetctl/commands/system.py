"""Running the system: are the servers up (check), migrations and queues (migrate),
each service's health() and the bus's view of it (health, status)."""

import json
import sys

import click

from shared.config import amqp_uri, database_url, service_config
from vetctl import SERVICES, bus
from vetctl.client import Failure, broker_url, safe_url
from vetctl.render import emit_json, table
from vetctl.settings import pass_settings

CLASSES = {name: (f"services.{name}.service", f"{name.capitalize()}Service") for name in SERVICES}


def service_classes():
    """The services' nameko classes, those that are installed."""
    import importlib
    import importlib.util

    found = {}
    for name, (module, cls) in CLASSES.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = getattr(importlib.import_module(module), cls)
    return found


def check_servers():
    """One line per unreachable server, naming its URL and how to start it."""
    import kombu
    import psycopg2

    problems, config = [], service_config("registry")
    try:
        psycopg2.connect(database_url(config), connect_timeout=3).close()
    except psycopg2.Error:
        problems.append(
            f"PostgreSQL is not reachable at {safe_url(database_url(config))}: "
            "start it with `pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start` or set DATABASE_URL"
        )
    try:
        with kombu.Connection(amqp_uri(config), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        problems.append(
            f"RabbitMQ is not reachable at {safe_url(amqp_uri(config))}: start it "
            "with `rabbitmq-server -detached` or set AMQP_URI"
        )
    return problems


@click.command()
def check():
    """Check that RabbitMQ and PostgreSQL answer.  Example: vetctl check"""
    problems = check_servers()
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1 if problems else 0)


@click.command()
def migrate():
    """Apply every service's migrations and declare its queues.  Example: vetctl migrate"""
    import inspect
    from pathlib import Path

    from shared import migrations
    from shared.messaging import declare_topology

    problems = check_servers()
    if problems:
        raise Failure(problems[0])
    for name, cls in service_classes().items():
        config = service_config(name)
        directory = Path(inspect.getfile(cls)).parent / "migrations"
        done = migrations.apply(database_url(config), name, directory)
        queues = declare_topology(cls, config)
        click.echo(
            f"{name}: {len(done)} migration(s) applied, {len(queues)} handler queue(s) declared"
        )


@click.command()
@click.argument("services", nargs=-1)
@click.option("--timeout", type=float, default=5.0, show_default=True)
def health(services, timeout):
    """Ask each service for health(); exit 1 if one fails.  Example: vetctl health jobs"""
    from shared.rpc_client import cluster_proxy

    results, failed = {}, False
    with cluster_proxy({"AMQP_URI": broker_url()}, timeout=timeout) as proxy:
        for name in services or SERVICES:
            try:
                results[name] = getattr(proxy, name).health()
            except Exception as exc:  # any failure is "not healthy" here
                results[name] = {
                    "service": name,
                    "status": "unreachable",
                    "error": type(exc).__name__,
                }
                failed = True
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    sys.exit(1 if failed else 0)


@click.command()
@pass_settings
def status(settings):
    """Each service's health, queues (messages, consumers), dead letters and outbox.

    \b
    Example: vetctl status"""
    figures = bus.queue_figures(settings.operations_uri)
    from shared.rpc_client import cluster_proxy

    out = {}
    with cluster_proxy({"AMQP_URI": settings.uri}, timeout=3) as proxy:
        for name in SERVICES:
            try:
                healthy = getattr(proxy, name).health()
            except Exception as exc:  # not running: say so, go on
                healthy = {"status": "unreachable", "error": type(exc).__name__}
            queues = bus.service_queues(figures, name)
            out[name] = {
                "status": healthy.get("status"),
                "outbox_backlog": healthy.get("outbox_backlog"),
                "outbox_oldest_seconds": healthy.get("outbox_oldest_seconds"),
                "queues": {
                    q: {"messages": m, "consumers": c} for q, (m, c) in sorted(queues.items())
                },
            }
    if settings.as_json:
        return emit_json(out)
    table(
        "services",
        [
            "service",
            "status",
            "outbox backlog",
            "oldest (s)",
            "queued",
            "dead letters",
            "consumers",
        ],
        [
            (
                name,
                s["status"],
                s["outbox_backlog"],
                s["outbox_oldest_seconds"],
                sum(q["messages"] for n, q in s["queues"].items() if not n.endswith(".dlq")),
                sum(q["messages"] for n, q in s["queues"].items() if n.endswith(".dlq")),
                sum(q["consumers"] for q in s["queues"].values()),
            )
            for name, s in out.items()
        ],
    )
