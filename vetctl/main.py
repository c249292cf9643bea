"""vetctl: the operators' command line over the same RPC and event bus the services use.
This first cut knows the commands that running the system needs; more come with the
operators' issue."""
import argparse
import json
import sys

from shared.config import amqp_uri, database_url, service_config

SERVICES = ("registry", "loans")


def service_classes():
    from services.loans.service import LoansService
    from services.registry.service import RegistryService
    return {"registry": RegistryService, "loans": LoansService}


def check_servers():
    """One line naming the URL and how to start the server, instead of a traceback."""
    import kombu
    import psycopg2
    problems = []
    config = service_config("registry")
    try:
        psycopg2.connect(database_url(config), connect_timeout=3).close()
    except psycopg2.Error:
        problems.append(f"PostgreSQL is not reachable at {_safe(database_url(config))}: start it with "
                        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
                        " or set DATABASE_URL")
    try:
        with kombu.Connection(amqp_uri(config), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        problems.append(f"RabbitMQ is not reachable at {_safe(amqp_uri(config))}: start it with "
                        "`rabbitmq-server -detached` or set AMQP_URI")
    return problems


def _safe(url):
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}@{host}"
    return url


def cmd_check(args):
    problems = check_servers()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def cmd_migrate(args):
    from shared import migrations
    from shared.messaging import declare_topology
    if cmd_check(args):
        return 1
    import importlib.util
    from pathlib import Path
    for name, cls in service_classes().items():
        config = service_config(name)
        directory = Path(importlib.util.find_spec(cls.__module__).origin).parent / "migrations"
        done = migrations.apply(database_url(config), name, directory)
        queues = declare_topology(cls, config)
        print(f"{name}: {len(done)} migration(s) applied, {len(queues)} handler queue(s) declared")
    return 0


def cmd_health(args):
    from nameko.standalone.rpc import ClusterRpcProxy
    from nameko.exceptions import RpcTimeout
    config = {"AMQP_URI": amqp_uri(service_config("registry"))}
    results, failed = {}, False
    with ClusterRpcProxy(config, timeout=args.timeout) as proxy:
        for name in args.services or SERVICES:
            try:
                results[name] = getattr(proxy, name).health()
            except (RpcTimeout, Exception) as exc:  # any failure is "not healthy" here
                results[name] = {"service": name, "status": "unreachable",
                                 "error": type(exc).__name__}
                failed = True
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="vetctl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check that RabbitMQ and PostgreSQL answer").set_defaults(func=cmd_check)
    sub.add_parser("migrate", help="apply every service's migrations and declare its queues"
                   ).set_defaults(func=cmd_migrate)
    health = sub.add_parser("health", help="ask each service for health(); exit 1 if one fails")
    health.add_argument("services", nargs="*")
    health.add_argument("--timeout", type=float, default=5)
    health.set_defaults(func=cmd_health)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
