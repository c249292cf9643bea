"""loans: tax relief computed by the rules on the real servers: entitlements from
registry's and jobs' events, records within what is left (and one past it: Conflict,
nothing written), eight concurrent records for one subject-year, county scope, and jobs'
hire carrying its contract and insurance to loans over the bus."""

import datetime as dt
import uuid
from decimal import Decimal

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.jobs.service import JobsService
from services.loans.service import LoansService
from shared.errors import Conflict, InvalidInput, NotFound
from tests.conftest import token
from tests.helpers import bureau_today, envelope, publish, registered_event, scalar, wait_for


@pytest.fixture
def veteran(loans, config):
    """``veteran(**facts)``: a veteran loans knows (placed 自主就业 unless told)."""

    def make(**facts):
        event = registered_event(**facts)
        with entrypoint_waiter(loans, "on_registry_events", timeout=15):
            publish(config, event)
        return event["data"]["veteran_id"]

    return make


@pytest.fixture
def business(loans, config):
    """``business(founder, founded_on, **facts)``: an enterprise registered in the booklet
    (an individual business unless told), as registry announces it; returns its id."""

    def make(founder, founded_on, **facts):
        data = {
            "enterprise_id": str(uuid.uuid4()),
            "kind": "individual_business",
            "county_code": "652301",
            "industry": "catering",
            "stage": "operating",
            "founder_ids": [founder],
            "founded_on": founded_on,
            **facts,
        }
        with entrypoint_waiter(loans, "on_registry_events", timeout=15):
            publish(config, envelope("registry", "enterprise_registered", **data))
        return data["enterprise_id"]

    return make


@pytest.fixture
def hired(loans, config):
    """``hired(veteran, employer, started_on, **terms)``: jobs' veteran_hired on the bus."""

    def make(veteran_id, employer_id, started_on, county_code="652301", **terms):
        data = {
            "application_id": str(uuid.uuid4()),
            "veteran_id": veteran_id,
            "posting_id": str(uuid.uuid4()),
            "employer_id": employer_id,
            "employer_name": "昌吉市顺达物流有限公司",
            "county_code": county_code,
            "started_on": started_on,
            "salary": 5000,
            "channel": "referral",
            "contract_months": 24,
            "social_insurance": True,
            "insured_from": None,
            **terms,
        }
        with entrypoint_waiter(loans, "on_veteran_hired", timeout=15):
            publish(config, envelope("jobs", "veteran_hired", **data), source="jobs")
        return data["application_id"]

    return make


def relief(subject, year=2026, amount="1000.00", tax_due="5000.00", **more):
    return {**subject, "tax_year": year, "amount": amount, "tax_due": tax_due, **more}


def test_a_self_employed_veterans_entitlement_comes_from_the_booklet(
    loans, clock, veteran, business, rpc
):
    vid = veteran()
    business(vid, "2025-05-10")
    got = rpc.loans.tax_relief_entitlement({"veteran_id": vid}, 2025)
    assert (got["eligible"], got["cap"], got["months"], got["remaining"]) == (
        True,
        "13333.33",
        8,
        "13333.33",
    )
    assert [p["id"] for p in got["policy"]] == ["tax-se-2023"] and got["policy"][0]["unverified"]
    assert {c["code"] for c in got["criteria"]} == {
        "placement_self_employment",
        "individual_business_registered",
        "within_36_months",
        "policy_in_force",
    }
    assert rpc.loans.tax_relief_entitlement({"veteran_id": vid}, 2026)["cap"] == "20000.00"


def test_a_veteran_placed_otherwise_or_without_a_business_gets_none_with_reasons(
    loans, clock, veteran, business, rpc
):
    assigned = veteran(discharge_type="job_assignment")
    business(assigned, "2025-05-10")
    got = rpc.loans.tax_relief_entitlement({"veteran_id": assigned}, 2026)
    failed = [c["code"] for c in got["criteria"] if not c["passed"]]
    assert (
        got["eligible"] is False
        and got["cap"] == "0.00"
        and failed == ["placement_self_employment"]
    )
    alone = veteran()
    failed = [
        c["code"]
        for c in rpc.loans.tax_relief_entitlement({"veteran_id": alone}, 2026)["criteria"]
        if not c["passed"]
    ]
    assert failed == ["individual_business_registered"]


