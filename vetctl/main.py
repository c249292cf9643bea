"""vetctl: the operators' command line over the same RPC and event bus the services use.

Every command has --help with an example, --json for scripts, exit code 0 on success and
a one-line reason otherwise."""
import json
import os
import secrets
import sys

import click

from shared.config import amqp_uri, database_url, service_config
from vetctl import SERVICES, bus, records, report as reports
from vetctl.client import (ADMIN_TOKEN_FILE, LOCAL, SECRET_FILE, Failure, broker_url, connect,
                           console, emit_json, safe_url, signing_secret)

CLASSES = {name: (f"services.{name}.service", f"{name.capitalize()}Service")
           for name in SERVICES}


def service_classes():
    """The services' nameko classes, those that are installed."""
    import importlib
    import importlib.util
    found = {}
    for name, (module, cls) in CLASSES.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = getattr(importlib.import_module(module), cls)
    return found


class Settings:
    def __init__(self, as_json, config, timeout):
        self.as_json, self.config, self.timeout = as_json, config, timeout

    @property
    def uri(self):
        return broker_url(self.config)

    @property
    def operations_uri(self):
        """For dead letters, the event tail and queue figures: the operations user."""
        return broker_url(self.config, user="operations")

    def client(self):
        return connect(self.uri, timeout=self.timeout)


pass_settings = click.make_pass_decorator(Settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="a service config file to read AMQP_URI from (else $AMQP_URI, else "
                   "services/registry/config.yaml)")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="seconds to wait for a service's reply")
@click.pass_context
def cli(ctx, as_json, config, timeout):
    """vetctl: the Veterans Affairs Bureau's operators' tool.

    \b
    Example:  vetctl card 652301199003071231
    The token comes from $VETCTL_TOKEN or .local/admin.token (make up writes it)."""
    ctx.obj = Settings(as_json, config, timeout)


# -- running the system ----------------------------------------------------------------
def check_servers():
    """One line per unreachable server, naming its URL and how to start it."""
    import kombu
    import psycopg2
    problems, config = [], service_config("registry")
    try:
        psycopg2.connect(database_url(config), connect_timeout=3).close()
    except psycopg2.Error:
        problems.append(f"PostgreSQL is not reachable at {safe_url(database_url(config))}: "
                        "start it with `pg_ctlcluster --skip-systemctl-redirect "
                        "$(ls /etc/postgresql) main start` or set DATABASE_URL")
    try:
        with kombu.Connection(amqp_uri(config), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        problems.append(f"RabbitMQ is not reachable at {safe_url(amqp_uri(config))}: start it "
                        "with `rabbitmq-server -detached` or set AMQP_URI")
    return problems


@cli.command()
def check():
    """Check that RabbitMQ and PostgreSQL answer.  Example: vetctl check"""
    problems = check_servers()
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1 if problems else 0)


@cli.command()
def migrate():
    """Apply every service's migrations and declare its queues.  Example: vetctl migrate"""
    import importlib.util
    from pathlib import Path

    from shared import migrations
    from shared.messaging import declare_topology
    problems = check_servers()
    if problems:
        raise Failure(problems[0])
    for name, cls in service_classes().items():
        config = service_config(name)
        directory = Path(importlib.util.find_spec(cls.__module__).origin).parent / "migrations"
        done = migrations.apply(database_url(config), name, directory)
        queues = declare_topology(cls, config)
        click.echo(f"{name}: {len(done)} migration(s) applied, {len(queues)} handler queue(s) "
                   "declared")


@cli.command()
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
                results[name] = {"service": name, "status": "unreachable",
                                 "error": type(exc).__name__}
                failed = True
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    sys.exit(1 if failed else 0)


@cli.group()
def broker():
    """The broker's users and rights (shared/data/broker_access.yaml).

    \b
    Example: vetctl broker init"""


