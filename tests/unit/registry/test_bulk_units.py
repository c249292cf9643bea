"""register_veterans' pure parts, and the RPC over an in-memory store: no broker, no database."""

import uuid
from datetime import UTC, date, datetime

import pytest
from nameko.testing.services import worker_factory

from services.registry import bulk, domain
from services.registry.domain import Veteran
from services.registry.service import RegistryService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.errors import InvalidInput
from tests.factories import id_number, make_veteran, unique_id_numbers
from tests.unit.registry.fakes import FakeRegistryStore

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
TODAY = FrozenClock(NOW).today()


def valid_rows(count, county="652301"):
    return [
        make_veteran(id_number=number, name=f"王{i}", phone=f"139{i:08d}", county_code=county)
        for i, number in enumerate(unique_id_numbers(count, county=county))
    ]


def card(name="张伟", birth=date(1990, 3, 7), county="652301", phone=None):
    return Veteran(
        id=str(uuid.uuid4()),
        id_number="x",
        name=name,
        gender="male",
        birth_date=birth,
        county_code=county,
        discharged_on=date(2016, 12, 1),
        discharge_type="self_employment",
        willingness="job",
        employment_status="unemployed",
        registered_at=NOW,
        updated_at=NOW,
        phone=phone,
    )


# -- with_duplicates ------------------------------------------------------------------------
# 1950 and 652301: a division stdnum does not list that year, so the card has a flag already.
@pytest.mark.parametrize("born", [None, "19500101"])
def test_a_draft_given_its_duplicates_is_what_register_makes_with_them(born):
    command = bulk.ROW_INPUT.load(make_veteran(id_number=id_number(birth=born)))
    duplicates = [str(uuid.uuid4()), str(uuid.uuid4())]
    draft = domain.register(command, "v-1", NOW)
    assert domain.with_duplicates(*draft, duplicates) == domain.register(
        command, "v-1", NOW, duplicates
    )


# -- check_batch ----------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [[], None, "rows", {"rows": []}, 5, [{}] * 1001])
def test_a_batch_that_is_not_a_list_of_1_to_1000_names_batch(batch):
    with pytest.raises(InvalidInput) as caught:
        bulk.check_batch(batch)
    assert list(caught.value.errors) == ["batch"]


@pytest.mark.parametrize("size", [1, 1000])
def test_a_list_of_1_to_1000_rows_passes(size):
    bulk.check_batch([{}] * size)


# -- validate_rows --------------------------------------------------------------------------
def test_each_bad_row_is_invalid_with_its_field_messages_and_good_rows_are_commands():
    good, other = valid_rows(2)
    invalid, commands = bulk.validate_rows(
        [good, {**other, "phone": "123", "intentions": {"occupations": ["astronaut"]}}, 7],
        lambda county: True,
        TODAY,
    )
    assert list(commands) == [0]
    assert set(invalid[1]["errors"]) == {"phone", "intentions.occupations.0"}
    assert invalid[1]["status"] == "invalid" and invalid[1]["id"] is None
    assert invalid[2]["errors"] == {"_schema": ["Invalid input type."]}


def test_a_row_in_a_county_the_operator_may_not_write_is_invalid():
    ours, theirs = valid_rows(1)[0], valid_rows(1, county="652302")[0]
    invalid, commands = bulk.validate_rows([ours, theirs], lambda county: county == "652301", TODAY)
    assert list(commands) == [0]
    assert invalid == {
        1: {
            "row": 1,
            "status": "invalid",
            "id": None,
            "errors": {"county_code": ["outside your counties"]},
        }
    }


def test_a_bad_row_in_a_foreign_county_names_the_county_too():
    theirs = valid_rows(1, county="652302")[0]
    invalid, _ = bulk.validate_rows([{**theirs, "phone": "123"}], lambda county: False, TODAY)
    assert invalid[0]["errors"]["county_code"] == ["outside your counties"]
    assert "phone" in invalid[0]["errors"]


def test_a_row_with_text_postgresql_cannot_store_is_invalid_not_a_failed_batch():
    good, bad = valid_rows(2)
    invalid, commands = bulk.validate_rows(
        [good, {**bad, "address": "建国路\x008 号", "certificates": ["a\ud800"]}],
        lambda county: True,
        TODAY,
    )
    assert list(commands) == [0]
    assert set(invalid[1]["errors"]) == {"address", "certificates"}
    assert invalid[1]["errors"]["address"] == [bulk.UNSTORABLE]


def test_commands_are_normalised_like_single_registrations():
    row = next(r for r in valid_rows(200) if r["id_number"].endswith("X"))
    _, commands = bulk.validate_rows(
        [{**row, "id_number": row["id_number"].lower()}], lambda county: True, TODAY
    )
    assert commands[0]["id_number"] == row["id_number"]


