"""vetctl's look-ups, report, RPC escape hatch, bus and dead letters against the running
services, with their output, exit codes and failure paths."""

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import timedelta

import openpyxl
import pytest
from click.testing import CliRunner
from kombu import Connection, Exchange, Producer

from tests.factories import make_veteran
from tests.helpers import bureau_now, bureau_today, queue_depth, scalar, wait_for
from vetctl import report as reports
from vetctl.main import cli


def test_card_by_id_number_or_id_and_an_unknown_one(system, vetctl, rpc):
    data = make_veteran(skills=["driver_b2"])
    veteran = rpc.registry.register_veteran(data)
    out = vetctl("card", data["id_number"])
    assert veteran["id"] in out and data["name"] in out and "driver_b2" in out
    assert data["id_number"] not in out  # masked, as in every reply
    assert "veteran_registered" in out  # the timeline
    as_json = json.loads(vetctl("--json", "card", veteran["id"]))
    assert as_json["veteran"]["id"] == veteran["id"]
    missing = vetctl("card", str(uuid.uuid4()), expect=1)
    assert "NotFound" in missing and "Traceback" not in missing
    bad = vetctl("card", "not-an-id", expect=1)
    assert "veteran_id" in bad


def test_card_shows_the_national_collections_fields_with_the_card_number_masked(
    system, vetctl, rpc
):
    data = make_veteran(
        preferential_card_number="YD6523019911",
        honours=[{"kind": "third_class_merit", "year": 2012}],
        health="disabled",
        disability_grade=7,
        employment_difficulty={"recognised": True, "reasons": ["low_skills"], "help": []},
        reported_on="2017-01-20",
        hukou_place="652301100001",
    )
    veteran = rpc.registry.register_veteran(data)
    rpc.registry.verify_veteran(veteran["id"])
    out = vetctl("card", veteran["id"])
    assert "YD********11" in out and "YD6523019911" not in out
    assert "third_class_merit 2012" in out and "disabled (grade 7)" in out
    assert "recognised: low_skills" in out and "late_report" in out
    assert "op-test at" in out  # verified by the caller


def test_booklet_match_and_call(system, vetctl, rpc, db):
    founder = rpc.registry.register_veteran(make_veteran(willingness="business"))
    enterprise = rpc.registry.register_enterprise(
        {
            "kind": "individual_business",
            "name": "老兵面馆",
            "county_code": founder["county_code"],
            "industry": "catering",
            "founded_on": "2025-01-01",
            "stage": "operating",
            "founder_ids": [founder["id"]],
        }
    )
    out = vetctl("booklet", enterprise["id"])
    assert "老兵面馆" in out and "enterprise_registered" in out

    seeker = rpc.registry.register_veteran(make_veteran(skills=["driver_b2"], willingness="job"))
    employer = rpc.jobs.register_employer(
        {
            "name": "顺达物流",
            "uscc": "91652301MA78K2Q5X3",
            "county_code": seeker["county_code"],
            "industry": "logistics",
        }
    )
    rpc.jobs.post_job(
        {
            "employer_id": employer["id"],
            "title": "货车司机",
            "occupation": "driver",
            "skills_required": ["driver_b2"],
            "county_code": seeker["county_code"],
            "salary_min": 5000,
            "salary_max": 7000,
            "openings": 1,
            "closes_on": (bureau_today() + timedelta(days=9)).isoformat(),
        }
    )
    wait_for(
        lambda: scalar(
            db, "SELECT count(*) FROM jobs.veterans WHERE veteran_id = %s", seeker["id"]
        ),
        message="jobs knows the veteran",
    )
    out = vetctl("match", seeker["id"])
    assert "货车司机" in out and "driver_b2" in out

    called = json.loads(vetctl("call", "loans", "list_products"))
    assert called[0]["code"] == "yongjun_chuangye"
    invalid = vetctl("call", "registry", "register_veteran", json.dumps({"name": "张伟"}), expect=1)
    assert "invalid input" in invalid and "id_number" in invalid and "county_code" in invalid
    assert "ARGUMENTS is not JSON" in vetctl("call", "loans", "list_products", "{nope", expect=2)


