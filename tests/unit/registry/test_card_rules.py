"""The card the national collection keeps (issue 19): each new field's bad input names the
field, the rank/placement and branch-date rules, old codes loading, the late-report flag,
the masks, and the facts events carry."""

from datetime import UTC, date, datetime

import pytest
from marshmallow import ValidationError

from services.registry import card_rules, domain
from services.registry.schemas import RegisterVeteranSchema, UpdateVeteranSchema
from shared.masks import mask_card_number
from tests.factories import make_veteran

NOW = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
RULES = card_rules.load()
FULL = {
    "political_status": "cpc_member",
    "preferential_card_number": "YD6523010001",
    "honours": [{"kind": "third_class_merit", "year": 2012}],
    "health": "disabled",
    "disability_grade": 8,
    "employment_difficulty": {
        "recognised": True,
        "reasons": ["long_term_unemployed"],
        "help": ["job_referral"],
        "outcome": None,
    },
    "reported_on": "2016-12-20",
    "hukou_place": "652301100001",
    "placement_place": "652301",
    "collected_by": "王站长",
}


def errors_of(data, schema=RegisterVeteranSchema, **kwargs):
    with pytest.raises(ValidationError) as caught:
        schema().load(data, **kwargs)
    return caught.value.messages


def test_a_card_with_every_new_field_loads():
    loaded = RegisterVeteranSchema().load(make_veteran(**FULL))
    assert loaded["honours"] == [{"kind": "third_class_merit", "year": 2012}]
    assert loaded["reported_on"] == date(2016, 12, 20)
    assert loaded["employment_difficulty"]["reasons"] == ["long_term_unemployed"]
    assert loaded["disability_grade"] == 8


def test_an_old_card_without_the_new_fields_still_loads_with_their_defaults():
    loaded = RegisterVeteranSchema().load(make_veteran())
    assert loaded["honours"] == [] and loaded["employment_difficulty"] is None
    assert loaded["preferential_card_number"] is None and loaded["reported_on"] is None


@pytest.mark.parametrize(
    "field,value",
    [
        ("political_status", "party_member"),
        ("preferential_card_number", "YD-6523"),
        ("preferential_card_number", "Ｙ１２３"),  # full-width is not ASCII
        ("preferential_card_number", "A" * 33),
        ("preferential_card_number", ""),
        ("health", "sick"),
        ("disability_grade", 11),
        ("disability_grade", 0),
        ("disability_grade", "8"),
        ("reported_on", "2016-13-01"),
        ("hukou_place", "65230"),
        ("hukou_place", "6523011"),
        ("hukou_place", "６５２３０１"),
        ("placement_place", "652301100001000"),
        ("collected_by", "x" * 51),
        ("honours", [{"kind": "medal", "year": 2012}]),
        ("honours", [{"kind": "commendation"}]),
        ("honours", "third_class_merit"),
        ("employment_difficulty", {"recognised": True, "reasons": []}),
        ("employment_difficulty", {"recognised": False, "reasons": ["bored"]}),
        ("employment_difficulty", {"reasons": ["other"]}),
    ],
)
def test_bad_input_in_a_new_field_names_the_field(field, value):
    data = make_veteran(**{**FULL, field: value})
    assert field in errors_of(data)


def test_a_recognised_difficulty_without_reasons_names_the_reasons():
    data = make_veteran(employment_difficulty={"recognised": True})
    assert errors_of(data) == {
        "employment_difficulty": {"reasons": ["are required when recognised"]}
    }


def test_a_disability_grade_needs_health_disabled():
    data = make_veteran(health="healthy", disability_grade=3)
    assert set(errors_of(data)) == {"disability_grade"}


def test_an_honour_outside_the_years_of_service_names_honours():
    data = make_veteran(honours=[{"kind": "commendation", "year": 2007}])  # enlisted 2008
    assert set(errors_of(data)) == {"honours"}
    later = make_veteran(honours=[{"kind": "commendation", "year": 2017}])  # discharged 2016
    assert set(errors_of(later)) == {"honours"}


