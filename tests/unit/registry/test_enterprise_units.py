"""Enterprises' booklets without a broker or a database: the pure domain, the input
schemas, and the RPCs over an in-memory store."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from nameko.testing.services import worker_factory
from stdnum.cn import uscc as uscc_number

from services.registry import domain as veteran_domain
from services.registry import enterprise_domain as domain
from services.registry.enterprises import REGISTER_INPUT, SEARCH_INPUT, UPDATE_INPUT
from services.registry.schemas import RegisterVeteranSchema
from services.registry.service import RegistryService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.contracts import dump_data
from shared.contracts.registry import ENTERPRISE_REGISTERED, ENTERPRISE_UPDATED
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.validation import load
from tests.factories import make_veteran
from tests.unit.registry.fakes import Audit, FakeRegistryStore

NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
TODAY = date(2026, 3, 1)
BASE = "91652301MA78K2Q5X"
USCC = BASE + uscc_number.calc_check_digit(BASE)
FOUNDER = "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa"
OUTSIDER = "0f6a1e2b-7c3d-4e5f-8a9b-0c1d2e3f4a5b"  # a veteran of 652302


def command(**overrides):
    data = {
        "kind": "enterprise",
        "uscc": USCC,
        "name": "昌吉市戎创商贸有限公司",
        "county_code": "652301",
        "industry": "ecommerce",
        "founded_on": "2025-05-01",
        "stage": "startup",
        "founder_ids": [FOUNDER],
        "employees": 6,
        "veteran_employees": 3,
    }
    data.update(overrides)
    return data


def enterprise(**overrides):
    loaded = load(REGISTER_INPUT, command())
    return replace(domain.new(loaded, "e-1", NOW), **overrides)


# -- domain ---------------------------------------------------------------------------------


def test_a_new_enterprise_keeps_its_founders_unique_and_in_a_stable_order():
    other = str(uuid.uuid4())
    loaded = load(REGISTER_INPUT, command(founder_ids=[FOUNDER, other, FOUNDER.upper()]))
    assert domain.new(loaded, "e-1", NOW).founder_ids == sorted({FOUNDER, other})


def test_registration_announces_the_facts_without_name_or_uscc():
    [event] = domain.registered(enterprise())
    assert event.type == ENTERPRISE_REGISTERED
    data = dump_data("registry", event)
    assert data["enterprise_id"] == "e-1" and data["founder_ids"] == [FOUNDER]
    assert data["founded_on"] == "2025-05-01"
    assert "昌吉市戎创商贸有限公司" not in str(data) and USCC not in str(data)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"uscc": None}, "uscc"),
        ({"founded_on": date(2026, 3, 2)}, "founded_on"),
        ({"employees": 2, "veteran_employees": 3}, "veteran_employees"),
        ({"employees": None, "veteran_employees": 3}, "employees"),
        ({"employees": 6, "new_hires": 7}, "new_hires"),
        ({"founder_ids": []}, "founder_ids"),
    ],
)
def test_problems_name_the_field_that_breaks_a_rule(overrides, field):
    assert list(domain.problems(enterprise(**overrides), TODAY)) == [field]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"kind": "individual_business", "uscc": None},
        {"founded_on": TODAY},
        {"employees": 3, "veteran_employees": 3},
        {"employees": None, "veteran_employees": None},
        {"employees": 6, "new_hires": 6},
        {"employees": None, "veteran_employees": None, "new_hires": 2},
    ],
)
def test_a_sound_booklet_has_no_problems(overrides):
    assert domain.problems(enterprise(**overrides), TODAY) == {}


def test_an_update_returns_the_changed_fields_and_announces_the_facts_among_them():
    later = datetime(2026, 3, 2, tzinfo=UTC)
    before = enterprise()
    updated, changed, [event] = domain.update(
        before, {"stage": "operating", "name": "新名字", "founded_on": date(2025, 6, 1)}, later
    )
    assert changed == {"stage": "operating", "name": "新名字", "founded_on": date(2025, 6, 1)}
    assert (updated.stage, updated.name, updated.updated_at) == ("operating", "新名字", later)
    assert before.stage == "startup"  # the old booklet is left alone
    assert event.type == ENTERPRISE_UPDATED
    assert event.data["changed"] == {"stage": "operating", "founded_on": "2025-06-01"}
    dumped = dump_data("registry", event)
    assert dumped["snapshot"]["stage"] == "operating" and "新名字" not in str(dumped)


def test_an_update_of_the_name_alone_is_no_news():
    _, changed, events = domain.update(enterprise(), {"name": "新名字"}, NOW)
    assert changed == {"name": "新名字"} and events == []


def test_an_update_to_the_same_values_changes_nothing():
    before = enterprise()
    updated, changed, events = domain.update(
        before, {"stage": "startup", "founder_ids": [uuid.UUID(FOUNDER)], "id": "other"}, NOW
    )
    assert updated is before and changed == {} and events == []


def test_replacing_founders_names_the_added_ones():
    before = enterprise()
    partner = str(uuid.uuid4())
    updated, changed, _ = domain.update(before, {"founder_ids": [partner, FOUNDER]}, NOW)
    assert changed == {"founder_ids": sorted([partner, FOUNDER])}
    assert domain.added_founders(before, updated) == [partner]


def test_only_a_business_that_is_not_closed_makes_its_founders_self_employed():
    assert domain.makes_self_employed(enterprise(stage="startup"))
    assert domain.makes_self_employed(enterprise(stage="operating"))
    assert not domain.makes_self_employed(enterprise(stage="closed"))


def test_the_reply_is_json_safe():
    reply = domain.present(enterprise())
    assert reply["founded_on"] == "2025-05-01" and reply["registered_at"] == NOW.isoformat()
    assert reply["founder_ids"] == [FOUNDER] and reply["federation_member"] is False


def test_a_founder_outside_the_operators_counties_is_shown_by_id_and_county_only():
    founder = {
        "id": FOUNDER,
        "name": "张伟",
        "county_code": "652302",
        "employment_status": "self_employed",
    }
    assert domain.present_founder(founder, visible=True) == founder
    assert domain.present_founder(founder, visible=False) == {
        "id": FOUNDER,
        "county_code": "652302",
        "name": None,
        "employment_status": None,
    }


# -- schemas --------------------------------------------------------------------------------


def test_the_uscc_is_checked_by_stdnum_and_kept_in_canonical_form():
    assert load(REGISTER_INPUT, command(uscc=f" {USCC.lower()} "))["uscc"] == USCC
    wrong = USCC[:17] + ("0" if USCC[17] != "0" else "1")
    with pytest.raises(InvalidInput) as caught:
        load(REGISTER_INPUT, command(uscc=wrong))
    assert list(caught.value.errors) == ["uscc"]


def test_an_update_loads_only_the_fields_given():
    assert load(UPDATE_INPUT, {"stage": "closed"}, partial=True) == {"stage": "closed"}
    with pytest.raises(InvalidInput) as caught:
        load(UPDATE_INPUT, {"stage": "closed", "founder_ids": []}, partial=True)
    assert list(caught.value.errors) == ["founder_ids"]


def test_booleans_and_counts_must_be_json_booleans_and_integers():
    with pytest.raises(InvalidInput) as caught:
        load(
            REGISTER_INPUT, command(federation_member="true", employees="6", veteran_employees=1.5)
        )
    assert set(caught.value.errors) == {"federation_member", "employees", "veteran_employees"}


def test_search_filters_default_to_none():
    assert set(load(SEARCH_INPUT, {}).values()) == {None}


# -- RPCs over an in-memory store ---------------------------------------------------------


@pytest.fixture
def store():
    store = FakeRegistryStore(NOW)
    for county, veteran_id in (("652301", FOUNDER), ("652302", OUTSIDER)):
        store.veterans[veteran_id] = veteran_domain.register(
            load(RegisterVeteranSchema(), make_veteran(county_code=county)), veteran_id, NOW
        )[0]
    return store


@pytest.fixture
def service(store):
    return worker_factory(
        RegistryService,
        store=store,
        clock=FrozenClock(NOW),
        auth=Caller(Operator("op-1", "clerk", "county", ("652301",))),
    )


def test_register_enterprise_stores_audits_and_makes_the_founder_self_employed(service, store):
    reply = service.register_enterprise(command())
    assert list(store.enterprises) == [reply["id"]]
    assert store.audits[0] == Audit("op-1", "register_enterprise", "enterprise", reply["id"])
    assert store.veterans[FOUNDER].employment_status == "self_employed"
    types = [e.type for e in store.events]
    assert types == ["enterprise_registered", "veteran_updated", "employment_status_changed"]
    registered_id = store.timeline_rows[0][0]
    assert store.events[2].data["cause_event_id"] == registered_id


def test_bad_input_raises_before_the_store_is_touched(service, store):
    with pytest.raises(InvalidInput) as caught:
        service.register_enterprise(command(uscc="123", industry="piracy", county_code="110101"))
    assert set(caught.value.errors) == {"uscc", "industry", "county_code"}
    assert store.calls == []


def test_a_clerk_cannot_register_in_another_county(service, store):
    with pytest.raises(Forbidden):
        service.register_enterprise(command(county_code="652302"))
    assert store.calls == []


def test_a_founder_from_another_county_is_refused_as_an_unknown_one(service, store):
    with pytest.raises(InvalidInput) as outside:
        service.register_enterprise(command(founder_ids=[FOUNDER, OUTSIDER]))
    assert store.enterprises == {} and store.events == []
    unknown = str(uuid.uuid4())
    with pytest.raises(InvalidInput) as missing:
        service.register_enterprise(command(founder_ids=[FOUNDER, unknown]))
    assert (
        outside.value.errors
        == missing.value.errors
        == {"founder_ids.1": ["no veteran with this id"]}
    )


def test_unknown_founders_are_named_by_their_position(service, store):
    unknown = str(uuid.uuid4())
    with pytest.raises(InvalidInput) as caught:
        service.register_enterprise(command(founder_ids=[FOUNDER, unknown]))
    assert list(caught.value.errors) == ["founder_ids.1"]
    assert "add_enterprise" not in store.calls


def test_a_taken_uscc_is_a_conflict_naming_the_holder(service, store):
    first = service.register_enterprise(command())
    with pytest.raises(Conflict) as caught:
        service.register_enterprise(command(name="另一家"))
    assert caught.value.details == {"enterprise_id": first["id"]}


def test_reading_an_unknown_or_malformed_enterprise(service, store):
    with pytest.raises(NotFound):
        service.get_enterprise(str(uuid.uuid4()))
    with pytest.raises(InvalidInput) as caught:
        service.get_enterprise("not-a-uuid")
    assert list(caught.value.errors) == ["enterprise_id"]


def test_an_update_is_audited_and_announced(service, store):
    created = service.register_enterprise(command())
    updated = service.update_enterprise(created["id"], {"stage": "closed"})
    assert updated["stage"] == "closed"
    assert store.audits[-1] == Audit("op-1", "update_enterprise", "enterprise", created["id"])
    assert store.events[-1].type == ENTERPRISE_UPDATED
    assert store.events[-1].data["changed"] == {"stage": "closed"}


@pytest.mark.parametrize(
    "page,page_size,field", [(0, 50, "page"), (1, 201, "page_size"), (1, "50", "page_size")]
)
def test_search_refuses_bad_paging(service, store, page, page_size, field):
    with pytest.raises(InvalidInput) as caught:
        service.search_enterprises({}, page, page_size)
    assert field in caught.value.errors


def test_search_outside_the_clerks_counties_is_forbidden(service, store):
    with pytest.raises(Forbidden):
        service.search_enterprises({"county_code": "652302"})
