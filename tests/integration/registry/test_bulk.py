"""register_veterans(batch) against the real RabbitMQ and PostgreSQL: a result per row in
input order, the good rows written exactly as single registrations write them, the bad
ones nowhere, and nothing at all when the batch fails."""

import itertools

import eventlet
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from services.registry.service import RegistryService
from services.registry.store import RegistryStore
from shared.errors import InvalidInput
from tests.conftest import token
from tests.factories import id_number, make_veteran, unique_id_numbers
from tests.helpers import scalar, wait_for

NAMES = itertools.cycle(f"{s}{g}" for s in "王李刘陈杨赵黄周吴徐" for g in "伟强磊军勇杰涛明超刚")
PHONES = (f"137{i:08d}" for i in itertools.count(1))


def people(count, county="652301", **overrides):
    """Valid registrations with distinct ID numbers, names and phones."""
    return [
        make_veteran(
            id_number=number, name=next(NAMES), phone=next(PHONES), county_code=county, **overrides
        )
        for number in unique_id_numbers(count, county=county)
    ]


@pytest.fixture
def registry(start):
    return start(RegistryService)


def rows(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def written(db, ids):
    """What the batch left in each table for these veteran ids."""
    ids = list(ids)
    return {
        "veterans": scalar(
            db, "SELECT count(*) FROM registry.veterans WHERE id::text = ANY(%s)", ids
        ),
        "audit": scalar(
            db,
            "SELECT count(*) FROM registry.audit_log"
            " WHERE action = 'register_veteran' AND entity = 'veteran'"
            " AND entity_id = ANY(%s)",
            ids,
        ),
        "events": scalar(
            db,
            "SELECT count(*) FROM registry.outbox"
            " WHERE routing_key = 'veteran_registered'"
            " AND body->'data'->>'veteran_id' = ANY(%s)",
            ids,
        ),
        "timeline": scalar(
            db,
            "SELECT count(*) FROM registry.timeline WHERE type ="
            " 'veteran_registered' AND veteran_id::text = ANY(%s)",
            ids,
        ),
    }


def totals(db):
    return {
        table: scalar(db, f"SELECT count(*) FROM registry.{table}")
        for table in ("veterans", "audit_log", "outbox", "timeline")
    }


def test_a_mixed_batch_gives_a_result_per_row_in_input_order(registry, rpc, db):
    a, b, c, d, held = people(5)
    existing = rpc.registry.register_veteran(held)
    before = totals(db)
    batch = [
        a,  # 0 created
        {**b, "phone": "12345", "skills": ["juggling"]},  # 1 invalid, two fields
        c,  # 2 created
        {**a, "name": "李强", "phone": "13700009999"},  # 3 repeats row 0
        {**held, "name": "赵刚"},  # 4 already registered
        {k: v for k, v in d.items() if k != "name"},  # 5 invalid: no name
        "not a registration",  # 6 invalid: not a dict
        {**b, "id_number": b["id_number"].lower()},  # 7 created: row 1 was bad
        {**d, "county_code": "110101"},  # 8 invalid: not our county
    ]

    results = rpc.registry.register_veterans(batch)["results"]

    assert [r["row"] for r in results] == list(range(len(batch)))
    assert [r["status"] for r in results] == [
        "created",
        "invalid",
        "created",
        "conflict",
        "conflict",
        "invalid",
        "invalid",
        "created",
        "invalid",
    ]
    assert set(results[1]["errors"]) == {"phone", "skills.0"}
    assert list(results[5]["errors"]) == ["name"]
    assert list(results[6]["errors"]) == ["_schema"]
    assert list(results[8]["errors"]) == ["county_code"]
    assert all(r["id"] is None for r in results if r["status"] == "invalid")
    assert results[3]["id"] == results[0]["id"]
    assert results[4]["id"] == existing["id"]
    created = [r["id"] for r in results if r["status"] == "created"]
    assert len(set(created)) == 3
    assert all(
        r["errors"] == {} and "possible_duplicate" not in r["flags"]
        for r in results
        if r["status"] == "created"
    )

    assert written(db, created) == {"veterans": 3, "audit": 3, "events": 3, "timeline": 3}
    after = totals(db)
    assert {t: after[t] - before[t] for t in after} == {
        "veterans": 3,
        "audit_log": 3,
        "outbox": 3,
        "timeline": 3,
    }
    stored = dict(
        rows(
            db,
            "SELECT id::text, id_number FROM registry.veterans WHERE id::text = ANY(%s)",
            created,
        )
    )
    assert stored[results[7]["id"]] == b["id_number"].upper()
    assert stored[results[0]["id"]] == a["id_number"]
    assert {
        by
        for (by,) in rows(
            db, "SELECT created_by FROM registry.veterans WHERE id::text = ANY(%s)", created
        )
    } == {"op-test"}
    # Each card is what register_veteran would have stored.
    card = rpc.registry.get_veteran(results[2]["id"])
    assert card["name"] == c["name"] and card["skills"] == c["skills"]
    assert card["id_number"] == c["id_number"][:6] + "*" * 11 + c["id_number"][-1]


def test_a_bulk_card_its_event_and_timeline_row_match_a_single_registrations(registry, rpc, db):
    one, two = people(2)
    single = rpc.registry.register_veteran(one)
    bulk = rpc.registry.register_veterans(
        [{**one, "id_number": two["id_number"], "phone": two["phone"], "name": two["name"]}]
    )
    created = bulk["results"][0]["id"]

    personal = {
        "id",
        "id_number",
        "name",
        "phone",
        "gender",
        "birth_date",
        "flags",
        "registered_at",
        "updated_at",
    }

    def card(veteran_id):
        return {k: v for k, v in rpc.registry.get_veteran(veteran_id).items() if k not in personal}

    def event(veteran_id):
        data = scalar(
            db,
            "SELECT body FROM registry.outbox WHERE body->'data'->>'veteran_id' = %s",
            veteran_id,
        )["data"]
        return {k: v for k, v in data.items() if k not in {"veteran_id", "gender", "birth_year"}}

    def timeline(veteran_id):
        return rows(
            db,
            "SELECT source, type, summary FROM registry.timeline WHERE veteran_id = %s",
            veteran_id,
        )

    def audit(veteran_id):
        return rows(
            db,
            "SELECT operator_id, role, action, entity, reason FROM registry.audit_log"
            " WHERE entity_id = %s",
            veteran_id,
        )

    assert card(created) == card(single["id"])
    assert event(created) == event(single["id"])
    assert timeline(created) == timeline(single["id"]) != []
    assert audit(created) == audit(single["id"]) != []


def test_possible_duplicates_are_flagged_against_cards_and_earlier_rows(registry, rpc, db):
    first, second, third, other = people(4)
    card = rpc.registry.register_veteran(first)
    batch = [
        {**second, "phone": first["phone"]},  # same phone as the card
        other,  # nobody's duplicate
        {**third, "phone": first["phone"]},  # same phone as the card and row 0
    ]

    results = rpc.registry.register_veterans(batch)["results"]

    assert [r["status"] for r in results] == ["created"] * 3
    assert "possible_duplicate" in results[0]["flags"]
    assert "possible_duplicate" not in results[1]["flags"]
    assert "possible_duplicate" in results[2]["flags"]
    duplicates = dict(rows(db, "SELECT id::text, possible_duplicates FROM registry.veterans"))
    assert duplicates[results[0]["id"]] == [card["id"]]
    assert duplicates[results[1]["id"]] == []
    assert duplicates[results[2]["id"]] == [card["id"], results[0]["id"]]


def test_the_same_name_birth_date_and_county_in_a_batch_is_a_possible_duplicate(registry, rpc, db):
    one, two = people(2)
    batch = [
        {**one, "id_number": id_number(birth="19851201", seq=11), "name": "周杰"},
        {**two, "id_number": id_number(birth="19851201", seq=12), "name": "周杰"},
    ]

    results = rpc.registry.register_veterans(batch)["results"]

    assert "possible_duplicate" not in results[0]["flags"]
    assert "possible_duplicate" in results[1]["flags"]
    assert scalar(
        db, "SELECT possible_duplicates FROM registry.veterans WHERE id = %s", results[1]["id"]
    ) == [results[0]["id"]]


def test_a_row_the_database_cannot_store_is_invalid_and_the_others_are_created(registry, rpc, db):
    good, bad = people(2)
    results = rpc.registry.register_veterans([{**bad, "notes": "备注\x00"}, good])["results"]
    assert [r["status"] for r in results] == ["invalid", "created"]
    assert list(results[0]["errors"]) == ["notes"]
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 1


def test_a_county_clerk_cannot_register_a_row_in_another_county(registry, rpc_as, db):
    ours, theirs = people(1)[0], people(1, county="652302")[0]
    with rpc_as(token("county", ["652301"], operator="clerk-1")) as proxy:
        results = proxy.registry.register_veterans([theirs, ours])["results"]

    assert results[0] == {
        "row": 0,
        "status": "invalid",
        "id": None,
        "errors": {"county_code": ["outside your counties"]},
    }
    assert results[1]["status"] == "created"
    assert rows(db, "SELECT county_code, created_by FROM registry.veterans") == [
        ("652301", "clerk-1")
    ]
    assert rows(db, "SELECT operator_id, role FROM registry.audit_log") == [("clerk-1", "county")]


@pytest.mark.parametrize(
    "batch", [[], {"0": make_veteran()}, "rows", None, [make_veteran()] * 1001]
)
def test_a_batch_that_is_not_a_list_of_1_to_1000_rows_is_invalid_input(registry, rpc, db, batch):
    with pytest.raises(InvalidInput) as caught:
        rpc.registry.register_veterans(batch)
    assert list(caught.value.errors) == ["batch"]
    assert totals(db) == {"veterans": 0, "audit_log": 0, "outbox": 0, "timeline": 0}


def test_a_batch_of_1000_rows_is_accepted(registry, rpc, db):
    results = rpc.registry.register_veterans(people(1000))["results"]
    assert [r["status"] for r in results] == ["created"] * 1000
    assert written(db, [r["id"] for r in results]) == {
        "veterans": 1000,
        "audit": 1000,
        "events": 1000,
        "timeline": 1000,
    }


def test_sending_the_same_batch_again_creates_nothing(registry, rpc, db):
    batch = people(20)
    first = rpc.registry.register_veterans(batch)["results"]
    before = totals(db)

    again = rpc.registry.register_veterans(batch)["results"]

    assert [r["status"] for r in again] == ["conflict"] * 20
    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert totals(db) == before


def test_the_events_carry_no_personal_data_and_get_published(registry, rpc, db):
    batch = people(30)
    results = rpc.registry.register_veterans(batch)["results"]
    created = {r["id"] for r in results}

    bodies = [
        body
        for (body,) in rows(
            db, "SELECT body FROM registry.outbox WHERE routing_key = 'veteran_registered'"
        )
    ]
    assert {b["data"]["veteran_id"] for b in bodies} == created
    text = str(bodies)
    for data in batch:
        for secret in (data["id_number"], data["phone"], data["name"], data["address"]):
            assert secret not in text
    wait_for(
        lambda: (
            scalar(db, "SELECT count(*) FROM registry.outbox WHERE published_at IS NOT NULL") == 30
        ),
        message="the relay to publish the batch's events",
    )


def test_a_failure_after_the_cards_are_written_leaves_nothing_written(
    registry, rpc, db, monkeypatch
):
    def broken_outbox(self, *events):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(RegistryStore, "emit", broken_outbox)
    with pytest.raises(RemoteError):
        rpc.registry.register_veterans(people(5))
    assert totals(db) == {"veterans": 0, "audit_log": 0, "outbox": 0, "timeline": 0}


def test_concurrent_batches_sharing_id_numbers_give_one_card_per_number(registry, config, db):
    batch = people(300)

    def send(rows):
        with ClusterRpcProxy(config, timeout=30, context_data={"auth_token": token()}) as proxy:
            return proxy.registry.register_veterans(rows)["results"]

    # Opposite orders: the inserts must still not deadlock.
    forward, backward = [
        t.wait() for t in (eventlet.spawn(send, batch), eventlet.spawn(send, batch[::-1]))
    ]
    backward = backward[::-1]

    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 300
    assert scalar(db, "SELECT count(*) FROM registry.outbox") == 300
    for one, other in zip(forward, backward, strict=True):
        assert sorted([one["status"], other["status"]]) == ["conflict", "created"]
        assert one["id"] == other["id"]
