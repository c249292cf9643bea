"""`make chaos`: the fault suite. For each scenario, from a clean state (empty databases and
queues, the cluster whole, every service's replicas fresh): start the load, inject the fault
once a fifth of it is sent, let the load finish, wait until the system is quiet, and check
from the databases what every operation left behind (tests/chaos/checker.py). Prints one
row per scenario, writes them as JSON, exits 1 if anything was lost or duplicated (2 if a
scenario could not run).

    python -m tests.chaos.run [--scenarios all|ci|NAME,...] [--operations N] [--json PATH]

Needs root and the local cluster (`make chaos` starts it: scripts/cluster.sh up).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import psycopg2
import requests
from rich.console import Console
from rich.table import Table

from shared.clock import bureau_clock
from tests.chaos import faults
from tests.chaos.checker import check, wait_quiet
from tests.chaos.load import Load, now

ROOT = faults.ROOT
LOCAL = ROOT / ".local" / "chaos"
SERVICES_SH = ROOT / "scripts" / "services.sh"
SCHEMAS = faults.SERVICES

# name → (kind, fault); every fault returns a dict of what it did.
SCENARIOS = {
    "broker-stopped-5s": ("broker", lambda svc: faults.broker_stopped(5)),
    "broker-stopped-20s": ("broker", lambda svc: faults.broker_stopped(20)),
    "broker-stopped-60s": ("broker", lambda svc: faults.broker_stopped(60)),
    "node-killed": ("broker", lambda svc: faults.node_killed()),
    "node-paused-30s": ("broker", lambda svc: faults.node_paused(30)),
    "services-killed": ("process", lambda svc: svc.killed_in_turn()),
    "rolling-restart": ("process", lambda svc: svc.rolling_restart()),
    "pg-restarted": ("database", lambda svc: faults.pg_restarted()),
    "pg-crashed": ("database", lambda svc: faults.pg_crashed()),
    "pg-failover": ("database", lambda svc: faults.pg_failover()),
}
# One of each kind, for CI (bounded to 15 minutes with the reduced load).
CI = ("node-killed", "services-killed", "pg-failover")


def cluster_env():
    """AMQP_URI, DATABASE_URL, RABBIT_API of the local cluster (scripts/cluster.sh urls)."""
    out = faults.run(faults.CLUSTER_SH, "urls").stdout
    env = {}
    for line in out.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value.strip("'")
    return env


class Rig:
    """The system under test: the services on the local cluster, REPLICAS processes each."""

    def __init__(self, replicas, log):
        self.replicas, self.log = replicas, log
        self.env = {
            **os.environ,
            **cluster_env(),
            "LOCAL_DIR": str(LOCAL),
            "REPLICAS": str(replicas),
            "UP_TIMEOUT": "120",
        }
        self.services = faults.Services(LOCAL, replicas)

    def sh(self, *args, timeout=300):
        result = subprocess.run(
            ["bash", str(SERVICES_SH), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"services.sh {' '.join(args)}: {result.stderr[-2000:]}")
        return result.stdout

    def clean(self):
        """Services down, the cluster whole, schemas dropped, queues deleted, services up."""
        self.sh("down")
        faults.start_nodes()
        if not faults.primary_is_primary():
            self.log("  rebuilding the PostgreSQL primary and replica")
            faults.reset_databases()
        with (
            psycopg2.connect(self.env["DATABASE_URL"], connect_timeout=10) as conn,
            conn.cursor() as cur,
        ):
            cur.execute(f"DROP SCHEMA IF EXISTS {', '.join(SCHEMAS)} CASCADE")
        auth = faults.admin()
        for queue in faults.api("queues/%2F?columns=name"):
            requests.delete(
                f"{faults.MANAGEMENT}/queues/%2F/{requests.utils.quote(queue['name'], safe='')}",
                auth=auth,
                timeout=10,
            )
        self.sh("up")

    def client_uri(self):
        """The vetctl login (its own broker user), through every node."""
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "vetctl"), "broker", "uri", "vetctl"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    def token(self):
        return (LOCAL / "admin.token").read_text().strip()

    def down(self):
        self.sh("down")


def scenario(rig, name, operations, concurrency, seed, log):
    kind, fault = SCENARIOS[name]
    began = now()
    rig.clean()
    load = Load(
        rig.client_uri(), rig.token(), operations=operations, concurrency=concurrency, seed=seed
    )
    load.prepare()
    stop = threading.Event()
    result = {}

    def send():
        try:
            result["ops"] = load.run(stop)
        except Exception as exc:  # raised below: the scenario is an error, not a clean row
            result["failed"] = exc

    worker = threading.Thread(target=send, daemon=True)
    worker.start()
    while load.sent() < operations // 5 and worker.is_alive():
        time.sleep(0.2)
    log(f"  {load.sent()} sent; fault: {name}")
    fault_began = now()
    detail = fault(rig.services)
    fault_ended = now()
    log(f"  fault over after {fault_ended - fault_began:.1f} s {detail}; {load.sent()} sent")
    worker.join(timeout=1800)
    if worker.is_alive():
        stop.set()
        worker.join(timeout=120)
    if "failed" in result:
        raise result["failed"]
    if "ops" not in result:
        raise RuntimeError("the load did not end within 30 minutes of the fault")
    ops = result["ops"]
    load_ended = now()
    log(
        f"  load done: {len(ops)} operations in {load_ended - fault_began:.0f} s since the"
        " fault; waiting for quiet"
    )
    auth = faults.admin()
    quiet = wait_quiet(
        rig.env["DATABASE_URL"], faults.MANAGEMENT.removesuffix("/api"), auth, timeout=600
    )
    report = check(ops, rig.env["DATABASE_URL"], faults.MANAGEMENT.removesuffix("/api"), auth)
    last = report.get("last_effect_at")
    report["caught_up_seconds"] = caught_up(rig.env["DATABASE_URL"], fault_ended)
    try:
        report["announcements"] = announce_all(rig, log)
    except Exception as exc:  # the check's figures stand; this row fails
        log(traceback.format_exc())
        report["announcements"] = {"error": f"{type(exc).__name__}: {exc}"}
    report.update(
        {
            "scenario": name,
            "kind": kind,
            "fault": detail,
            "quiet": quiet,
            "fault_seconds": round(fault_ended - fault_began, 1),
            "recovery_seconds": round(max(0.0, last - fault_ended), 1) if last else None,
            "scenario_seconds": round(now() - began, 1),
            "workers_by_instance": work_by_instance(rig),
            "error_samples": error_samples(ops),
        }
    )
    return report


def caught_up(dsn, fault_ended):
    """Seconds from the fault's end until the system had done everything it owed from
    before it: the last event created by then published, and handled by every consumer
    (its inbox row). 0 when that was done before the fault ended."""
    events = " UNION ALL ".join(
        f"SELECT event_id, created_at, published_at FROM {s}.outbox" for s in SCHEMAS
    )
    handled = " UNION ALL ".join(f"SELECT event_id, received_at FROM {s}.inbox" for s in SCHEMAS)
    with psycopg2.connect(dsn, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute(
            f"WITH e AS ({events}), h AS ({handled})"
            " SELECT extract(epoch FROM greatest("
            "   (SELECT max(published_at) FROM e WHERE created_at <= to_timestamp(%s)),"
            "   (SELECT max(h.received_at) FROM h JOIN e USING (event_id)"
            "     WHERE e.created_at <= to_timestamp(%s))))",
            (fault_ended, fault_ended),
        )
        last = cur.fetchone()[0]
    return round(max(0.0, float(last) - fault_ended), 1) if last is not None else None


def announce_all(rig, log, timeout=300):
    """After the check: every scheduled revisit made due today, so followup's two
    schedulers (one per replica) announce them; each must be announced (``revisit_due``)
    exactly once, and both replicas should take part (their ``followup.scheduler`` lines)."""
    dsn = rig.env["DATABASE_URL"]
    today = bureau_clock().today()
    with psycopg2.connect(dsn, connect_timeout=10) as conn, conn.cursor() as cur:
        # Each plan's revisits (cause, veteran, kind) stay on distinct days (a unique key):
        # the latest today, the one before it yesterday … (all past their old dates, so no
        # row moves onto another's; none so early that it is overdue).
        cur.execute(
            "UPDATE followup.revisits r SET due_on = %s - (s.k - 1)::int"
            " FROM (SELECT id, row_number() OVER (PARTITION BY cause_event_id,"
            "        veteran_id, kind ORDER BY due_on DESC) AS k"
            "       FROM followup.revisits WHERE status = 'scheduled') s"
            " WHERE r.id = s.id",
            (today,),
        )
        cur.execute("SELECT count(*) FROM followup.revisits")
        revisits = cur.fetchone()[0]
    deadline = time.monotonic() + timeout
    left = None
    while time.monotonic() < deadline:
        with psycopg2.connect(dsn, connect_timeout=10) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM followup.revisits WHERE status = 'scheduled'")
            left = cur.fetchone()[0]
        if left == 0:
            break
        time.sleep(1)
    with psycopg2.connect(dsn, connect_timeout=10) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM followup.outbox WHERE routing_key = 'revisit_due'"
            " GROUP BY body->'data'->>'revisit_id'"
        )
        counts = [row[0] for row in cur.fetchall()]
    made_due = {}
    for instance in rig.services.instances("followup"):
        path = LOCAL / "logs" / f"{instance}.log"
        for line in path.read_text(errors="replace").splitlines() if path.exists() else ():
            if '"followup.scheduler"' in line:
                made_due[instance] = made_due.get(instance, 0) + json.loads(line).get("due", 0)
    result = {
        "revisits": revisits,
        "still_scheduled": left,
        "announced": len(counts),
        "announced_twice": sum(1 for n in counts if n > 1),
        "made_due_by_instance": made_due,
    }
    log(f"  revisits announced: {result}")
    return result


def error_samples(ops, per_kind=3):
    """A few of each kind of client error, with the stage that raised and what it said."""
    samples = {}
    for op in ops:
        if op.error and len(samples.setdefault(op.error, [])) < per_kind:
            samples[op.error].append(
                f"{op.kind}/{op.detail.get('failed_stage')}: {op.detail.get('error_text', '')}"
            )
    return samples


def work_by_instance(rig):
    """RPCs answered and events handled by each process (its /metrics), to show every
    replica took part. A process restarted by the fault counts only since its restart."""
    counts = {}
    for instance in rig.services.instances():
        try:
            text = requests.get(
                f"http://{rig.services.health_address(instance)}/metrics", timeout=3
            ).text
        except requests.RequestException:
            counts[instance] = None
            continue
        total = 0.0
        for line in text.splitlines():
            if line.startswith(("vetsvc_rpc_requests_total{", "vetsvc_events_handled_total{")):
                total += float(line.rsplit(" ", 1)[1])
        counts[instance] = int(total)
    return counts


def table(rows):
    out = Table(title="make chaos")
    for column in (
        "scenario",
        "sent",
        "acked",
        "errors",
        "lost",
        "dup",
        "unexpected",
        "dead letters",
        "caught up s",
        "quiet",
        "revisits due once",
    ):
        out.add_column(column, justify="left" if column in ("scenario", "errors") else "right")
    for row in rows:
        if "error" in row:
            out.add_row(row["scenario"], "-", "-", row["error"][:60], *["-"] * 7)
            continue
        errors = ", ".join(f"{k} {v}" for k, v in sorted(row["errors"].items())) or "0"
        out.add_row(
            row["scenario"],
            str(row["sent"]),
            str(row["acknowledged"]),
            errors,
            str(row["lost"]),
            str(row["duplicated"]),
            str(row["unexpected"]),
            str(sum(row["dead_letters"].values())),
            str(row["caught_up_seconds"]),
            "yes" if row["quiet"] else "NO",
            announced(row["announcements"]),
        )
    return out


def announced(a):
    """ "1234/1234 (f 620, f-2 614)": revisits announced once of all, by replica."""
    if "error" in a:
        return a["error"][:40]
    by = ", ".join(
        f"{k.replace('followup', 'f')} {v}" for k, v in a["made_due_by_instance"].items()
    )
    return f"{a['announced'] - a['announced_twice']}/{a['revisits']} ({by})"


def announcements_ok(a):
    return (
        "error" not in a
        and a["still_scheduled"] == 0
        and a["announced"] == a["revisits"]
        and a["announced_twice"] == 0
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios",
        default="all",
        help="all, ci (one of each kind) or names: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--json", default=str(LOCAL / "chaos.json"))
    args = parser.parse_args(argv)
    names = (
        list(SCENARIOS)
        if args.scenarios == "all"
        else list(CI)
        if args.scenarios == "ci"
        else args.scenarios.split(",")
    )
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    console = Console(stderr=True, width=160)
    log = console.print
    LOCAL.mkdir(parents=True, exist_ok=True)
    rig = Rig(args.replicas, log)
    rows = []
    try:
        for seed, name in enumerate(names):
            log(
                f"[bold]{name}[/bold] ({args.operations} operations, {args.replicas} replicas"
                " per service)"
            )
            try:
                rows.append(scenario(rig, name, args.operations, args.concurrency, seed, log))
            except Exception as exc:  # one scenario that could not run: the rest still do
                log(traceback.format_exc())
                rows.append({"scenario": name, "error": f"{type(exc).__name__}: {exc}"})
            Path(args.json).write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    finally:
        try:
            rig.down()
        except Exception as exc:
            log(f"services.sh down failed: {exc}")
    Console(width=160).print(table(rows))
    for row in rows:
        for problem in row.get("problems", [])[:10]:
            log(f"{row['scenario']}: {problem}")
        for kind, texts in row.get("error_samples", {}).items():
            for text in texts:
                log(f"{row['scenario']}: client error {kind}: {text}")
    log(f"written: {args.json}")
    if any("error" in row for row in rows):
        return 2
    failed = any(
        row["lost"]
        or row["duplicated"]
        or row["unexpected"]
        or not row["quiet"]
        or not announcements_ok(row["announcements"])
        for row in rows
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
