"""The card the national collection keeps (issue 19) against the real RabbitMQ and
PostgreSQL: every new field stored and read back, the card number unique and masked
(revealed only by an audited RPC), verification audited, ``trained`` set once by training's
events, and migration 008 on a database holding old cards."""

import datetime as dt
import io
import logging
import shutil
import uuid
from pathlib import Path

import psycopg2
import psycopg2.extras
import pytest
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from services.registry import domain
from services.registry.card_store import SELECT, veteran_from
from services.registry.service import RegistryService
from shared import migrations
from shared.errors import Conflict, InvalidInput
from shared.logging import make_handler
from tests.factories import make_veteran
from tests.helpers import bureau_now, envelope, publish, scalar

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "registry" / "migrations"
CARD_NUMBER = "YD6523010007"
FULL = {
    "rank_category": "士官",  # the old label: stored as nco
    "discharge_type": "self_employment",
    "political_status": "cpc_member",
    "preferential_card_number": CARD_NUMBER,
    "honours": [
        {"kind": "third_class_merit", "year": 2012},
        {"kind": "commendation", "year": 2014},
    ],
    "health": "disabled",
    "disability_grade": 9,
    "employment_difficulty": {
        "recognised": True,
        "reasons": ["long_term_unemployed", "other"],
        "help": ["job_referral"],
        "outcome": "still_seeking",
    },
    "discharged_on": "2016-12-01",
    "reported_on": "2017-01-15",  # 45 days: late
    "hukou_place": "652301100001",
    "placement_place": "652301100",
}


@pytest.fixture
def registry(start):
    return get_container(start(RegistryService), RegistryService)


