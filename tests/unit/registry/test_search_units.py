"""search_veterans and stats without a broker or a database: input checking, the WHERE
clause built from filters, scope decisions and the indicators' arithmetic."""

import datetime

import pytest
from nameko.testing.services import worker_factory

from services.registry.search import employment_by_month, indicators, load_search, search_audit
from services.registry.search_store import where_clause
from services.registry.service import RegistryService
from shared.auth import Caller, Operator
from shared.clock import FrozenClock
from shared.errors import Forbidden, InvalidInput
from tests.unit.registry.fakes import NOW, FakeRegistryStore


def service_as(role, counties, store):
    return worker_factory(
        RegistryService,
        store=store,
        auth=Caller(Operator("op-1", "tester", role, tuple(counties))),
        clock=FrozenClock(NOW),
    )


@pytest.fixture
def store():
    return FakeRegistryStore()


# -- input ------------------------------------------------------------------------------


def test_no_filters_mean_every_card_from_the_first_page():
    assert load_search(None, 1, 50) == ({}, 1, 50)


def test_single_codes_load_as_lists_and_names_are_trimmed():
    criteria, page, size = load_search(
        {
            "county_code": "652301",
            "employment_status": ["employed", "flexible"],
            "skill": "welder",
            "name": "  张伟 ",
            "willingness": None,
        },
        2,
        10,
    )
    assert criteria == {
        "county_code": ["652301"],
        "employment_status": ["employed", "flexible"],
        "skill": ["welder"],
        "name": "张伟",
    }
    assert (page, size) == (2, 10)


@pytest.mark.parametrize(
    "filters,page,page_size,field",
    [
        ({"colour": "red"}, 1, 50, "colour"),
        ({"county_code": "110101"}, 1, 50, "county_code"),
        ({"county_code": ["652301", "110101"]}, 1, 50, "county_code.1"),
        ({"county_code": []}, 1, 50, "county_code"),
        ({"county_code": 652301}, 1, 50, "county_code"),
        ({"employment_status": "retired"}, 1, 50, "employment_status"),
        ({"willingness": "maybe"}, 1, 50, "willingness"),
        ({"service_need": "money"}, 1, 50, "service_need"),
        ({"skill": ["welder", "juggling"]}, 1, 50, "skill.1"),
        ({"discharged_from_year": 2020, "discharged_to_year": 2010}, 1, 50, "discharged_from_year"),
        ({"discharged_to_year": "2010"}, 1, 50, "discharged_to_year"),
        ({"discharged_from_year": 1066}, 1, 50, "discharged_from_year"),
        ({"name": ""}, 1, 50, "name"),
        ({"name": "   "}, 1, 50, "name"),
        ({"name": "张" * 51}, 1, 50, "name"),
        ("county_code=652301", 1, 50, "filters"),
        ({}, 0, 50, "page"),
        ({}, "2", 50, "page"),
        ({}, 1, 0, "page_size"),
        ({}, 1, 201, "page_size"),
    ],
)
def test_bad_search_input_is_invalid_input_naming_the_field(filters, page, page_size, field):
    with pytest.raises(InvalidInput) as caught:
        load_search(filters, page, page_size)
    assert field in caught.value.errors
    assert field in caught.value.message


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InvalidInput) as caught:
        load_search({"skill": "juggling", "colour": "red"}, 0, 500)
    assert set(caught.value.errors) == {"skill", "colour", "page", "page_size"}


# -- SQL --------------------------------------------------------------------------------


def test_wildcards_in_a_name_filter_match_themselves():
    assert where_clause({"name": "张伟"})[1] == ["张伟", "%张伟%"]
    assert where_clause({"name": "a_b%c\\d"})[1] == ["a_b%c\\d", "%a\\_b\\%c\\\\d%"]


def test_user_input_only_ever_travels_as_parameters():
    hostile = "'; DROP TABLE veterans; --"
    where, args = where_clause({"name": hostile, "county_code": ["652301"]})
    assert "DROP" not in where and "652301" not in where
    assert hostile in args and "%'; DROP TABLE veterans; --%" in args


