"""The fault suite's load and checker against the five services in-process, no fault: every
operation's effects exactly once, and the checker sees it when one is lost, duplicated or
only partly there. Also the checker's and the load's pure helpers (no servers)."""

import dataclasses
import random
import threading

import pytest
from nameko.exceptions import RemoteError, RpcTimeout
from stdnum.cn import uscc as uscc_number

from services.followup.service import FollowupService
from services.jobs.service import JobsService
from services.loans.service import LoansService
from services.registry.schemas import check_id_number
from services.registry.service import RegistryService
from services.training.service import TrainingService
from shared.errors import Conflict
from tests.chaos import load as load_module
from tests.chaos.checker import (
    Expectation,
    Report,
    busy_queues,
    check,
    dead_letters,
    judge,
    late_replies,
    wait_quiet,
)
from tests.chaos.load import KINDS, Client, Load, Op, Stopped, error_kind, plan

MANAGEMENT = "http://127.0.0.1:15672"
GUEST = ("guest", "guest")


# -- pure helpers ----------------------------------------------------------------------------
def test_a_plan_has_every_kind_and_the_number_asked_for():
    kinds = plan(40, random.Random(1))
    assert len(kinds) == 40 and set(kinds) == set(KINDS)
    assert plan(40, random.Random(1)) == kinds