def rows(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_a_card_with_every_new_field_is_stored_and_read_back(registry, rpc, db):
    reply = rpc.registry.register_veteran(make_veteran(**FULL))
    vid = reply["id"]
    card = rpc.registry.get_card(vid)["veteran"]
    assert card["rank_category"] == "nco"
    assert card["preferential_card_number"] == "YD********07"
    assert card["honours"] == FULL["honours"]
    assert (card["health"], card["disability_grade"]) == ("disabled", 9)
    assert card["employment_difficulty"] == FULL["employment_difficulty"]
    assert (card["reported_on"], card["hukou_place"], card["placement_place"]) == (
        "2017-01-15",
        "652301100001",
        "652301100",
    )
    assert card["collected_by"] == "op-test"  # the registering operator when not given
    assert (card["verified_by"], card["verified_at"], card["trained"]) == (None, None, False)
    assert domain.FLAG_LATE_REPORT in card["flags"]
    # In the database in full; in the event only codes and flags.
    assert scalar(
        db, "SELECT preferential_card_number FROM registry.veterans WHERE id = %s", vid
    ) == (CARD_NUMBER)
    body = scalar(db, "SELECT body FROM registry.outbox WHERE routing_key = 'veteran_registered'")
    assert body["data"]["honours"] == ["third_class_merit", "commendation"]
    assert body["data"]["late_report"] is True and body["data"]["difficulty_recognised"] is True
    assert body["data"]["disability_grade"] == 9
    for secret in (CARD_NUMBER, "652301100001", "2012"):
        assert secret not in str(body)


def test_collected_by_may_be_given_and_an_update_of_the_card_number_is_history_masked(
    registry, rpc, db
):
    vid = rpc.registry.register_veteran(make_veteran(collected_by="昌吉市某村站"))["id"]
    rpc.registry.update_veteran(vid, {"preferential_card_number": "AB12345678"})
    card = rpc.registry.get_card(vid)
    assert card["veteran"]["collected_by"] == "昌吉市某村站"
    [change] = [h for h in card["history"] if h["field"] == "preferential_card_number"]
    assert change["new"] == "AB******78"
    assert "AB12345678" not in str(rows(db, "SELECT * FROM registry.veteran_history"))


def test_a_taken_card_number_is_a_conflict_naming_no_card_or_county(registry, rpc, db):
    first = rpc.registry.register_veteran(make_veteran(preferential_card_number=CARD_NUMBER))
    with pytest.raises(Conflict) as caught:
        rpc.registry.register_veteran(make_veteran(preferential_card_number=CARD_NUMBER))
    text = str(caught.value)
    assert first["id"] not in text and "652301" not in text and CARD_NUMBER not in text
    other = rpc.registry.register_veteran(make_veteran())
    with pytest.raises(Conflict):
        rpc.registry.update_veteran(other["id"], {"preferential_card_number": CARD_NUMBER})
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 2


def test_a_batch_refuses_a_row_whose_card_number_is_taken_and_keeps_the_others(registry, rpc, db):
    rpc.registry.register_veteran(make_veteran(preferential_card_number=CARD_NUMBER))
    batch = [
        make_veteran(preferential_card_number=CARD_NUMBER),
        make_veteran(preferential_card_number="ZZ1"),
        make_veteran(preferential_card_number="ZZ1"),
        make_veteran(rank_category="士官"),
    ]
    results = rpc.registry.register_veterans(batch)["results"]
    assert [r["status"] for r in results] == ["invalid", "created", "invalid", "created"]
    assert set(results[0]["errors"]) == {"preferential_card_number"}
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 3
    assert scalar(
        db, "SELECT rank_category FROM registry.veterans WHERE id = %s", results[3]["id"]
    ) == ("nco")


def test_the_rules_across_fields_are_checked_with_what_the_card_holds(registry, rpc):
    vid = rpc.registry.register_veteran(make_veteran(rank_category="conscript"))["id"]
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.update_veteran(vid, {"discharge_type": "transfer"})
    assert "discharge_type" in caught.value.args[1]
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.update_veteran(vid, {"branch": "aerospace_force"})  # discharged 2016
    assert "branch" in caught.value.args[1]


def test_the_card_number_is_revealed_only_with_a_reason_and_audited(registry, rpc, db):
    vid = rpc.registry.register_veteran(make_veteran(preferential_card_number=CARD_NUMBER))["id"]
    revealed = rpc.registry.reveal_preferential_card(vid, "补办优待证核对")
    assert revealed == {"veteran_id": vid, "preferential_card_number": CARD_NUMBER}
    assert rows(
        db,
        "SELECT operator_id, action, entity_id, reason FROM registry.audit_log"
        " WHERE action = 'reveal_preferential_card'",
    ) == [("op-test", "reveal_preferential_card", vid, "补办优待证核对")]
    with pytest.raises(InvalidInput):
        rpc.registry.reveal_preferential_card(vid, "")


def test_verifying_a_card_records_the_operator_and_the_time_and_is_audited(registry, rpc, db):
    vid = rpc.registry.register_veteran(make_veteran())["id"]
    before = bureau_now()
    reply = rpc.registry.verify_veteran(vid)
    assert reply["verified_by"] == "op-test"
    assert dt.datetime.fromisoformat(reply["verified_at"]) >= before - dt.timedelta(seconds=1)
    assert rows(
        db, "SELECT operator_id, entity_id FROM registry.audit_log WHERE action = 'verify_veteran'"
    ) == [("op-test", vid)]
    assert rows(db, "SELECT verified_by FROM registry.veterans") == [("op-test",)]


def test_training_sets_trained_exactly_once(registry, rpc, config, db):
    vid = rpc.registry.register_veteran(make_veteran())["id"]
    completed = envelope(
        "training",
        "training_completed",
        enrollment_id=str(uuid.uuid4()),
        veteran_id=vid,
        course_id=str(uuid.uuid4()),
        passed=False,
    )
    certificate = envelope(
        "training",
        "certificate_issued",
        veteran_id=vid,
        certificate_name="焊工证",
        cert_no="HG-1",
        skills_granted=["welder"],
        issued_on="2026-11-30",
    )
    for event, handler in (
        (completed, "on_training_completed"),
        (completed, "on_training_completed"),  # redelivered: the inbox drops it
        (certificate, "on_certificate_issued"),
    ):
        with entrypoint_waiter(registry, handler, timeout=15):
            publish(config, event, source="training")
    assert rpc.registry.get_veteran(vid)["trained"] is True
    assert rows(db, "SELECT count(*) FROM registry.veteran_history WHERE field = 'trained'") == [
        (1,)
    ]
    updates = [
        body["data"]["changed"]
        for (body,) in rows(
            db, "SELECT body FROM registry.outbox WHERE routing_key = 'veteran_updated' ORDER BY id"
        )
    ]
    # Only the certificate changed facts others keep: trained sends no event of its own.
    assert updates == [
        {"certificates": ["焊工证"], "skills": [*make_veteran()["skills"], "welder"]}
    ]


def test_migration_008_keeps_old_cards_valid(database_url):
    schema = f"registry_old_{uuid.uuid4().hex[:8]}"
    old = Path(f"/tmp/{schema}")
    old.mkdir()
    try:
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name < "008":
                shutil.copy(path, old / path.name)
        migrations.apply(database_url, schema, old)
        conn = psycopg2.connect(database_url, options=f"-c search_path={schema},public")
        conn.autocommit = True
        vid = str(uuid.uuid4())
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO veterans (id, id_number, name, gender, birth_date, county_code,"
                " discharged_on, discharge_type, willingness, employment_status, rank_category,"
                " registered_at, updated_at) VALUES (%s, '652301199003071234', '张伟', 'male',"
                " '1990-03-07', '652301', '2016-12-01', 'self_employment', 'job',"
                " 'further_education', 'nco', now(), now())",
                (vid,),
            )
        done = migrations.apply(database_url, schema, MIGRATIONS)
        assert next(v for v in done if not v.startswith("shared:")).startswith("008")
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(f"{SELECT} WHERE id = %s", (vid,))
            veteran = veteran_from(cur.fetchone())
        conn.close()
        assert (veteran.honours, veteran.trained, veteran.employment_difficulty) == (
            [],
            False,
            None,
        )
        reply = domain.present(veteran)
        assert reply["preferential_card_number"] is None
        assert reply["employment_status"] == "further_education"  # kept, for a clerk to fix
        assert domain.facts(veteran)["late_report"] is False
    finally:
        shutil.rmtree(old)
        admin = psycopg2.connect(database_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def test_no_log_line_holds_a_card_number(registry, rpc):
    buffer = io.StringIO()
    handler = make_handler(buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        vid = rpc.registry.register_veteran(make_veteran(preferential_card_number=CARD_NUMBER))[
            "id"
        ]
        with pytest.raises(Conflict):  # the database's message holds the number
            rpc.registry.register_veteran(make_veteran(preferential_card_number=CARD_NUMBER))
        rpc.registry.update_veteran(vid, {"preferential_card_number": "QQ4455667788"})
        rpc.registry.reveal_preferential_card(vid, "核对优待证")
        rpc.registry.get_card(vid)
    finally:
        root.removeHandler(handler)
    logs = buffer.getvalue()
    assert "veteran.preferential_card_revealed" in logs  # it logged
    assert "6523010007" not in logs and "4455667788" not in logs