def test_one_value_compares_with_equals_and_many_with_any():
    where, args = where_clause(
        {"county_code": ["652301"], "employment_status": ["employed", "flexible"]}
    )
    assert where == " WHERE county_code = %s AND employment_status = ANY(%s)"
    assert args == ["652301", ["employed", "flexible"]]


def test_skills_and_needs_must_all_be_held():
    where, args = where_clause({"skill": ["welder", "cook"], "service_need": ["legal_aid"]})
    assert "skills @> %s::text[]" in where and "service_needs @> %s::text[]" in where
    assert args == [["welder", "cook"], ["legal_aid"]]


def test_discharge_years_cover_whole_calendar_years():
    where, args = where_clause({"discharged_from_year": 2012, "discharged_to_year": 2016})
    assert where == " WHERE discharged_on >= %s AND discharged_on < %s"
    assert args == [datetime.date(2012, 1, 1), datetime.date(2017, 1, 1)]


def test_a_han_name_uses_like_and_a_latin_one_ilike():
    assert " LIKE %s" in where_clause({"name": "张伟"})[0]
    assert " ILIKE %s" in where_clause({"name": "Aygul"})[0]


def test_an_empty_scope_still_restricts_and_no_scope_does_not():
    assert where_clause({"county_code": []})[0] == " WHERE county_code = ANY(%s)"
    assert where_clause({"county_code": None}) == ("", [])


# -- scope ------------------------------------------------------------------------------


def test_a_clerk_searching_without_a_county_gets_only_their_counties(store):
    service_as("county", ["652301", "652302"], store).search_veterans({"skill": "welder"})
    criteria, _, _ = store.searches[0]
    assert criteria["county_code"] == ["652301", "652302"] and criteria["skill"] == ["welder"]


def test_a_prefecture_operator_searching_without_a_county_is_not_restricted(store):
    service_as("prefecture", ["*"], store).search_veterans({}, page=3, page_size=20)
    assert store.searches == [({"county_code": None}, 20, 40)]


def test_a_search_writes_one_audit_row_with_its_filter_keys_page_and_row_count(store):
    service_as("county", ["652301"], store).search_veterans(
        {"name": "欧阳", "skill": ["welder"], "discharged_from_year": 2012}, page=2, page_size=20
    )
    [(operator, action, entity, entity_id, _, details)] = store.audits
    assert (operator, action, entity, entity_id) == ("op-1", "search_veterans", "veteran", None)
    assert details == {
        "filter_keys": ["discharged_from_year", "name", "skill"],
        "filters": {"discharged_from_year": 2012, "skill": ["welder"]},
        "page": 2,
        "page_size": 20,
        "rows": 0,
        "total": 0,
    }
    assert "欧阳" not in str(details)  # a name filter is recorded as used, not what it held


def test_a_search_audit_records_the_counties_asked_for_not_the_scope_added():
    details = search_audit({"county_code": ["652301"]}, 1, 50, 3, 3)
    assert details["filters"] == {"county_code": ["652301"]} and details["rows"] == 3
    assert search_audit({}, 1, 50, 0, 0)["filter_keys"] == []


def test_a_clerk_naming_another_county_is_forbidden_before_any_query(store):
    service = service_as("county", ["652301"], store)
    with pytest.raises(Forbidden):
        service.search_veterans({"county_code": ["652301", "652302"]})
    with pytest.raises(Forbidden):
        service.stats("652302")
    assert store.searches == [] and store.counted == [] and store.audits == []


def test_stats_for_a_clerk_without_a_county_say_which_counties_they_cover(store):
    reply = service_as("county", ["652302", "652301"], store).stats()
    assert store.counted == [["652302", "652301"]]
    assert reply["county_code"] is None and reply["counties"] == ["652301", "652302"]


def test_stats_for_everyone_list_the_whole_jurisdiction(store):
    reply = service_as("viewer", ["*"], store).stats()
    assert store.counted == [None] and len(reply["counties"]) == 7