def test_a_record_within_what_is_left_and_one_past_it(loans, clock, veteran, business, rpc, db):
    vid = veteran()
    business(vid, "2025-05-10")
    recorded = rpc.loans.record_tax_relief(
        relief({"veteran_id": vid}, amount="15000.00", tax_due="16000.00", note="2026年度")
    )
    assert recorded["amount"] == "15000.00" and recorded["remaining"] == "5000.00"
    assert recorded["policy_ids"] == ["tax-se-2023"]
    with pytest.raises(Conflict) as past:
        rpc.loans.record_tax_relief(
            relief({"veteran_id": vid}, amount="5000.01", tax_due="9000.00")
        )
    assert past.value.details == {"remaining": "5000.00", "tax_due": "9000.00"}
    with pytest.raises(InvalidInput) as over_due:
        rpc.loans.record_tax_relief(relief({"veteran_id": vid}, amount="300.00", tax_due="200.00"))
    assert "amount" in over_due.value.errors
    with pytest.raises(InvalidInput) as free_text:
        rpc.loans.record_tax_relief(relief({"veteran_id": vid}, policy="财税〔2019〕21号"))
    assert "policy_ids" in free_text.value.errors["policy"][0]
    assert scalar(db, "SELECT count(*) FROM loans.tax_reliefs") == 1
    assert rpc.loans.tax_relief_entitlement({"veteran_id": vid}, 2026)["used"] == "15000.00"

    with db.cursor() as cur:
        cur.execute(
            "SELECT body->'data' FROM loans.outbox WHERE routing_key = 'tax_relief_recorded'"
        )
        [(data,)] = cur.fetchall()
    assert data == {
        "tax_relief_id": recorded["id"],
        "veteran_id": vid,
        "enterprise_id": None,
        "employer_id": None,
        "tax_year": 2026,
        "amount": "15000.00",
        "policy_ids": ["tax-se-2023"],
    }
    assert rpc.loans.stats("652301")["tax_relief_total"] == "15000.00"


def test_eight_concurrent_records_never_pass_the_entitlement(
    loans, clock, veteran, business, config, admin_token, db
):
    vid = veteran()
    business(vid, "2025-05-10")  # 2026: 20,000
    outcomes = []

    def record():
        with ClusterRpcProxy(config, timeout=30, context_data={"auth_token": admin_token}) as p:
            try:
                p.loans.record_tax_relief(relief({"veteran_id": vid}, amount="3000.00"))
                outcomes.append("recorded")
            except Conflict:
                outcomes.append("conflict")

    threads = [eventlet.spawn(record) for _ in range(8)]
    for thread in threads:
        thread.wait()
    assert sorted(outcomes) == ["conflict"] * 2 + ["recorded"] * 6
    total = scalar(db, "SELECT sum(amount) FROM loans.tax_reliefs WHERE veteran_id = %s", vid)
    assert total == Decimal("18000.00")


def test_an_employer_hiring_two_veterans_in_october(loans, clock, veteran, hired, rpc, db):
    employer = str(uuid.uuid4())
    first, second, short, uninsured = veteran(), veteran(), veteran(), veteran()
    hired(first, employer, "2026-10-08")
    hired(second, employer, "2026-10-20")
    short_hire = hired(short, employer, "2026-10-01", contract_months=6)
    hired(uninsured, employer, "2026-10-01", social_insurance=False)
    got = rpc.loans.tax_relief_entitlement({"employer_id": employer}, 2026)
    assert (got["eligible"], got["cap"], got["months"]) == (True, "3000.00", 6)
    assert got["policy"][0]["id"] == "tax-emp-2023"
    failed = {h["hire_id"]: h["failed"] for h in got["per_hire"] if not h["qualifies"]}
    assert failed[short_hire] == ["contract_at_least_a_year"]
    assert sorted(failed.values()) == [["contract_at_least_a_year"], ["social_insurance"]]
    assert scalar(db, "SELECT count(*) FROM loans.hires WHERE employer_id = %s", employer) == 4

    recorded = rpc.loans.record_tax_relief(
        relief({"employer_id": employer}, amount="3000.00", tax_due="4200.00")
    )
    assert recorded["employer_id"] == employer and recorded["remaining"] == "0.00"
    with pytest.raises(Conflict):
        rpc.loans.record_tax_relief(relief({"employer_id": employer}, amount="0.01"))


def test_an_individual_business_has_its_founders_relief_and_another_kind_none(
    loans, clock, veteran, business, rpc
):
    vid = veteran()
    shop = business(vid, "2025-05-10")
    company = business(vid, "2024-01-01", kind="enterprise")
    got = rpc.loans.tax_relief_entitlement({"enterprise_id": shop}, 2025)
    assert (got["eligible"], got["cap"]) == (True, "13333.33")
    rpc.loans.record_tax_relief(
        relief({"enterprise_id": shop}, year=2025, amount="10000.00", tax_due="12000.00")
    )
    # The cap is the household's: the business's record counts against the veteran too.
    mine = rpc.loans.tax_relief_entitlement({"veteran_id": vid}, 2025)
    assert (mine["used"], mine["remaining"]) == ("10000.00", "3333.33")
    with pytest.raises(Conflict):
        rpc.loans.record_tax_relief(relief({"veteran_id": vid}, year=2025, amount="3333.34"))
    other = rpc.loans.tax_relief_entitlement({"enterprise_id": company}, 2025)
    assert other["eligible"] is False and "employer_id" in other["note"]


