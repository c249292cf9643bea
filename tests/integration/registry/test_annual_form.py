"""The ministry's annual form from a real ledger (PostgreSQL, RabbitMQ): the cohort is the
year's 自主就业 discharges only, each card in one column (a founder's business first, a
closed one not), trained from training's events, difficulty and help from the card; rows
per county, per township, per village for a station clerk; a legacy 升学 card flagged."""

import uuid

import pytest
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container

from services.registry.service import RegistryService
from shared.errors import Forbidden, InvalidInput
from tests.conftest import token
from tests.factories import make_veteran
from tests.helpers import bureau_now, envelope, publish
from tests.integration.registry.enterprises.booklets import make_enterprise, valid_uscc

YEAR = 2025
CHANGJI, FUKANG = "652301", "652302"
TOWNSHIP, VILLAGE = "652301001000", "652301001001"
PREFECTURE = token("prefecture", ["*"], operator="prefecture-staff")
DIFFICULT = {"recognised": True, "reasons": ["long_term_unemployed"], "help": ["job_referral"]}


def cohort_card(county, status, station=None, **more):
    data = {
        "county_code": county,
        "station_code": station,
        "discharged_on": f"{YEAR}-09-01",
        "enlisted_on": "2020-09-01",
        "discharge_type": "self_employment",
        "employment_status": status,
        "employer": "昌吉市物流公司" if status == "employed" else None,
        "willingness": "job",
    }
    return make_veteran(**{**data, **more})


def training_completed(veteran_id):
    return envelope(
        "training",
        "training_completed",
        enrollment_id=str(uuid.uuid4()),
        veteran_id=veteran_id,
        course_id=str(uuid.uuid4()),
        passed=True,
    )


@pytest.fixture
def ledger(start, rpc_as, config):
    """A year's cohort built for known column totals, and cards that must not count."""
    container = get_container(start(RegistryService), RegistryService)
    ids = {}
    with rpc_as(PREFECTURE) as staff:

        def card(key, *args, **more):
            ids[key] = staff.registry.register_veteran(cohort_card(*args, **more))["id"]

        card("employed_trained", CHANGJI, "employed", VILLAGE)
        card("flexible", CHANGJI, "flexible", TOWNSHIP)
        card("back_to_school", CHANGJI, "back_to_school", VILLAGE)
        card("by_exam", FUKANG, "admitted_by_exam")
        card("farming", FUKANG, "returned_farming")
        card("difficult_helped", CHANGJI, "unemployed", VILLAGE, employment_difficulty=DIFFICULT)
        card("waiting", CHANGJI, "unemployed")
        card("founder_business", CHANGJI, "unemployed", VILLAGE)
        card("founder_coop", FUKANG, "back_to_school")
        card("founder_closed", FUKANG, "employed")
        # Outside the cohort: another year, another placement.
        card("discharged_2024", CHANGJI, "employed", discharged_on="2024-06-01")
        card("assigned_job", CHANGJI, "unemployed", discharge_type="assigned_job")
        enterprises = (
            ("founder_business", "individual_business", "startup", CHANGJI),
            ("founder_coop", "cooperative", "operating", FUKANG),
            ("founder_closed", "enterprise", "closed", FUKANG),
        )
        for key, kind, stage, county in enterprises:
            staff.registry.register_enterprise(
                make_enterprise(
                    [ids[key]], kind=kind, stage=stage, county_code=county, uscc=valid_uscc(county)
                )
            )
    with entrypoint_waiter(container, "on_training_completed", timeout=15):
        publish(config, training_completed(ids["employed_trained"]), source="training")
    return ids


def values(form, area=None):
    if area is None:
        return form["total"]
    return next(row["values"] for row in form["rows"] if row["area"] == area)


def test_the_prefectures_form_counts_the_cohort_once_each_by_the_precedence_rule(ledger, rpc_as):
    with rpc_as(PREFECTURE) as staff:
        form = staff.registry.annual_form(YEAR)

    total = values(form)
    assert {k: total[k] for k in "ABCDEFGHIJKL"} == {
        "A": 10,
        "B": 1,  # back_to_school (the coop founder at school counts under K)
        "C": 1,
        "D": 6,
        "E": 3,  # employed (trained), flexible, and the founder of a closed enterprise
        "F": 1,
        "G": 1,
        "H": 2,
        "I": 0,
        "J": 1,
        "K": 1,
        "L": 2,
    }
    assert (total["L_difficulty"], total["L_helped"]) == (1, 1)
    assert values(form, CHANGJI)["A"] == 6 and values(form, FUKANG)["A"] == 4
    assert [row["area"] for row in form["rows"]][:2] == [CHANGJI, FUKANG]
    assert form["ok"] and form["unclassified"] == []
    assert form["rate"]["value"] == "0.6000" and "D" in form["rate"]["definition"]
    assert form["scope"]["level"] == "prefecture" and form["year"] == YEAR


def test_a_county_has_a_row_per_township_and_one_for_cards_without_a_station(ledger, rpc_as):
    with rpc_as(PREFECTURE) as staff:
        form = staff.registry.annual_form(YEAR, CHANGJI)

    assert values(form, TOWNSHIP)["A"] == 5  # its village's four and its own one
    assert values(form, CHANGJI)["A"] == 1  # no station
    assert values(form)["A"] == 6 and form["ok"]


def test_a_station_clerk_gets_its_stations_form_only(ledger, rpc_as):
    clerk = token("county", [CHANGJI], operator="clerk-village", stations=[VILLAGE])
    with rpc_as(clerk) as village:
        form = village.registry.annual_form(YEAR)
        with pytest.raises(Forbidden):
            village.registry.annual_form(YEAR, None, TOWNSHIP)

    assert [row["area"] for row in form["rows"]] == [VILLAGE]
    assert values(form)["A"] == 4 and values(form)["J"] == 1 and values(form)["L_helped"] == 1


def test_a_legacy_further_education_card_is_flagged_not_summed(ledger, rpc_as):
    with rpc_as(PREFECTURE) as staff:
        legacy = staff.registry.register_veteran(cohort_card(FUKANG, "further_education"))["id"]
        form = staff.registry.annual_form(YEAR)

    failed = {(c["rule"], c["area"]) for c in form["checks"] if not c["ok"]}
    assert failed == {("A = B + C + D + L", FUKANG), ("A = B + C + D + L", None)}
    assert form["ok"] is False
    assert [u["veteran_id"] for u in form["unclassified"]] == [legacy]


def test_bad_years_and_stations_are_named(ledger, rpc_as):
    with rpc_as(PREFECTURE) as staff:
        with pytest.raises(InvalidInput) as future:
            staff.registry.annual_form(bureau_now().year + 1)
        with pytest.raises(InvalidInput) as station:
            staff.registry.annual_form(YEAR, None, "652301999999")
        with pytest.raises(InvalidInput) as mismatch:
            staff.registry.annual_form(YEAR, FUKANG, VILLAGE)

    assert "year" in str(future.value) and "station_code" in str(station.value)
    assert "station_code" in str(mismatch.value)