def test_stats_for_a_county_outside_the_jurisdiction_is_invalid_input(store):
    with pytest.raises(InvalidInput) as caught:
        service_as("admin", ["*"], store).stats("110101")
    assert "county_code" in caught.value.errors


# -- indicators -------------------------------------------------------------------------


def test_the_rate_counts_workers_over_those_who_want_work_or_already_work():
    figures = indicators(
        {
            ("employed", "none"): 2,  # working: in the base whatever they want
            ("self_employed", "business"): 1,
            ("flexible", "job"): 1,
            ("public_welfare_post", "training"): 1,
            ("unemployed", "job"): 3,  # wants a job: in the base, not working
            ("unemployed", "business"): 1,
            ("unemployed", "training"): 4,  # outside the base
            ("in_training", "none"): 5,
        },
        {},
        {},
    )
    assert figures["veterans"] == 18
    assert figures["employment_rate"] == {"working": 5, "base": 9, "rate": 0.5556}
    assert figures["by_status"]["unemployed"] == 8
    assert figures["by_status"]["further_education"] == 0
    assert figures["by_willingness"] == {"business": 2, "job": 4, "none": 7, "training": 5}


def test_the_rate_is_zero_when_nobody_is_in_the_base():
    figures = indicators({("not_seeking", "none"): 4}, {}, {})
    assert figures["employment_rate"] == {"working": 0, "base": 0, "rate": 0}


def test_every_need_and_every_enterprise_stage_is_reported_even_at_zero():
    figures = indicators({}, {"legal_aid": 2}, {("individual_business", "operating"): 3})
    assert figures["veterans"] == 0
    assert figures["by_need"]["legal_aid"] == 2 and figures["by_need"]["job_referral"] == 0
    assert figures["enterprises"] == {
        "enterprise": {"startup": 0, "operating": 0, "closed": 0},
        "individual_business": {"startup": 0, "operating": 3, "closed": 0},
        "cooperative": {"startup": 0, "operating": 0, "closed": 0},
    }


# -- the employment rate month by month -------------------------------------------------


def test_each_months_rate_counts_the_states_at_its_end_as_the_headline_rate_does():
    months = ["2026-01", "2026-02", "2026-03"]
    got = employment_by_month(
        [
            ("2026-02", "employed", "none", 1),  # working: in the base whatever they want
            ("2026-02", "unemployed", "job", 2),  # wants a job: in the base
            ("2026-02", "unemployed", "training", 1),  # registered, not in the base
            ("2026-03", "employed", "none", 2),
            ("2026-03", "unemployed", "job", 2),
        ],
        months,
    )
    assert got["2026-02"] == {
        "registered": 4,
        "working": 1,
        "base": 3,
        "employment_rate": round(1 / 3, 4),
    }
    assert got["2026-03"]["employment_rate"] == 0.5
    # Nobody registered yet: zero cards, and no rate rather than a made-up 0 %.
    assert got["2026-01"] == {"registered": 0, "working": 0, "base": 0, "employment_rate": None}
    assert list(got) == months


def test_the_last_months_rate_is_the_headline_rate_when_nothing_changed_since():
    counts = {("employed", "none"): 3, ("unemployed", "job"): 1, ("unemployed", "training"): 2}
    headline = indicators(counts, {}, {})["employment_rate"]
    monthly = employment_by_month(
        [("2026-03", s, w, n) for (s, w), n in counts.items()], ["2026-03"]
    )
    assert monthly["2026-03"]["employment_rate"] == headline["rate"] == 0.75
    assert monthly["2026-03"]["base"] == headline["base"]


def test_stats_give_twelve_bureau_months_ending_with_todays(store):
    reply = service_as("viewer", ["*"], store).stats()
    assert list(reply["by_month"])[-1] == "2026-03" and len(reply["by_month"]) == 12
    assert next(iter(reply["by_month"])) == "2025-04"