def test_another_countys_subjects_are_unknown_to_a_county_clerk(
    loans, clock, veteran, business, hired, rpc_as, db
):
    vid = veteran(county_code="652302")
    shop = business(vid, "2025-05-10", county_code="652302")
    employer = str(uuid.uuid4())
    hired(vid, employer, "2026-10-08", county_code="652302")
    with rpc_as(token("county", ["652301"])) as clerk:
        for subject in ({"veteran_id": vid}, {"enterprise_id": shop}, {"employer_id": employer}):
            with pytest.raises(NotFound):
                clerk.loans.tax_relief_entitlement(subject, 2026)
            with pytest.raises(NotFound):
                clerk.loans.record_tax_relief(relief(subject))
    with rpc_as(token("county", ["652302"])) as own:
        assert own.loans.tax_relief_entitlement({"veteran_id": vid}, 2026)["cap"] == "20000.00"
    assert scalar(db, "SELECT count(*) FROM loans.tax_reliefs") == 0


def test_a_duplicate_hire_event_has_one_effect(loans, clock, veteran, config, db):
    vid, employer = veteran(), str(uuid.uuid4())
    event = envelope(
        "jobs",
        "veteran_hired",
        application_id=str(uuid.uuid4()),
        veteran_id=vid,
        posting_id=str(uuid.uuid4()),
        employer_id=employer,
        county_code="652301",
        started_on="2026-10-01",
        salary=5000,
        channel="referral",
    )  # an event from before issue 20: no contract terms
    for _ in range(2):
        publish(config, event, source="jobs")
    wait_for(lambda: scalar(db, "SELECT count(*) FROM loans.hires"), message="loans' hires")
    eventlet.sleep(0.5)
    with db.cursor() as cur:
        cur.execute("SELECT contract_months, social_insurance, insured_from FROM loans.hires")
        assert cur.fetchall() == [(None, False, None)]
    assert (
        scalar(
            db,
            "SELECT count(*) FROM loans.inbox WHERE event_id = %s",
            event["event_id"],
        )
        == 1
    )


def test_jobs_hire_carries_its_terms_to_loans_over_the_bus(start, config, rpc, db):
    start(JobsService, LoansService)
    employer = rpc.jobs.register_employer(
        {
            "name": "昌吉市顺达物流有限公司",
            "uscc": "91652301MA78K2Q5X3",
            "county_code": "652301",
            "industry": "logistics",
        }
    )
    vet = registered_event(willingness="job")
    publish(config, vet)
    vid = vet["data"]["veteran_id"]
    wait_for(
        lambda: (
            scalar(db, "SELECT count(*) FROM jobs.veterans WHERE veteran_id = %s", vid)
            and scalar(db, "SELECT count(*) FROM loans.veterans WHERE veteran_id = %s", vid)
        ),
        message="both projections",
    )
    today = bureau_today()
    posting = rpc.jobs.post_job(
        {
            "employer_id": employer["id"],
            "title": "货车司机",
            "occupation": "driver",
            "skills_required": ["driver_b2"],
            "county_code": "652301",
            "salary_min": 5000,
            "salary_max": 7000,
            "openings": 1,
            "closes_on": (today + dt.timedelta(days=60)).isoformat(),
        }
    )
    application = rpc.jobs.apply(
        {"veteran_id": vid, "posting_id": posting["id"], "channel": "referral"}
    )
    rpc.jobs.advance_application(application["id"], "offered")
    started = today.isoformat()
    rpc.jobs.hire(
        application["id"],
        {"started_on": started, "salary": 5500, "contract_months": 36, "social_insurance": True},
    )
    wait_for(
        lambda: scalar(
            db, "SELECT count(*) FROM loans.hires WHERE hire_id = %s", application["id"]
        ),
        message="loans' hire",
    )
    with db.cursor() as cur:
        cur.execute("SELECT employer_id::text, contract_months, social_insurance FROM loans.hires")
        assert cur.fetchall() == [(employer["id"], 36, True)]
    got = rpc.loans.tax_relief_entitlement({"employer_id": employer["id"]}, today.year)
    months = 12 - today.month + 1
    assert got["months"] == months
    assert Decimal(got["cap"]) == (Decimal(6000) * months / 12).quantize(Decimal("0.01"))