@broker.command("init")
@click.option("--vhost", help="default: the vhost of the bootstrap URI")
def broker_init(vhost):
    """Create or bring up to date the vhost, exchanges, users and permissions of the table
    through the management API, as BROKER_ADMIN_URI (else AMQP_URI, else registry's URI).
    Idempotent; passwords from BROKER_PASSWORD_<USER>, else kept in .local/broker/."""
    from vetctl import broker as broker_setup
    done = broker_setup.init(vhost=vhost)
    click.echo(f"broker: {len(done)} users up to date on {safe_url(broker_setup.admin_uri())} "
               f"({', '.join(login for _, login in done)})")


@broker.command("uri")
@click.argument("user")
def broker_uri(user):
    """Print USER's AMQP URI, password included (for scripts: it is a secret).

    \b
    Example: AMQP_URI=$(vetctl broker uri registry) nameko run ..."""
    from shared import broker_access
    from vetctl import broker as broker_setup
    users = broker_access.accesses()
    if user not in users:
        raise click.UsageError(f"no broker user {user!r}: one of {', '.join(users)}")
    found = broker_setup.user_uri(user)
    if found is None:
        raise Failure(f"{user} has no password yet: run `vetctl broker init`")
    click.echo(found)


@cli.group()
def auth():
    """Local secrets.  Example: vetctl auth init"""


@auth.command("init")
@click.option("--days", type=float, default=30, show_default=True)
def auth_init(days):
    """For a local start without VET_AUTH_SECRET: one random secret, kept, and an admin
    token in .local/admin.token."""
    from shared.auth import issue
    LOCAL.mkdir(parents=True, exist_ok=True)
    if not SECRET_FILE.exists():
        SECRET_FILE.write_text(secrets.token_urlsafe(48) + "\n")
        SECRET_FILE.chmod(0o600)
        click.echo(f"auth: new secret in {SECRET_FILE}")
    token = issue(signing_secret(), "local-admin", "admin", ["*"], name="local admin", days=days)
    ADMIN_TOKEN_FILE.write_text(token + "\n")
    ADMIN_TOKEN_FILE.chmod(0o600)
    click.echo(f"auth: admin token in {ADMIN_TOKEN_FILE} (valid {days:g} days)")


@cli.group()
def token():
    """Tokens for operators.  Example: vetctl token issue --operator clerk-07 --role county --counties 652301"""


@token.command("issue")
@click.option("--operator", required=True, help="operator id (the token's sub)")
@click.option("--role", required=True, help="admin | prefecture | county | viewer | bureau | service")
@click.option("--counties", required=True, help="comma-separated codes, or *")
@click.option("--days", type=float, default=30, show_default=True)
@click.option("--name", default="")
@pass_settings
def token_issue(settings, operator, role, counties, days, name):
    """Mint a token (needs the secret). The token goes to standard output, its id (jti,
    for `vetctl token revoke`) to standard error; --json prints both.

    \b
    Example: vetctl token issue --operator clerk-07 --role county --counties 652301,652302"""
    import uuid

    from shared.auth import ROLES, issue
    from shared.jurisdiction import Jurisdiction
    codes = [c.strip() for c in counties.split(",") if c.strip()]
    if role not in ROLES:
        raise click.UsageError(f"unknown role {role}; roles: {', '.join(ROLES)}")
    if not codes:
        raise click.UsageError("--counties needs at least one code, or *")
    if "*" in codes and len(codes) > 1:
        raise click.UsageError("--counties is * alone or a list of codes")
    unknown = [c for c in codes if c != "*" and not Jurisdiction.load().contains(c)]
    if unknown:
        raise click.UsageError(f"counties outside the jurisdiction: {', '.join(unknown)}")
    jti = str(uuid.uuid4())
    token_ = issue(signing_secret(), operator, role, codes, name=name, days=days, jti=jti)
    if settings.as_json:
        emit_json({"token": token_, "jti": jti, "operator": operator, "role": role,
                   "counties": codes, "days": days})
        return
    click.echo(token_)
    click.echo(f"jti: {jti}  (to revoke this token alone: vetctl token revoke {jti} "
               "--reason ...)", err=True)