def test_report_combines_every_services_stats(system, vetctl, rpc, tmp_path):
    for county in ("652301", "652301", "652302"):
        rpc.registry.register_veteran(
            make_veteran(
                county_code=county,
                willingness="job",
                employment_status="employed",
                employer="某公司",
            )
        )
    rpc.training.register_base(
        {"name": "学校", "kind": "training", "county_code": "652301", "capacity": 10}
    )
    table = vetctl("report")
    assert "登记退役军人" in table and "全州" in table and "就业创业率" in table
    document = json.loads(vetctl("report", "--format", "json", "--lang", "en"))
    assert set(document) == {"generated_at", "areas", "area_names", "by_month", "form"}
    assert document["area_names"]["652301"] == "昌吉市"
    # Last year's annual form rides along: these cards were discharged in 2016.
    assert document["form"]["year"] == bureau_now().year - 1
    assert document["form"]["total"]["A"] == 0 and document["form"]["ok"]
    english = document["areas"]
    assert english["652301"]["veterans"] == 2 and english["prefecture"]["veterans"] == 3
    assert english["652301"]["employment_rate"] == "100.0%"
    assert english["652301"]["training_bases"] == 1 and english["652302"]["training_bases"] == 0
    # The seed's summary rows: every service answered, so each is a count (0), not empty.
    for key in (
        "postings",
        "openings",
        "fairs",
        "fairs_online_live",
        "fairs_offline",
        "fairs_hybrid",
        "consultations",
        "intentions",
        "dedicated_referrals",
        "auxiliary_police_placements",
        "village_cadre_placements",
        "incubation_bases",
        "mentors",
    ):
        assert english["prefecture"][key] == 0, key
    assert "发布用工信息（个岗位）" in table and "咨询服务人次" in table and "“两委”" in table
    # The monthly series the charts draw, from the same stats.
    monthly = reports.monthly(reports.collect(Direct(rpc), ["652301", "652302"]))
    this_month = bureau_today().strftime("%Y-%m")
    assert list(monthly) == ["652301", "652302", "prefecture"]
    assert len(monthly["prefecture"]) == 12 and list(monthly["prefecture"])[-1] == this_month
    assert monthly["652301"][this_month] == {
        "employment_rate": 1.0,
        "loans_disbursed": 0,
        "loans_amount": "0.00",
        "placed_after_training": 0,
        "retention_90": None,
        "satisfaction": None,
    }
    assert {area: document["by_month"][area] for area in monthly} == monthly  # --json: the same
    out = tmp_path / "report.xlsx"
    vetctl("report", "--county", "652301", "--format", "xlsx", "--lang", "en", "-o", out)
    sheet = openpyxl.load_workbook(out).worksheets[0]
    cells = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells["registered veterans"] == 2
    assert "needs --output" in vetctl("report", "--format", "csv", expect=2)


class Direct:
    """vetctl's client interface over the test's RPC proxy (``reports.collect`` needs
    only ``try_call``)."""

    def __init__(self, rpc):
        self.rpc = rpc

    def try_call(self, service, method, *args):
        return getattr(getattr(self.rpc, service), method)(*args)


def test_events_tail_prints_events_without_personal_identifiers(
    system, vetctl, rpc, config, rabbit_manager
):
    data = make_veteran(name="欧阳娜娜", phone="13912345678")
    results = {}

    def tail():
        result = CliRunner().invoke(
            cli,
            [
                "events",
                "tail",
                "--source",
                "registry",
                "--type",
                "veteran_registered",
                "--count",
                "1",
                "--idle",
                "20",
            ],
        )
        results["out"] = result.output + repr(result.exception)

    thread = threading.Thread(target=tail)
    thread.start()

    def bound():  # vetctl's temporary queue takes registry's events (before it consumes)
        return [
            b
            for q in rabbit_manager.get_queues(config["vhost"])
            if q["name"].startswith("vetctl.tail.")
            for b in rabbit_manager.get_queue_bindings(config["vhost"], q["name"])
            if b["source"] == "registry.events"
        ]

    wait_for(bound, message="vetctl's temporary queue bound to registry.events")
    rpc.registry.register_veteran(data)
    thread.join(30)
    out = results["out"]
    assert "registry" in out and "veteran_registered" in out
    assert f"registered in county {data['county_code']}" in out
    for secret in (data["name"], data["phone"], data["id_number"]):
        assert secret not in out


def poison(config, service="loans"):
    """An event loans cannot take (no such veteran fields): it ends in loans.dlq."""
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "veteran_registered",
        "version": 1,
        "occurred_at": bureau_now().isoformat(),
        "source": "registry",
        "correlation_id": uuid.uuid4().hex,
        "data": {"veteran_id": str(uuid.uuid4())},
    }
    with Connection(config["AMQP_URI"]) as conn:
        exchange = Exchange("registry.events", type="topic", durable=True)
        Producer(conn.default_channel, exchange=exchange).publish(
            json.dumps(event),
            routing_key="veteran_registered",
            declare=[exchange],
            content_type="application/json",
            delivery_mode=2,
            message_id=event["event_id"],
        )
    return event


def test_dead_letters_are_listed_shown_replayed_and_dropped(system, vetctl, config):
    first, second = poison(config), poison(config)
    wait_for(lambda: queue_depth(config, "loans.dlq") == 2, timeout=30, message="two dead letters")
    listed = json.loads(vetctl("--json", "dlq", "list", "--service", "loans"))
    assert {d["id"] for d in listed} == {first["event_id"], second["event_id"]}
    assert {d["queue"] for d in listed} == {"evt-many--loans.on_registry_events"}
    assert queue_depth(config, "loans.dlq") == 2  # listing takes nothing away
    # The same poison reached jobs' and training's dead letters too: one id, three queues.
    assert {d["service"] for d in json.loads(vetctl("--json", "dlq", "list"))} >= {
        "loans",
        "jobs",
        "training",
    }
    shown = json.loads(vetctl("dlq", "show", first["event_id"], "--service", "loans"))
    assert shown["envelope"]["event_id"] == first["event_id"]
    assert shown["reason"] == "delivery_limit" and shown["service"] == "loans"
    assert "dropped" in vetctl("dlq", "drop", second["event_id"], "--service", "loans")
    assert queue_depth(config, "loans.dlq") == 1
    # Replayed, it fails again (still poison) and comes back to the dead letters.
    assert "1 dead letter(s) replayed" in vetctl(
        "dlq", "replay", first["event_id"], "--service", "loans"
    )
    wait_for(lambda: queue_depth(config, "loans.dlq") == 1, timeout=30, message="back again")
    assert "no dead letter" in vetctl("dlq", "show", str(uuid.uuid4()), expect=1)
    assert "name a message id, or --all" in vetctl("dlq", "replay", expect=2)