# -- first_claims ---------------------------------------------------------------------------
def test_the_first_row_of_an_id_number_claims_it_and_later_rows_repeat_it():
    commands = {
        0: {"id_number": "A"},
        2: {"id_number": "B"},
        3: {"id_number": "A"},
        5: {"id_number": "A"},
    }
    claims, repeats = bulk.first_claims(commands)
    assert list(claims) == [0, 2]
    assert repeats == {3: 0, 5: 0}


# -- batch_duplicates -----------------------------------------------------------------------
def test_existing_cards_come_first_then_earlier_rows_of_the_batch():
    a = card(phone="13900000001")
    b = card(name="李强", phone="13900000002")
    c = card(phone="13900000002")
    found = bulk.batch_duplicates([(0, a), (4, b), (7, c)], {7: ["old-1"]})
    assert found == {7: ["old-1", a.id, b.id]}


def test_rows_without_a_match_have_no_duplicates():
    a = card(name="甲", phone="13900000001")
    b = card(name="乙", phone="13900000002")
    c = card(name="甲", county="652302", phone=None)
    d = card(name="丙", phone=None)
    assert bulk.batch_duplicates([(0, a), (1, b), (2, c), (3, d)], {}) == {}


def test_a_missing_phone_matches_no_other_missing_phone():
    a, b = card(name="甲"), card(name="乙")
    assert bulk.batch_duplicates([(0, a), (1, b)], {}) == {}


def test_duplicates_are_capped_at_the_oldest_twenty():
    rows = [(i, card(phone="13900000001", name=str(i))) for i in range(30)]
    found = bulk.batch_duplicates(rows, {29: [f"old-{i}" for i in range(5)]})
    assert found[29] == [f"old-{i}" for i in range(5)] + [v.id for _, v in rows[:15]]
    assert found[25] == [v.id for _, v in rows[:20]]
    assert 0 not in found


# -- the RPC over an in-memory store --------------------------------------------------------
@pytest.fixture
def store():
    return FakeRegistryStore(NOW)


@pytest.fixture
def service(store):
    return worker_factory(
        RegistryService,
        store=store,
        clock=FrozenClock(NOW),
        auth=Caller(Operator("op-1", "clerk", "county", ("652301",))),
    )


def test_a_batch_is_written_with_one_call_per_table(service, store):
    results = service.register_veterans(valid_rows(50))["results"]
    assert [r["status"] for r in results] == ["created"] * 50
    assert store.calls == [
        "holders",
        "duplicates_of",
        "add_veterans",
        "audit_many",
        "emit",
        "add_timeline_rows",
    ]
    ids = [r["id"] for r in results]
    assert [e.data["veteran_id"] for e in store.events] == ids
    assert [a.entity_id for a in store.audits] == ids
    assert {a[:3] for a in store.audits} == {("op-1", "register_veteran", "veteran")}
    assert [row[1] for row in store.timeline_rows] == ids
    assert store.created_by == "op-1"


def test_a_created_row_carries_its_flags(service, store):
    first, second = valid_rows(2)
    results = service.register_veterans([first, {**second, "phone": first["phone"]}])["results"]
    assert "possible_duplicate" not in results[0]["flags"]
    assert "possible_duplicate" in results[1]["flags"]
    assert store.veterans[results[1]["id"]].possible_duplicates == [results[0]["id"]]


def test_an_id_number_already_registered_is_a_conflict_naming_its_holder(service, store):
    rows = valid_rows(3)
    holder = service.register_veterans([rows[1]])["results"][0]["id"]
    store.calls.clear()
    results = service.register_veterans([rows[0], {**rows[1], "name": "李强"}, rows[2]])["results"]
    assert [r["status"] for r in results] == ["created", "conflict", "created"]
    assert results[1]["id"] == holder
    assert results[1]["errors"] == {"id_number": ["already registered"]}
    assert len(store.events) == 3


def test_a_repeat_inside_the_batch_names_the_card_its_first_row_made(service, store):
    row = valid_rows(1)[0]
    results = service.register_veterans([row, {**row, "name": "李强"}])["results"]
    assert [r["status"] for r in results] == ["created", "conflict"]
    assert results[1]["id"] == results[0]["id"]
    assert results[1]["errors"] == {"id_number": ["repeats row 0 of this batch"]}


def test_a_number_registered_concurrently_is_retried_as_a_conflict(service, store):
    rows = valid_rows(3)
    store.snatched = {rows[1]["id_number"]: "someone-else"}
    results = service.register_veterans(rows)["results"]
    assert [r["status"] for r in results] == ["created", "conflict", "created"]
    assert results[1]["id"] == "someone-else"
    assert store.calls.count("add_veterans") == 2
    assert len(store.veterans) == 2 and len(store.events) == 2


def test_a_batch_with_nothing_to_create_writes_nothing(service, store):
    results = service.register_veterans([{"name": "x"}, valid_rows(1, county="652302")[0]])
    assert [r["status"] for r in results["results"]] == ["invalid", "invalid"]
    assert store.veterans == {} and store.events == [] and store.audits == []


def test_a_bad_batch_touches_no_store(service, store):
    with pytest.raises(InvalidInput):
        service.register_veterans([])
    assert store.calls == []