@token.command("revoke")
@click.argument("jti")
@click.option("--reason", required=True, help="why, kept as the line's comment")
@click.option("--file", "path", type=click.Path(dir_okay=False),
              help="the deny list to append to (else $VET_AUTH_DENY_LIST, else "
                   ".local/token-deny-list, which a local make up reads)")
@pass_settings
def token_revoke(settings, jti, reason, path):
    """Revoke one token by its id (jti): appends it to the deny list that every service
    re-reads within seconds (shared/denylist.py). In Compose or Kubernetes, append to the
    mounted file's source (--file) and publish it (docs/deploy.md).

    \b
    Example: vetctl token revoke 3f2c9a1e-5b7d-4c8e-9f10-2a3b4c5d6e7f --reason "laptop stolen"
    """
    import uuid
    from pathlib import Path

    from shared import denylist
    from shared.clock import bureau_clock
    try:
        jti = str(uuid.UUID(jti.strip()))
    except ValueError:
        raise click.UsageError("JTI is a token's id as vetctl token issue shows it (a "
                               "UUID)") from None
    reason = " ".join(reason.split())  # one line: the comment of this entry
    if not reason:
        raise click.UsageError("--reason must say why")
    target = Path(path) if path else denylist.default_path()
    already = target.exists() and jti in denylist.parse(target.read_text(encoding="utf-8"))
    if not already:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8") as handle:
            if handle.tell() and not target.read_text(encoding="utf-8").endswith("\n"):
                handle.write("\n")
            handle.write(f"{jti}  # {bureau_clock().local_now():%Y-%m-%d %H:%M} {reason}\n")
    if settings.as_json:
        emit_json({"jti": jti, "file": str(target), "already_revoked": already})
    else:
        click.echo(f"{jti} {'was already' if already else 'is'} revoked in {target}; services "
                   f"refuse it within {denylist.CHECK_SECONDS:g} s of reading the file")


# -- imports and exports ---------------------------------------------------------------
@cli.group("import")
def import_():
    """Import veterans or enterprises from .xlsx or .csv (UTF-8 or GB18030); ID numbers as text."""


def _progress(settings):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console(), disable=settings.as_json,
                    transient=False)


def _import(settings, kind, path, report_path):
    report_path = report_path or f"{path}.rejected.csv"
    with settings.client() as client, _progress(settings) as progress:
        importer = records.import_veterans if kind == "veterans" else records.import_enterprises
        result = importer(client, path, report_path, progress)
    if settings.as_json:
        emit_json(result)
    else:
        click.echo(f"{kind}: {result['created']} created, {result['duplicate']} duplicate, "
                   f"{result['rejected']} rejected; rejected rows in {result['report']}")
        if result["unknown_columns"]:
            click.echo(f"ignored columns: {', '.join(result['unknown_columns'])}")


@import_.command("veterans")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--report", "report_path", help="where to write rejected rows (default FILE.rejected.csv)")
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
@click.option("--report", "report_path", help="where to write rejected rows (default FILE.rejected.csv)")
@pass_settings
def import_enterprises(settings, file, report_path):
    """Enterprises, founders named by ID number (创办人身份证号).

    \b
    Example: vetctl import enterprises 企业名册.csv"""
    _import(settings, "enterprises", file, report_path)


@cli.group()
def export():
    """Export the ledger (ID numbers masked, no phone or address; audited; text that would
    start a formula stays text)."""


@export.command("veterans")
@click.option("--county", help="a county code")
@click.option("--status", help="an employment status code")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
@pass_settings
def export_veterans(settings, county, status, fmt, output):
    """Example: vetctl export veterans --county 652301 --format csv -o 昌吉市.csv"""
    with settings.client() as client:
        count = records.export_veterans(client, output, fmt, county, status)
    if settings.as_json:
        emit_json({"rows": count, "file": output})
    else:
        click.echo(f"{count} veterans written to {output}")


