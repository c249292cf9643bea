"""The edges of input (#17 item 6), over every service's schemas without servers: dates in
a window around the day of the load, mobile numbers in ASCII digits only, whole numbers
only as JSON integers."""

import datetime as dt
import uuid

import pytest

from services.followup import schemas as followup
from services.jobs import schemas as jobs
from services.loans import schemas as loans
from services.registry import enterprises
from services.registry import schemas as registry
from services.registry.bulk import validate_rows
from services.training import schemas as training
from shared.errors import InvalidInput
from shared.validation import MOBILE, QueryInteger, add_years, load, within_years
from tests.factories import make_veteran

TODAY = dt.date(2026, 12, 7)
ID = str(uuid.uuid4())


def refused(schema, data, field, partial=False):
    with pytest.raises(InvalidInput) as caught:
        load(schema, data, partial=partial, today=TODAY)
    assert field in caught.value.errors, caught.value.errors
    return caught.value.errors[field]


def accepted(schema, data, partial=False):
    return load(schema, data, partial=partial, today=TODAY)


def employer(**changes):
    return {
        "name": "某物流有限公司",
        "county_code": "652301",
        "industry": "logistics",
        "contact_phone": "13899123456",
        **changes,
    }


def posting(**changes):
    return {
        "employer_id": ID,
        "title": "货车司机",
        "occupation": "driver",
        "county_code": "652301",
        "salary_min": 5000,
        "salary_max": 7000,
        "openings": 2,
        "closes_on": "2027-01-31",
        **changes,
    }


def fair(**changes):
    return {
        "title": "退役军人专场招聘会",
        "county_code": "652301",
        "mode": "offline",
        "venue": "昌吉市人力资源市场",
        "starts_at": "2026-12-20T10:00:00+08:00",
        **changes,
    }


# -- dates ------------------------------------------------------------------------------
def test_the_fair_dated_9999_is_refused_and_a_normal_one_accepted():
    message = refused(jobs.FAIR_INPUT, fair(starts_at="9999-12-31T23:59:59-14:00"), "starts_at")
    assert message == ["must be between 2025-12-07 and 2028-12-07"]
    assert accepted(jobs.FAIR_INPUT, fair())["starts_at"].year == 2026


@pytest.mark.parametrize(
    "window, low, high",
    [
        (within_years(future=1), "1950-01-01", "2027-12-07"),
        (within_years(future=5, past=1), "2025-12-07", "2031-12-07"),
        (within_years(future=2, past=1), "2025-12-07", "2028-12-07"),
    ],
)
def test_a_window_takes_both_bounds_and_nothing_beyond(window, low, high):
    from marshmallow import ValidationError

    from shared.validation import checking_on

    low, high = dt.date.fromisoformat(low), dt.date.fromisoformat(high)
    with checking_on(TODAY):
        window(low), window(high)
        window(dt.datetime.combine(high, dt.time(23, 59), dt.timezone(dt.timedelta(hours=-14))))
        for outside in (low - dt.timedelta(days=1), high + dt.timedelta(days=1)):
            with pytest.raises(ValidationError):
                window(outside)


def test_the_window_moves_with_the_day_of_the_load_and_knows_29_february():
    assert add_years(dt.date(2028, 2, 29), 1) == dt.date(2029, 2, 28)
    data = fair(starts_at="2029-06-01T09:00:00+08:00")
    refused(jobs.FAIR_INPUT, data, "starts_at")
    assert load(jobs.FAIR_INPUT, data, today=dt.date(2028, 1, 1))


FAR_FUTURE, FAR_PAST = "9999-12-31", "1900-01-01"
DATED = [  # (schema, a good payload, the date field, partial)
    (registry.RegisterVeteranSchema(), make_veteran(), "discharged_on", False),
    (
        registry.RegisterVeteranSchema(),
        make_veteran(discharged_on="2026-12-05"),
        "enlisted_on",
        False,
    ),
    (registry.RegisterVeteranSchema(), make_veteran(), "employed_since", False),
    (registry.UpdateVeteranSchema(), {}, "discharged_on", True),
    (enterprises.RegisterEnterpriseSchema(), {}, "founded_on", True),
    (jobs.POST_INPUT, posting(), "closes_on", False),
    (jobs.HIRE_INPUT, {"started_on": "2026-12-01", "salary": 5500}, "started_on", False),
    (loans.DISBURSE_INPUT, {"disbursed_on": "2026-12-01"}, "disbursed_on", False),
    (loans.REPAYMENT_INPUT, {"amount": "100.00", "paid_on": "2026-12-01"}, "paid_on", False),
    (
        training.COHORT_INPUT,
        {"starts_on": "2026-12-10", "ends_on": "2026-12-30", "capacity": 30},
        "starts_on",
        False,
    ),
    (
        training.COHORT_INPUT,
        {"starts_on": "2026-12-10", "ends_on": "2026-12-30", "capacity": 30},
        "ends_on",
        False,
    ),
    (
        followup.COMPLETE_INPUT,
        {"contacted_on": "2026-12-01", "outcome": "employed_same"},
        "contacted_on",
        False,
    ),
    (followup.FILTERS_INPUT, {}, "due_before", False),
    (followup.WORKLIST_INPUT, {"county_code": "652301"}, "as_of", False),
]


@pytest.mark.parametrize(
    "schema, good, field, partial", DATED, ids=[f"{type(s).__name__}.{f}" for s, _, f, _ in DATED]
)
def test_every_date_input_is_refused_far_ahead_and_far_back(schema, good, field, partial):
    for outside in (FAR_FUTURE, FAR_PAST):
        assert refused(schema, {**good, field: outside}, field, partial)
    accepted(schema, {**good, field: "2026-12-01" if field != "ends_on" else "2026-12-30"}, partial)


