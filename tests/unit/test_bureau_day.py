"""The bureau's day at the hours a machine's calendar gets it wrong: 16:30 and 23:30 UTC
(already tomorrow in Beijing), 00:30 Beijing (still yesterday in UTC), and 23:30 Beijing
(the same day in both) as the control. Each date rule is run with the clock frozen there,
on New Year's Eve, so a rule that read the UTC date (or the year) would get it wrong."""

import datetime as dt
from unittest.mock import MagicMock

import pytest
from nameko.testing.services import worker_factory

from services.jobs.domain import Employer
from services.jobs.service import JobsService
from services.loans import schemas as loan_schemas
from services.registry.service import RegistryService
from services.training.service import TrainingService
from shared.auth import Caller, Operator
from shared.clock import UTC, FrozenClock, SystemClock, zone
from shared.errors import InvalidInput
from shared.validation import load
from tests.factories import make_veteran
from tests.unit.registry.fakes import FakeRegistryStore

BEIJING = dt.timezone(dt.timedelta(hours=8))
NEW_YEAR = dt.date(2027, 1, 1)
INSTANTS = {  # → the bureau's date there
    "16:30 UTC": (dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC), NEW_YEAR),
    "23:30 UTC": (dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC), NEW_YEAR),
    "00:30 Beijing": (dt.datetime(2027, 1, 1, 0, 30, tzinfo=BEIJING), NEW_YEAR),
    "23:30 Beijing": (dt.datetime(2026, 12, 31, 23, 30, tzinfo=BEIJING), dt.date(2026, 12, 31)),
}
CLERK = Caller(Operator("op-1", "clerk", "county", ("652301",)))


@pytest.fixture(params=sorted(INSTANTS))
def moment(request):
    """(frozen clock, the bureau's date then)."""
    at, day = INSTANTS[request.param]
    return FrozenClock(at), day


def day_after(day):
    return (day + dt.timedelta(days=1)).isoformat()


def test_the_clock_tells_the_bureaus_date_not_utcs(moment):
    clock, day = moment
    assert clock.today() == day
    assert clock.now().tzinfo == UTC and clock.local_now().date() == day


def test_the_zone_is_configurable_and_an_unknown_one_is_refused(monkeypatch):
    at = dt.datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 23:30 in Urumqi, 01:30 in Beijing
    assert FrozenClock(at, "Asia/Urumqi").today() == dt.date(2026, 12, 31)
    assert FrozenClock(at).today() == NEW_YEAR
    monkeypatch.setenv("BUREAU_TIMEZONE", "Asia/Urumqi")
    assert SystemClock().tz == zone("Asia/Urumqi")
    with pytest.raises(ValueError, match="BUREAU_TIMEZONE"):
        zone("Mars/Olympus_Mons")


def test_registry_takes_a_discharge_dated_the_bureaus_today_and_refuses_tomorrow(moment):
    clock, day = moment
    service = worker_factory(RegistryService, store=FakeRegistryStore(), clock=clock, auth=CLERK)
    reply = service.register_veteran(make_veteran(discharged_on=day.isoformat()))
    assert reply["discharged_on"] == day.isoformat()
    with pytest.raises(InvalidInput) as caught:
        service.register_veteran(make_veteran(discharged_on=day_after(day)))
    assert caught.value.errors == {"discharged_on": ["is in the future"]}


def test_bulk_rows_are_checked_against_the_same_day(moment):
    clock, day = moment
    service = worker_factory(RegistryService, store=MagicMock(), clock=clock, auth=CLERK)
    service.store.holders.return_value = set()
    service.store.add_veterans.return_value = set()
    service.store.possible_duplicates_many.return_value = {}
    results = service.register_veterans([make_veteran(discharged_on=day_after(day))])["results"]
    assert results[0]["errors"] == {"discharged_on": ["is in the future"]}


def test_the_tax_year_may_be_next_year_of_the_bureaus_calendar(moment):
    clock, day = moment
    data = {
        "veteran_id": "7cc34789-4e34-48be-8a8b-4a956bdf8b5e",
        "amount": "100.00",
        "tax_due": "300.00",
    }
    got = load(
        loan_schemas.TAX_RELIEF_INPUT, {**data, "tax_year": day.year + 1}, today=clock.today()
    )
    assert got["tax_year"] == day.year + 1
    with pytest.raises(InvalidInput) as caught:
        load(loan_schemas.TAX_RELIEF_INPUT, {**data, "tax_year": day.year + 2}, today=clock.today())
    assert list(caught.value.errors) == ["tax_year"]


def test_a_posting_may_close_on_the_bureaus_today_but_not_the_day_before(moment):
    clock, day = moment
    service = worker_factory(JobsService, clock=clock, auth=CLERK)
    service.store.get_employer.return_value = Employer(
        id="e1",
        name="昌吉市顺达物流有限公司",
        uscc=None,
        county_code="652301",
        industry="logistics",
        created_at=clock.now(),
    )
    posting = {
        "employer_id": "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa",
        "title": "驾驶员",
        "occupation": "driver",
        "county_code": "652301",
        "salary_min": 4000,
        "salary_max": 6000,
        "openings": 2,
    }
    with pytest.raises(InvalidInput) as caught:
        service.post_job({**posting, "closes_on": (day - dt.timedelta(days=1)).isoformat()})
    assert list(caught.value.errors) == ["closes_on"]
    reply = service.post_job({**posting, "closes_on": day.isoformat()})
    assert reply["closes_on"] == day.isoformat()
    assert service.store.add_posting.call_count == 1


def test_a_cohort_may_start_on_the_bureaus_today_but_not_the_day_before(moment):
    clock, day = moment
    service = worker_factory(TrainingService, clock=clock, auth=CLERK)
    service.store.course.return_value = MagicMock(id="c1", county_code="652301")
    # the cohort is read back as it was added
    service.store.cohort.side_effect = lambda _: service.store.add_cohort.call_args.args[0]
    cohort = {"ends_on": day_after(day), "capacity": 10}
    with pytest.raises(InvalidInput) as caught:
        service.open_cohort(
            "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa",
            {**cohort, "starts_on": (day - dt.timedelta(days=1)).isoformat()},
        )
    assert list(caught.value.errors) == ["starts_on"]
    service.open_cohort(
        "5b0c5d0e-1d2b-4f7e-9a51-3c8a43c7e0aa", {**cohort, "starts_on": day.isoformat()}
    )
    assert service.store.add_cohort.call_count == 1