def test_id_numbers_are_valid_and_never_shared_between_seeds():
    loads = [Load("amqp://x", "t", operations=1, seed=seed) for seed in (0, 1, 55)]
    numbers = [load._id_number() for load in loads for _ in range(450)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        check_id_number(number)
    usccs = [load._uscc() for load in loads for _ in range(50)]
    assert len(set(usccs)) == len(usccs)
    assert all(uscc_number.is_valid(u) for u in usccs)


def test_an_error_is_named_by_its_kind():
    assert error_kind(Conflict("taken")) == "Conflict"
    assert error_kind(RemoteError("OperationalError", "gone")) == "OperationalError"
    assert error_kind(RpcTimeout()) == "RpcTimeout"
    assert error_kind(ConnectionResetError()) == "ConnectionResetError"


def test_a_client_without_a_broker_gives_up_and_the_ops_it_never_sent_say_so(monkeypatch):
    monkeypatch.setattr(load_module, "RECONNECT_WAIT", 0.5)
    client = Client({"AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1/"}, "t", 1, threading.Event())
    with pytest.raises(Stopped):
        client.proxy()
    stop = threading.Event()
    stop.set()
    ops = Load("pyamqp://guest:guest@127.0.0.1:1/", "t", operations=3, concurrency=2).run(stop)
    assert [(op.ok, op.error) for op in ops] == [(None, "Stopped")] * 3


def test_a_load_whose_own_code_fails_raises_instead_of_returning_fewer_ops(monkeypatch):
    # (a run that had used up its ID numbers once ended with every client dead and looked
    # like a short, clean run)
    load = Load("pyamqp://guest:guest@127.0.0.1:1/", "t", operations=4, concurrency=2)

    def broken(client, kind, stop):
        raise RuntimeError("this run has used every ID number its seed owns")

    monkeypatch.setattr(load, "_one", broken)
    monkeypatch.setattr(
        load_module, "Client", lambda *args: type("C", (), {"drop": lambda self: None})()
    )
    with pytest.raises(RuntimeError, match=r"the load failed .*used every ID number"):
        load.run(threading.Event())


def test_queue_figures_leave_dead_letters_out_of_the_work_and_count_them_apart():
    rows = [
        {"name": "rpc-registry", "messages_ready": 0, "messages_unacknowledged": 2},
        {"name": "loans.dlq", "messages_ready": 3, "messages_unacknowledged": 0},
        {"name": "evt-x--jobs.y", "messages_ready": 0, "messages_unacknowledged": 0},
        {
            "name": "rpc.reply-standalone_rpc_proxy-5f0c",
            "messages_ready": 1,
            "messages_unacknowledged": 0,
        },
    ]
    assert busy_queues(rows) == {"rpc-registry": 2}
    assert dead_letters(rows) == {"loans.dlq": 3}
    assert late_replies(rows) == 1  # a reply its client stopped waiting for: not work


def test_a_raised_stage_may_be_all_there_or_absent_but_not_partly():
    def stage(*found):
        expectation = Expectation("hire")
        for n, value in enumerate(found):
            expectation.want(f"effect {n}", value)
        return expectation

    for found, unexpected in (((1, 1), 0), ((0, 0), 0), ((1, 0), 1)):
        report = Report()
        judge(report, "op", [stage(*found)], acknowledged=[], failed="hire")
        assert report.counts["unexpected"] == unexpected and not report.counts["lost"]
    report = Report()
    judge(report, "op", [stage(0, 0), stage(2, 1)], acknowledged=["hire"])
    assert (report.counts["lost"], report.counts["duplicated"]) == (2, 1)
    report = Report()
    judge(report, "op", [stage(0, 1)], acknowledged=[])  # never sent, yet there
    assert report.counts["unexpected"] == 1


# -- against the services ------------------------------------------------------------------
def _one(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def _stash(db, table, where):
    """Moves the first row of ``table`` matching ``where`` aside; → a function putting it back."""
    name = "stash_" + table.replace(".", "_")
    with db.cursor() as cur:
        cur.execute(f"SELECT ctid::text FROM {table} WHERE {where} LIMIT 1")
        found = cur.fetchone()
        assert found, f"no row of {table} where {where}"
        cur.execute(
            f"CREATE TEMP TABLE {name} AS SELECT * FROM {table} WHERE ctid = %s::tid", found
        )
        cur.execute(f"DELETE FROM {table} WHERE ctid = %s::tid", found)
        assert cur.rowcount == 1

    def restore():
        with db.cursor() as cur:
            cur.execute(f"INSERT INTO {table} SELECT * FROM {name}; DROP TABLE {name}")

    return restore


def test_a_load_leaves_each_effect_once_and_the_checker_sees_what_is_not(
    start, config, db, admin_token, database_url
):
    start(RegistryService, LoansService, JobsService, TrainingService, FollowupService)
    load = Load(config["AMQP_URI"], admin_token, operations=48, concurrency=4, seed=7)
    load.prepare()
    ops = load.run()
    assert load.sent() == 48
    assert wait_quiet(
        database_url, MANAGEMENT, GUEST, vhost=config["vhost"], timeout=60, quiet_for=1.0
    )

    def checked(operations=ops):
        return check(operations, database_url, MANAGEMENT, GUEST, config["vhost"])

    report = checked()
    assert report["problems"] == []
    assert (report["lost"], report["duplicated"], report["unexpected"]) == (0, 0, 0)
    assert report["sent"] == report["acknowledged"] == len(ops) == 48 + len(load.prepared_ops)
    assert report["errors"] == {} and report["outbox_backlog"] == 0
    assert set(report["by_kind"]) == set(KINDS)
    assert report["dead_letters"] and not any(report["dead_letters"].values())
    assert report["last_effect_at"] >= max(op.ended for op in ops)

    # An assessment an event asked for, gone: exactly one lost.
    restore = _stash(db, "loans.eligibility_assessments", "cause_event_id IS NOT NULL")
    report = checked()
    assert (report["lost"], report["duplicated"], report["unexpected"]) == (1, 0, 0)
    assert "assessment" in report["problems"][0]
    restore()

    # A second 'registered' line on a card, as a re-emitted event would add.
    line = _one(
        db,
        "INSERT INTO registry.timeline (event_id, veteran_id, enterprise_id, at,"
        " source, type, summary) SELECT gen_random_uuid(), veteran_id, enterprise_id,"
        " at, source, type, summary FROM registry.timeline"
        " WHERE type = 'veteran_registered' LIMIT 1 RETURNING id",
    )[0]
    report = checked()
    assert report["duplicated"] == 1 and report["lost"] == report["unexpected"] == 0
    assert "timeline 'veteran_registered'" in report["problems"][0]
    _one(db, "DELETE FROM registry.timeline WHERE id = %s RETURNING id", line)

    # One revisit of a hire's plan, gone.
    restore = _stash(db, "followup.revisits", "cause_type = 'veteran_hired'")
    report = checked()
    assert (report["lost"], report["duplicated"], report["unexpected"]) == (1, 0, 0)
    assert "employment revisit plan" in report["problems"][0]
    restore()

    # A hire that raised at its last stage yet left only part of it.
    hire = next(op for op in ops if op.kind == "hire")
    raised = dataclasses.replace(
        hire,
        ok=False,
        error="RpcTimeout",
        detail={**hire.detail, "stages": ["apply", "offer"], "failed_stage": "hire"},
    )
    restore = _stash(db, "jobs.hires", f"application_id = '{hire.detail['application_id']}'")
    report = checked([raised if op is hire else op for op in ops])
    assert (report["lost"], report["duplicated"], report["unexpected"]) == (0, 0, 1)
    assert "raised at hire" in report["problems"][0]
    assert report["errors"] == {"RpcTimeout": 1}
    restore()

    # A registration that raised and left nothing is fine; so is all of one.
    nothing = Op(
        "register",
        load._veteran("job")["id_number"],
        ok=False,
        error="RpcTimeout",
        detail={"stages": [], "failed_stage": "register"},
    )
    first = next(op for op in ops if op.kind == "register")
    everything = dataclasses.replace(
        first, ok=False, error="ConnectionError", detail={"stages": [], "failed_stage": "register"}
    )
    report = checked([everything if op is first else op for op in ops] + [nothing])
    assert report["problems"] == [] and report["sent"] == len(ops) + 1