def test_the_consent_date_and_the_audit_filters_have_windows_too():
    consent = make_veteran(consent={"given_on": FAR_FUTURE, "scope": ["employment_services"]})
    with pytest.raises(InvalidInput) as caught:
        load(registry.RegisterVeteranSchema(), consent, today=TODAY)
    assert "consent.given_on" in caught.value.errors
    for field in ("since", "until"):
        refused(registry.AuditQuerySchema(), {field: "9999-12-31T23:59:59-14:00"}, field)


def test_the_existing_date_rules_still_hold_inside_the_window():
    soon = make_veteran(discharged_on="2027-01-01")
    assert refused(registry.RegisterVeteranSchema(), soon, "discharged_on") == ["is in the future"]
    assert refused(
        training.COHORT_INPUT,
        {"starts_on": "2026-12-30", "ends_on": "2026-12-10", "capacity": 3},
        "ends_on",
    ) == ["is before starts_on"]


# -- mobile numbers ---------------------------------------------------------------------
BAD_PHONES = [
    "１３８９９１２３４５６",
    "138９９１２３４５６",  # full-width digits
    "١٣٨٩٩١٢٣٤٥٦",
    "13899123٤٥٦",  # Arabic-Indic digits
    "13899123456\n",  # a trailing newline ($ matched before it)
    "+8613899123456",
    "008613899123456",  # +86 / 0086: stored without it
    "138-9912-3456",
    "138 9912 3456",
    " 13899123456",
    "1389912345",
    "138991234567",
    "12899123456",
    "1389912345６",
]


@pytest.mark.parametrize("phone", BAD_PHONES)
def test_a_phone_is_eleven_ascii_digits_and_nothing_else(phone):
    refused(registry.RegisterVeteranSchema(), make_veteran(phone=phone), "phone")
    refused(jobs.EMPLOYER_INPUT, employer(contact_phone=phone), "contact_phone")
    invalid, commands = validate_rows([make_veteran(phone=phone)], lambda county: True, TODAY)
    assert "phone" in invalid[0]["errors"] and not commands  # the bulk import's rows


def test_a_mainland_mobile_number_is_accepted_everywhere():
    assert accepted(registry.RegisterVeteranSchema(), make_veteran(phone="19912345678"))["phone"]
    assert accepted(jobs.EMPLOYER_INPUT, employer())["contact_phone"] == "13899123456"
    MOBILE("13000000000")


# -- whole numbers ----------------------------------------------------------------------
NOT_WHOLE = [1.5, 4000.0, "12", "4000", True, False]
INTEGERS = [  # (schema, a good payload, the integer field, partial)
    (registry.RegisterVeteranSchema(), make_veteran(), "intentions.min_salary", False),
    (jobs.SEARCH_INPUT, {}, "min_salary", False),
    (jobs.POST_INPUT, posting(), "salary_min", False),
    (jobs.POST_INPUT, posting(), "openings", False),
    (jobs.HIRE_INPUT, {"started_on": "2026-12-01", "salary": 5500}, "salary", False),
    (jobs.LIMIT_INPUT, {"limit": 10}, "limit", False),
    (
        loans.APPLY_INPUT,
        {
            "veteran_id": ID,
            "product_code": "yongjun_chuangye",
            "amount": "1000.00",
            "term_months": 24,
            "purpose": "开店",
        },
        "term_months",
        False,
    ),
    (
        training.COHORT_INPUT,
        {"starts_on": "2026-12-10", "ends_on": "2026-12-30", "capacity": 30},
        "capacity",
        False,
    ),
    (training.RESULT_INPUT, {"theory_score": 80, "practical_score": 90}, "theory_score", False),
    (
        followup.COMPLETE_INPUT,
        {"contacted_on": "2026-12-01", "outcome": "employed_same"},
        "veteran_satisfaction",
        False,
    ),
    (enterprises.RegisterEnterpriseSchema(), {}, "employees", True),
    (registry.AuditQuerySchema(), {}, "page", False),
    (registry.AuditQuerySchema(), {}, "page_size", False),
]


def _with(data, field, value):
    data = {**data}
    if "." in field:
        outer, inner = field.split(".")
        data[outer] = {**data[outer], inner: value}
    else:
        data[field] = value
    return data


@pytest.mark.parametrize(
    "schema, good, field, partial",
    INTEGERS,
    ids=[f"{type(s).__name__}.{f}" for s, _, f, _ in INTEGERS],
)
def test_an_integer_input_takes_only_a_json_integer(schema, good, field, partial):
    for value in NOT_WHOLE:
        assert refused(schema, _with(good, field, value), field, partial) == [
            "Not a valid integer."
        ], value
    loaded = accepted(schema, _with(good, field, 5), partial)
    outer, _, inner = field.partition(".")
    assert (loaded[outer][inner] if inner else loaded[outer]) == 5


@pytest.mark.parametrize(
    "raw", [" 12", "12 ", "1_000", "１２", "1.5", "+5", "-1", "", "1e3", True, 1.5, "9" * 20]
)
def test_the_bureau_query_numbers_are_ascii_digits_only(raw):
    refused(jobs.PLACEMENTS_INPUT, {"since": raw}, "since")


def test_the_bureau_query_numbers_come_as_strings_or_integers():
    assert accepted(jobs.PLACEMENTS_INPUT, {"since": "120", "limit": "5"}) == {
        "since": 120,
        "limit": 5,
    }
    assert accepted(jobs.PLACEMENTS_INPUT, {}) == {"since": 0, "limit": 100}
    assert isinstance(QueryInteger(), type(jobs.PLACEMENTS_INPUT.fields["limit"]))
