"""Benchmark case ``import``: ``vetctl import veterans`` of a 100,000-row xlsx (Chinese
headers and labels, as county offices have them), run as the operator runs it (its own
process), timed until every card is stored and every ``veteran_registered`` published
(target at least 1,500 rows/s), with vetctl's peak memory (target under 200 MB). loans'
queue is declared (the events are routed and kept) but no consumer runs beside it on the
two cores. Baseline in the same run: reading and converting the same file alone.

    python bench/bench.py --case import"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl

from bench.bulk import wait_published
from bench.common import ROOT, Processes, count, environment, wait_health
from services.loans.service import LoansService
from shared.messaging import declare_topology
from tests.factories import COUNTY_SHEET_HEADERS, make_veteran, unique_id_numbers
from vetctl import sheets

ROWS = 100_000
TARGET_PER_S, TARGET_MB = 1_500, 200
HEADERS = COUNTY_SHEET_HEADERS


def write_file(path, n):
    surnames, given = (
        "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗",
        "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩",
    )
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for i, number in enumerate(unique_id_numbers(n)):
        v = make_veteran(id_number=number)
        sheet.append(
            [
                number,
                surnames[i % 20] + given[(i // 20) % 20] + given[i % 7],
                f"139{i:08d}",
                v["county_code"],
                v["discharged_on"],
                "自主就业",
                "B2驾驶、保安",
                "就业",
                "未就业",
                "岗位推荐",
                "驾驶员",
                4000,
            ]
        )
    book.save(path)


def parse_only(path):
    """Rows per second for reading and converting the file alone."""
    began = time.perf_counter()
    headers, numbered, _ = sheets.rows(path)
    fields, _ = sheets.columns_for(headers, sheets.VETERAN_HEADERS)
    cells = sheets.Cells(fields)
    n = sum(1 for _, row in numbered if cells.payload(row))
    return n / (time.perf_counter() - began)


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(args):
    print(
        f"bench: vetctl import veterans, {ROWS:,} rows from xlsx, timed until every card is "
        f"stored and every veteran_registered published"
    )
    dsn, uri, env, token, logdir = environment()
    path = logdir / "import-100k.xlsx"
    began = time.perf_counter()
    write_file(path, ROWS)
    print(
        f"  wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - began:.1f} s"
    )
    baseline = parse_only(path)
    procs = Processes(env, logdir)
    try:
        # loans' queue exists (events are routed and kept) but loans is not consuming: the
        # figure is vetctl, registry and the broker, as the bulk case's first run.
        declare_topology(LoansService, {"AMQP_URI": uri})
        procs.start(
            "registry",
            str(ROOT / "services/registry/config.yaml"),
            "services.registry.service:RegistryService",
        )
        wait_health({"AMQP_URI": uri}, ["registry"], procs)
        vetctl = [
            str(Path(sys.executable).parent / "vetctl"),
            "--json",
            "import",
            "veterans",
            str(path),
            "--report",
            str(logdir / "import-100k.rejected.csv"),
        ]
        began = time.perf_counter()
        child = subprocess.Popen(
            vetctl,
            env={**env, "VETCTL_TOKEN": token},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, peak_rss_mb(child.pid) or 0.0)
            time.sleep(0.2)
        out, err = child.communicate()
        if child.returncode:
            raise SystemExit(f"bench: vetctl failed: {err.decode()[-500:]}")
        imported = time.perf_counter()
        done = wait_published(dsn, ROWS, began)
        unpublished = count(dsn, "SELECT count(*) FROM registry.outbox WHERE published_at IS NULL")
    finally:
        procs.stop()
    result = json.loads(out)
    print(
        f"  vetctl import end to end    : {ROWS / (done - began):8.1f} rows/s   "
        f"(target >= {TARGET_PER_S:,}; {done - began:.1f} s, "
        f"of which vetctl {imported - began:.1f} s)"
    )
    print(f"  baseline: reading the file alone: {baseline:8.1f} rows/s")
    print(f"  vetctl peak memory          : {peak:8.1f} MB   (target < {TARGET_MB})")
    print(
        f"  rows: {result['created']} created, {result['duplicate']} duplicate, "
        f"{result['rejected']} rejected; outbox rows left unpublished: {unpublished}"
    )
    os.remove(path)
    return {"per_s": ROWS / (done - began), "baseline_per_s": baseline, "peak_mb": peak}
