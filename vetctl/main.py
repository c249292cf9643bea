"""vetctl: the operators' command line over the same RPC and event bus the services use.
This first cut knows the commands that running the system needs; more come with the
operators' issue."""
import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from shared.config import amqp_uri, database_url, service_config

SERVICES = ("registry", "loans", "jobs", "training")
LOCAL = Path(os.environ.get("LOCAL_DIR", ".local"))
SECRET_FILE = LOCAL / "auth.secret"
ADMIN_TOKEN_FILE = LOCAL / "admin.token"


def service_classes():
    from services.jobs.service import JobsService
    from services.loans.service import LoansService
    from services.registry.service import RegistryService
    from services.training.service import TrainingService
    return {"registry": RegistryService, "loans": LoansService, "jobs": JobsService,
            "training": TrainingService}


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


def signing_secret():
    """VET_AUTH_SECRET's first secret, else the local one ``vetctl auth init`` made."""
    from shared.auth import secrets_from
    if os.environ.get("VET_AUTH_SECRET"):
        return secrets_from({"AUTH_SECRETS": os.environ["VET_AUTH_SECRET"]})[0]
    if SECRET_FILE.exists():
        return SECRET_FILE.read_text().strip()
    raise SystemExit("vetctl: no secret: set VET_AUTH_SECRET or run `vetctl auth init` "
                     "(make run / make up do)")


def operator_token():
    """The token vetctl sends: VETCTL_TOKEN, else .local/admin.token."""
    if os.environ.get("VETCTL_TOKEN"):
        return os.environ["VETCTL_TOKEN"].strip()
    if ADMIN_TOKEN_FILE.exists():
        return ADMIN_TOKEN_FILE.read_text().strip()
    raise SystemExit("vetctl: no token: set VETCTL_TOKEN or run `make up` to create "
                     f"{ADMIN_TOKEN_FILE}")


def cmd_auth_init(args):
    """For a local start without VET_AUTH_SECRET: one random secret, kept, and an admin token."""
    from shared.auth import issue
    LOCAL.mkdir(parents=True, exist_ok=True)
    if not SECRET_FILE.exists():
        SECRET_FILE.write_text(secrets.token_urlsafe(48) + "\n")
        SECRET_FILE.chmod(0o600)
        print(f"auth: new secret in {SECRET_FILE}")
    token = issue(signing_secret(), "local-admin", "admin", ["*"], name="local admin",
                  days=args.days)
    ADMIN_TOKEN_FILE.write_text(token + "\n")
    ADMIN_TOKEN_FILE.chmod(0o600)
    print(f"auth: admin token in {ADMIN_TOKEN_FILE} (valid {args.days} days)")
    return 0


def cmd_token_issue(args):
    from shared.auth import ROLES, issue
    counties = [c.strip() for c in args.counties.split(",") if c.strip()]
    if args.role not in ROLES:
        print(f"vetctl: unknown role {args.role}; roles: {', '.join(ROLES)}", file=sys.stderr)
        return 2
    if not counties:
        print("vetctl: --counties needs at least one code, or *", file=sys.stderr)
        return 2
    from shared.jurisdiction import Jurisdiction
    unknown = [c for c in counties if c != "*" and not Jurisdiction.load().contains(c)]
    if unknown:
        print(f"vetctl: counties outside the jurisdiction: {', '.join(unknown)}", file=sys.stderr)
        return 2
    print(issue(signing_secret(), args.operator, args.role, counties, name=args.name,
                days=args.days))
    return 0


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
    auth_init = sub.add_parser("auth", help="local secrets: `vetctl auth init`")
    auth_init.add_argument("action", choices=["init"])
    auth_init.add_argument("--days", type=float, default=30)
    auth_init.set_defaults(func=cmd_auth_init)
    token = sub.add_parser(
        "token", help="mint a token (needs the secret)",
        description="example: vetctl token issue --operator clerk-07 --role county "
                    "--counties 652301,652302 --days 30 --name 王芳")
    token.add_argument("action", choices=["issue"])
    token.add_argument("--operator", required=True, help="operator id (the token's sub)")
    token.add_argument("--role", required=True,
                       help="admin | prefecture | county | viewer | bureau | service")
    token.add_argument("--counties", required=True, help="comma-separated codes, or *")
    token.add_argument("--days", type=float, default=30)
    token.add_argument("--name", default="")
    token.set_defaults(func=cmd_token_issue)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