# -- look-ups --------------------------------------------------------------------------
def _table(title, columns, rows):
    from rich.table import Table
    table = Table(title=title)
    for position, column in enumerate(columns):
        table.add_column(column, no_wrap=position == 0)
    for row in rows:
        table.add_row(*["—" if v is None else str(v) for v in row])
    console().print(table)


@cli.command()
@click.argument("key")
@pass_settings
def card(settings, key):
    """The one-card view (一人一卡): profile, status, enterprises, timeline.

    \b
    Example: vetctl card 652301199003071231   (or a veteran id)"""
    with settings.client() as client:
        got = records.find_card(client, key)
    if settings.as_json:
        return emit_json(got)
    v = got["veteran"]
    _table(f"{v['name']} · {v['id_number']}", ["field", "value"], [
        ("id", v["id"]), ("county", v["county_code"]), ("gender / born", f"{v['gender']} / {v['birth_date']}"),
        ("discharged", f"{v['discharged_on']} ({v['discharge_type']})"),
        ("skills", "、".join(v["skills"]) or "—"), ("certificates", "、".join(v["certificates"]) or "—"),
        ("willingness", v["willingness"]), ("employment status", v["employment_status"]),
        ("employer", v.get("employer")), ("service needs", "、".join(v["service_needs"]) or "—")])
    if got["enterprises"]:
        _table("enterprises", ["name", "kind", "stage"],
               [(e["name"], e["kind"], e["stage"]) for e in got["enterprises"]])
    _table("timeline", ["at", "source", "event", "summary"],
           [(line["at"][:16], line["source"], line["type"], line["summary"])
            for line in got["timeline"]])


@cli.command()
@click.argument("enterprise_id")
@pass_settings
def booklet(settings, enterprise_id):
    """The enterprise's booklet (一企一册).  Example: vetctl booklet 5b7f0f43-…"""
    with settings.client() as client:
        got = client.call("registry", "get_booklet", enterprise_id)
    if settings.as_json:
        return emit_json(got)
    e = got["enterprise"]
    _table(f"{e['name']}", ["field", "value"], [
        ("id", e["id"]), ("kind", e["kind"]), ("credit code", e.get("uscc")),
        ("county", e["county_code"]), ("industry", e["industry"]), ("stage", e["stage"]),
        ("founded", e["founded_on"])])
    _table("timeline", ["at", "source", "event", "summary"],
           [(line["at"][:16], line["source"], line["type"], line["summary"])
            for line in got["timeline"]])


@cli.command()
@click.option("--county", required=True, help="a county code")
@pass_settings
def worklist(settings, county):
    """Revisits due and overdue in a county, oldest first.  Example: vetctl worklist --county 652301"""
    with settings.client() as client:
        got = client.call("followup", "worklist", county)
    if settings.as_json:
        return emit_json(got)
    items = got["items"] if isinstance(got, dict) and "items" in got else got
    _table(f"revisits due in {county}", ["revisit", "veteran", "kind", "due on", "status"],
           [(r.get("id") or r.get("revisit_id"), r.get("veteran_id"), r.get("kind"),
             r.get("due_on"), r.get("status")) for r in items])


@cli.command()
@click.argument("veteran_id")
@click.option("--limit", type=int, default=10, show_default=True)
@pass_settings
def match(settings, veteran_id, limit):
    """Open postings ranked for a veteran, with reasons.  Example: vetctl match 3f2a…"""
    with settings.client() as client:
        got = client.call("jobs", "match_jobs", veteran_id, limit)
    if settings.as_json:
        return emit_json(got)
    _table("matches", ["score", "posting", "county", "salary", "matched", "missing"], [
        (m["score"], m["posting"]["title"], m["posting"]["county_code"],
         f"{m['posting']['salary_min']}–{m['posting']['salary_max']}",
         "、".join(m["reasons"]["matched_skills"]), "、".join(m["reasons"]["missing_skills"]))
        for m in got])


# -- the report ------------------------------------------------------------------------
@cli.command()
@click.option("--county", help="one county (default: every county and the prefecture)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]),
              default="table", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="file for csv / xlsx")