def test_a_report_in_before_the_discharge_names_reported_on():
    assert set(errors_of(make_veteran(reported_on="2016-11-30"))) == {"reported_on"}


# -- rank and placement (保障法 第21–23条) ---------------------------------------------------


@pytest.mark.parametrize(
    "rank,placement",
    [
        ("officer", "self_employment"),
        ("officer", "assigned_job"),
        ("nco", "transfer"),
        ("nco", "demobilised"),
        ("conscript", "monthly_pension"),
        ("conscript", "retired"),
    ],
)
def test_a_placement_not_open_to_the_rank_names_discharge_type(rank, placement):
    data = make_veteran(rank_category=rank, discharge_type=placement)
    assert set(errors_of(data)) == {"discharge_type"}


@pytest.mark.parametrize(
    "rank,placement",
    [
        ("officer", "transfer"),
        ("officer", "demobilised"),
        ("nco", "monthly_pension"),
        ("nco", "supported"),
        ("conscript", "self_employment"),
        (None, "transfer"),  # rank unknown: nothing to check against
        ("civilian_staff", "assigned_job"),  # not in 第21–23条: not checked
    ],
)
def test_a_placement_open_to_the_rank_loads(rank, placement):
    data = make_veteran(rank_category=rank, discharge_type=placement)
    assert RegisterVeteranSchema().load(data)["discharge_type"] == placement


def test_an_update_is_checked_against_what_the_card_holds():
    veteran, _ = domain.register(
        RegisterVeteranSchema().load(make_veteran(rank_category="conscript")), "v", NOW
    )
    change = {"discharge_type": "transfer"}
    problems = domain.card_problems(domain.as_card(veteran, change), RULES, changed=change)
    assert set(problems) == {"discharge_type"}


def test_a_card_stored_before_a_rule_can_still_be_edited_elsewhere():
    veteran, _ = domain.register(
        RegisterVeteranSchema().load(make_veteran(discharge_type="self_employment")), "v", NOW
    )
    old = domain.as_card(veteran, {"rank_category": "officer"})  # as an old row may hold it
    assert set(domain.card_problems(old, RULES)) == {"discharge_type"}
    assert domain.card_problems(old, RULES, changed={"notes": "核实"}) == {}
    assert set(domain.card_problems(old, RULES, changed={"rank_category": "officer"})) == {
        "discharge_type"
    }


# -- branches of the 2024 reorganisation ------------------------------------------------------


def test_the_strategic_support_force_is_refused_for_service_begun_after_april_2024():
    data = make_veteran(
        branch="strategic_support_force", enlisted_on="2024-04-19", discharged_on="2025-09-01"
    )
    assert set(errors_of(data)) == {"branch"}


def test_the_strategic_support_force_is_kept_for_earlier_service():
    data = make_veteran(
        branch="strategic_support_force", enlisted_on="2016-09-01", discharged_on="2024-09-01"
    )
    assert RegisterVeteranSchema().load(data)["branch"] == "strategic_support_force"


@pytest.mark.parametrize(
    "branch", ["aerospace_force", "cyberspace_force", "information_support_force"]
)
def test_the_new_forces_are_refused_for_a_discharge_before_april_2024(branch):
    before = make_veteran(branch=branch, enlisted_on="2020-09-01", discharged_on="2024-04-18")
    assert set(errors_of(before)) == {"branch"}
    after = make_veteran(branch=branch, enlisted_on="2020-09-01", discharged_on="2024-04-19")
    assert RegisterVeteranSchema().load(after)["branch"] == branch


# -- old codes keep loading ---------------------------------------------------------------------


def test_old_labels_and_dadian_codes_load_as_current_codes():
    data = make_veteran(
        rank_category="士官",
        employment_status="升学",
        intentions={"occupations": ["4-07-05-04"], "counties": [], "min_salary": None},
    )
    loaded = RegisterVeteranSchema().load(data)
    assert loaded["rank_category"] == "nco"
    assert loaded["employment_status"] == "further_education"
    assert loaded["intentions"]["occupations"] == ["fire_facility_operator"]