def test_status_shows_services_queues_and_outboxes(system, vetctl):
    # The management API refreshes its figures every few seconds.
    status = wait_for(
        lambda: (
            lambda s: (
                s
                if s["loans"]["queues"]
                .get("evt-many--loans.on_registry_events", {})
                .get("consumers")
                == 1
                else None
            )
        )(json.loads(vetctl("--json", "status"))),
        timeout=20,
        interval=1,
        message="consumers",
    )
    assert status["registry"]["status"] == "ok" and status["loans"]["status"] == "ok"
    assert status["registry"]["outbox_backlog"] == 0
    assert status["jobs"]["queues"]["rpc-jobs"]["consumers"] == 1
    assert "services" in vetctl("status")


def test_without_a_broker_every_command_says_so_in_one_line(vetctl, monkeypatch):
    monkeypatch.setenv("AMQP_URI", "pyamqp://guest:guest@127.0.0.1:1//")
    for args in (
        ["card", str(uuid.uuid4())],
        ["report"],
        ["dlq", "list"],
        ["events", "tail", "--count", "1"],
    ):
        out = vetctl(*args, expect=1)
        assert "RabbitMQ is not reachable at pyamqp://guest@127.0.0.1:1//" in out, args
        assert "Traceback" not in out


def test_every_command_has_help_with_an_example(vetctl):
    for args in (
        ["card"],
        ["booklet"],
        ["worklist"],
        ["match"],
        ["report"],
        ["call"],
        ["status"],
        ["demo"],
        ["import", "veterans"],
        ["import", "enterprises"],
        ["export", "veterans"],
        ["events", "tail"],
        ["dlq", "list"],
        ["dlq", "show"],
        ["dlq", "replay"],
        ["dlq", "drop"],
        ["token", "issue"],
        ["check"],
        ["migrate"],
        ["health"],
        ["loans", "relief"],
    ):
        out = vetctl(*args, "--help")
        assert "Example" in out or "example" in out, args


def test_demo_data_gives_every_service_something_to_report(system, vetctl):
    summary = json.loads(vetctl("--json", "demo", "--veterans", "60"))
    assert summary["veterans"] == 60 and summary["certified"] >= 1
    assert summary["tax_relief_records"] >= 1  # recorded against computed entitlements
    assert summary["loans"] >= 1 and summary["referred"] >= 1  # loans by both workflows
    document = json.loads(vetctl("report", "--format", "json", "--lang", "en"))
    figures = document["areas"]["prefecture"]
    assert figures["veterans"] == 60
    for key in (
        "postings",
        "fairs",
        "trained",
        "certified",
        "training_bases",
        "mentors",
        "intentions",
    ):
        assert figures[key], key
    # Last year's cohort is there for the annual form, and it adds up.
    form = document["form"]
    assert form["total"]["A"] >= 10 and form["ok"], form["checks"]
    assert form["total"]["D"] and form["total"]["L"] and figures["cohort_employment_rate"]


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Urumqi"])
def test_demo_succeeds_from_an_operator_machine_in_another_time_zone(
    system, config, admin_token, zone
):
    """vetctl as its own process, on a machine whose calendar is not Beijing's (Los
    Angeles: another date 16 hours a day; Urumqi: two hours behind at midnight)."""
    env = {**os.environ, "TZ": zone, "AMQP_URI": config["AMQP_URI"], "VETCTL_TOKEN": admin_token}
    env.pop("BUREAU_TIMEZONE", None)
    done = subprocess.run(
        [sys.executable, "-m", "vetctl.main", "--json", "demo", "--veterans", "20"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["loans"] >= 1  # disbursed "today": the services' day


def test_worklist_shows_revisits_due_in_a_county(system, vetctl, config):
    from tests.helpers import publish
    from tests.integration.followup.conftest import hired

    vid = str(uuid.uuid4())
    started = (bureau_today() - timedelta(days=10)).isoformat()  # the 7-day revisit is due
    publish(config, hired(vid, started_on=started), source="jobs")
    listed = wait_for(
        lambda: json.loads(vetctl("--json", "worklist", "--county", "652301")),
        message="a revisit in the worklist",
    )
    assert [(r["veteran_id"], r["kind"]) for r in listed] == [(vid, "employment")]
    assert vid in vetctl("worklist", "--county", "652301")
    assert "county_code" in vetctl("worklist", "--county", "999999", expect=1)