@pass_settings
def report(settings, county, fmt, lang, output):
    """The bureau's indicators per county and for the prefecture.

    \b
    Example: vetctl report --format xlsx -o 2026年11月.xlsx"""
    from shared.jurisdiction import Jurisdiction
    counties = [county] if county else Jurisdiction.load().codes()
    with settings.client() as client:
        areas = reports.collect(client, counties)
    if county:
        areas.pop(None)
    if settings.as_json or fmt == "json":
        return emit_json(reports.as_json(areas))
    names, rows = reports.table(areas, lang)
    if fmt == "table":
        return _table("退役军人就业创业工作指标" if lang == "zh" else "the bureau's indicators",
                      ["指标" if lang == "zh" else "indicator", *names],
                      [(label, *values) for _, label, values in rows])
    if not output:
        raise click.UsageError(f"--format {fmt} needs --output FILE")
    from vetctl import sheets
    sheets.write(output, ["指标" if lang == "zh" else "indicator", *names],
                 ([label, *values] for _, label, values in rows), fmt)
    click.echo(f"report written to {output}")


# -- the bus ---------------------------------------------------------------------------
@cli.group()
def events():
    """The event bus.  Example: vetctl events tail --source jobs"""


@events.command("tail")
@click.option("--source", multiple=True, type=click.Choice(SERVICES), help="repeatable; default all")
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
            click.echo(f"{envelope.get('occurred_at', '')[:19]}  {envelope.get('source', ''):9s}"
                       f" {envelope.get('type', ''):26s} {envelope.get('correlation_id', '')[:12]:12s}"
                       f"  {bus.summary(envelope)}")
    bus.tail(settings.operations_uri, source or SERVICES, event_type, count, idle, echo)


@cli.group()
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
    _table(f"{len(found)} dead letter(s)", ["id", "service", "queue", "type", "reason", "summary"],
           [(d["id"], d["service"], d["queue"], d["type"], d["reason"], d["summary"])
            for d in found])


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
    done = bus.dlq_replay(settings.operations_uri, _services(service), None if everything else {message_id})
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


@cli.command()
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
            out[name] = {"status": healthy.get("status"),
                         "outbox_backlog": healthy.get("outbox_backlog"),
                         "outbox_oldest_seconds": healthy.get("outbox_oldest_seconds"),
                         "queues": {q: {"messages": m, "consumers": c}
                                    for q, (m, c) in sorted(queues.items())}}
    if settings.as_json:
        return emit_json(out)
    _table("services", ["service", "status", "outbox backlog", "oldest (s)", "queued",
                        "dead letters", "consumers"],
           [(name, s["status"], s["outbox_backlog"], s["outbox_oldest_seconds"],
             sum(q["messages"] for n, q in s["queues"].items() if not n.endswith(".dlq")),
             sum(q["messages"] for n, q in s["queues"].items() if n.endswith(".dlq")),
             sum(q["consumers"] for q in s["queues"].values()))
            for name, s in out.items()])


# -- anything else ---------------------------------------------------------------------
@cli.command()
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


@cli.command()
@click.option("--veterans", "count", type=int, default=300, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
@pass_settings
def demo(settings, count, seed):
    """Fill the system with realistic demo data through the real RPCs.

    \b
    Example: vetctl demo --veterans 300"""
    from vetctl import demo as demo_data
    with settings.client() as client:
        result = demo_data.run(client, count, seed,
                               echo=lambda line: click.echo(line, err=settings.as_json))
    if settings.as_json:
        emit_json(result)


def main(argv=None):
    """The console script. An unexpected error is one line too (VETCTL_DEBUG=1 shows the
    traceback)."""
    try:
        return cli.main(args=argv, prog_name="vetctl", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code
    except Exception as exc:
        if os.environ.get("VETCTL_DEBUG"):
            raise
        click.echo(f"vetctl: {type(exc).__name__}: {exc}", err=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