def test_further_education_still_loads_and_is_not_guessed_into_a_new_status():
    loaded = RegisterVeteranSchema().load(make_veteran(employment_status="further_education"))
    assert loaded["employment_status"] == "further_education"


def test_an_update_takes_an_old_label_too():
    loaded = UpdateVeteranSchema().load({"rank_category": "士官"}, partial=True)
    assert loaded == {"rank_category": "nco"}


# -- late report (条例 第13条) -------------------------------------------------------------------


def registered(**overrides):
    command = RegisterVeteranSchema().load(make_veteran(**overrides))
    return domain.register(command, "v-1", NOW, rules=RULES)


def test_a_report_in_30_days_after_discharge_is_not_late_and_31_is():
    on_time, _ = registered(discharged_on="2016-12-01", reported_on="2016-12-31")
    late, [event] = registered(discharged_on="2016-12-01", reported_on="2017-01-01")
    assert domain.FLAG_LATE_REPORT not in on_time.flags
    assert domain.FLAG_LATE_REPORT in late.flags
    assert event.data["late_report"] is True


def test_the_late_report_flag_is_recomputed_on_update():
    veteran, _ = registered(discharged_on="2016-12-01", reported_on="2016-12-20")
    late, history, [event] = domain.update(
        veteran, {"reported_on": date(2017, 2, 1)}, NOW, rules=RULES
    )
    assert domain.FLAG_LATE_REPORT in late.flags
    assert {c.field for c in history} == {"reported_on", "flags"}
    assert event.data["changed"] == {"late_report": True}
    back, _, _ = domain.update(late, {"discharged_on": date(2017, 1, 20)}, NOW, rules=RULES)
    assert domain.FLAG_LATE_REPORT not in back.flags


def test_the_deadline_comes_from_the_data_file():
    assert RULES.late_report_days == 30
    assert "transfer" in RULES.placements["officer"]


# -- masks and facts ---------------------------------------------------------------------------


def test_the_card_number_is_masked_in_every_reply():
    veteran, _ = registered(**FULL)
    for contact in (False, True):
        reply = domain.present(veteran, contact=contact)
        assert reply["preferential_card_number"] == "YD********01"
        assert "6523010001" not in str(reply)


@pytest.mark.parametrize(
    "number,masked", [("A", "*"), ("AB12", "A**2"), ("YD20210000123412", "YD************12")]
)
def test_a_card_number_shows_at_most_a_third_of_itself(number, masked):
    assert mask_card_number(number) == masked
    assert mask_card_number(None) is None


def test_facts_carry_derived_flags_and_no_identifier():
    _veteran, [event] = registered(**FULL)
    facts = event.data
    assert facts["honours"] == ["third_class_merit"]  # kinds, no years
    assert facts["disability_grade"] == 8
    assert facts["difficulty_recognised"] is True
    assert facts["late_report"] is False and "trained" not in facts
    text = str(facts)
    for secret in ("YD6523010001", "652301100001", "王站长", "2012"):
        assert secret not in text


def test_training_is_recorded_once():
    veteran, _ = registered()
    trained, history, events = domain.update(veteran, domain.took_training(), NOW, rules=RULES)
    # history, and no event: trained is not a fact others keep (domain.facts says why)
    assert trained.trained and [h.field for h in history] == ["trained"] and events == []
    again = domain.update(trained, domain.took_training(), NOW, rules=RULES)
    assert again == (trained, [], [])


def test_a_bulk_draft_with_duplicates_equals_the_single_registration_late_flag_included():
    command = RegisterVeteranSchema().load(
        make_veteran(discharged_on="2016-12-01", reported_on="2017-03-01")
    )
    draft = domain.register(command, "v-1", NOW, rules=RULES)
    single = domain.register(command, "v-1", NOW, ["v-0"], rules=RULES)
    assert domain.with_duplicates(*draft, ["v-0"]) == single
    assert single[0].flags[-2:] == [domain.FLAG_POSSIBLE_DUPLICATE, domain.FLAG_LATE_REPORT]
