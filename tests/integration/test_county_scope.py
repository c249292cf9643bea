"""No existence oracles across counties (issue 17, item 2; docs/architecture.md, "Privacy:
county scope"): to a county operator, another county's record and a record that does not
exist are answered alike by every RPC that takes a record id, no message names a county
outside the operator's token, conflicts and duplicate hints name no card the operator may
not see, and another county's fair or course shows no figures. Prefecture operators see
everything."""

import json
import uuid
from datetime import timedelta

import pytest

from services.followup.service import FollowupService
from services.jobs.service import JobsService
from services.loans.service import LoansService
from services.registry.service import RegistryService
from services.training.service import TrainingService
from shared.errors import Conflict, NotFound, ServiceError
from shared.jurisdiction import Jurisdiction
from tests.conftest import token
from tests.factories import make_veteran
from tests.helpers import bureau_now, bureau_today, scalar, wait_for
from tests.integration.registry.enterprises.booklets import make_enterprise, valid_uscc

OWN, OTHER = "652301", "652302"
CLERK = token("county", [OWN], operator="clerk-652301")
PREFECTURE = token("prefecture", ["*"], operator="prefecture-staff")
ALL_SERVICES = (RegistryService, JobsService, LoansService, TrainingService, FollowupService)


def day(days):
    return (bureau_today() + timedelta(days=days)).isoformat()


def posting_data(employer_id, county=OWN):
    return {
        "employer_id": employer_id,
        "title": "货车司机",
        "occupation": "driver",
        "county_code": county,
        "salary_min": 5000,
        "salary_max": 7000,
        "openings": 2,
        "closes_on": day(30),
    }


def fair_data(county=OWN, **more):
    return {
        "title": "退役军人专场招聘会",
        "county_code": county,
        "starts_at": (bureau_now() + timedelta(days=10)).isoformat(),
        "mode": "offline",
        "venue": "人力资源市场",
        **more,
    }


# -- the table: every RPC that takes a record id, and how to call it ------------------------
# (service, method, parameter) → a call of the clerk's proxy with ``x`` in that parameter,
# ``w`` the world below. Every other argument is valid, so that what is answered depends on
# ``x`` alone: another county's real id, or an id nobody holds.
def _scores():
    return {"theory_score": 80, "practical_score": 80}


TABLE = {
    # registry
    ("registry", "get_veteran", "veteran_id"): lambda p, w, x: p.registry.get_veteran(x),
    ("registry", "update_veteran", "veteran_id"): lambda p, w, x: p.registry.update_veteran(
        x, {"notes": "核实"}
    ),
    ("registry", "get_card", "veteran_id"): lambda p, w, x: p.registry.get_card(x),
    ("registry", "reveal_id_number", "veteran_id"): lambda p, w, x: p.registry.reveal_id_number(
        x, "checking a document"
    ),
    ("registry", "reveal_preferential_card", "veteran_id"): lambda p, w, x: (
        p.registry.reveal_preferential_card(x, "checking a document")
    ),
    ("registry", "verify_veteran", "veteran_id"): lambda p, w, x: p.registry.verify_veteran(x),
    ("registry", "get_enterprise", "enterprise_id"): lambda p, w, x: p.registry.get_enterprise(x),
    ("registry", "update_enterprise", "enterprise_id"): lambda p, w, x: (
        p.registry.update_enterprise(x, {"stage": "operating"})
    ),
    ("registry", "get_booklet", "enterprise_id"): lambda p, w, x: p.registry.get_booklet(x),
    ("registry", "register_enterprise", "data.founder_ids"): lambda p, w, x: (
        p.registry.register_enterprise(make_enterprise([x]))
    ),
    ("registry", "search_enterprises", "filters.founder_id"): lambda p, w, x: (
        p.registry.search_enterprises({"founder_id": x})
    ),
    # jobs
    ("jobs", "get_employer", "employer_id"): lambda p, w, x: p.jobs.get_employer(x),
    ("jobs", "post_job", "data.employer_id"): lambda p, w, x: p.jobs.post_job(posting_data(x)),
    ("jobs", "schedule_fair", "data.employer_ids"): lambda p, w, x: p.jobs.schedule_fair(
        fair_data(employer_ids=[x])
    ),
    ("jobs", "close_job", "posting_id"): lambda p, w, x: p.jobs.close_job(x, "withdrawn"),
    ("jobs", "get_fair", "fair_id"): lambda p, w, x: p.jobs.get_fair(x),
    ("jobs", "match_jobs", "veteran_id"): lambda p, w, x: p.jobs.match_jobs(x),
    ("jobs", "recommendations_for", "veteran_id"): lambda p, w, x: p.jobs.recommendations_for(x),
    ("jobs", "register_for_fair", "veteran_id"): lambda p, w, x: p.jobs.register_for_fair(
        w["fair"], x
    ),
    ("jobs", "apply", "data.veteran_id"): lambda p, w, x: p.jobs.apply(
        {"veteran_id": x, "posting_id": w["posting"], "channel": "referral"}
    ),
    ("jobs", "advance_application", "application_id"): lambda p, w, x: p.jobs.advance_application(
        x, "interviewing"
    ),
    ("jobs", "hire", "application_id"): lambda p, w, x: p.jobs.hire(
        x, {"started_on": day(1), "salary": 5000}
    ),
    ("jobs", "applications_for", "veteran_id"): lambda p, w, x: p.jobs.applications_for(x),
    # loans
    ("loans", "check_eligibility", "veteran_id"): lambda p, w, x: p.loans.check_eligibility(
        x, "yongjun_chuangye"
    ),
    ("loans", "get_eligibility", "veteran_id"): lambda p, w, x: p.loans.get_eligibility(x),
    ("loans", "apply_loan", "data.veteran_id"): lambda p, w, x: p.loans.apply_loan(
        {
            "veteran_id": x,
            "product_code": "yongjun_chuangye",
            "amount": "50000.00",
            "term_months": 24,
            "purpose": "开办物流店",
        }
    ),
    ("loans", "approve_loan", "loan_id"): lambda p, w, x: p.loans.approve_loan(x, {}),
    ("loans", "reject_loan", "loan_id"): lambda p, w, x: p.loans.reject_loan(x, "资料不全"),
    ("loans", "withdraw_loan", "loan_id"): lambda p, w, x: p.loans.withdraw_loan(x),
    ("loans", "disburse_loan", "loan_id"): lambda p, w, x: p.loans.disburse_loan(
        x, {"disbursed_on": day(0)}
    ),
    ("loans", "record_repayment", "loan_id"): lambda p, w, x: p.loans.record_repayment(
        x, {"amount": "100.00", "paid_on": day(0)}
    ),
    ("loans", "extend_loan", "loan_id"): lambda p, w, x: p.loans.extend_loan(
        x, {"extra_months": 6}
    ),
    ("loans", "write_off_loan", "loan_id"): lambda p, w, x: p.loans.write_off_loan(x, "无法收回"),
    ("loans", "get_loan", "loan_id"): lambda p, w, x: p.loans.get_loan(x),
    # the referral workflow (services/loans/referral.py)
    ("loans", "refer_loan", "loan_id"): lambda p, w, x: p.loans.refer_loan(
        x, {"bank_code": "demo_bank_a"}
    ),
    ("loans", "record_bank_decision", "loan_id"): lambda p, w, x: p.loans.record_bank_decision(
        x, {"outcome": "rejected", "reason": "资料不全"}
    ),
    ("loans", "record_bank_disbursement", "loan_id"): lambda p, w, x: (
        p.loans.record_bank_disbursement(x, {"disbursed_on": day(0)})
    ),
    ("loans", "record_bank_repayment", "loan_id"): lambda p, w, x: p.loans.record_bank_repayment(
        x, {"amount": "100.00", "paid_on": day(0)}
    ),
    ("loans", "record_bank_revisit", "loan_id"): lambda p, w, x: p.loans.record_bank_revisit(
        x, {"visited_on": day(0), "outcome": "operating"}
    ),
    ("loans", "loan_revisits", "loan_id"): lambda p, w, x: p.loans.loan_revisits(x),
    ("loans", "loans_for", "veteran_id"): lambda p, w, x: p.loans.loans_for(x),
    ("loans", "grant_subsidy", "data.veteran_id"): lambda p, w, x: p.loans.grant_subsidy(
        {"veteran_id": x, "kind": "startup", "amount": "1000.00", "period": "2026"}
    ),
    ("loans", "grant_subsidy", "data.enterprise_id"): lambda p, w, x: p.loans.grant_subsidy(
        {"enterprise_id": x, "kind": "startup", "amount": "1000.00", "period": "2026"}
    ),
    ("loans", "record_tax_relief", "data.veteran_id"): lambda p, w, x: p.loans.record_tax_relief(
        {"veteran_id": x, "tax_year": 2026, "amount": "1000.00", "tax_due": "1000.00"}
    ),
    ("loans", "record_tax_relief", "data.enterprise_id"): lambda p, w, x: p.loans.record_tax_relief(
        {"enterprise_id": x, "tax_year": 2026, "amount": "1000.00", "tax_due": "1000.00"}
    ),
    ("loans", "record_tax_relief", "data.employer_id"): lambda p, w, x: p.loans.record_tax_relief(
        {"employer_id": x, "tax_year": 2026, "amount": "1000.00", "tax_due": "1000.00"}
    ),
    ("loans", "tax_relief_entitlement", "subject.veteran_id"): lambda p, w, x: (
        p.loans.tax_relief_entitlement({"veteran_id": x}, 2026)
    ),
    ("loans", "tax_relief_entitlement", "subject.enterprise_id"): lambda p, w, x: (
        p.loans.tax_relief_entitlement({"enterprise_id": x}, 2026)
    ),
    ("loans", "tax_relief_entitlement", "subject.employer_id"): lambda p, w, x: (
        p.loans.tax_relief_entitlement({"employer_id": x}, 2026)
    ),
    # training
    ("training", "open_course", "data.base_id"): lambda p, w, x: p.training.open_course(
        {
            "title": "消防设施操作员（初级）",
            "occupation": "fire_facility_operator",
            "certificate_name": "消防设施操作员证",
            "skills_granted": ["fire_facility_operator"],
            "theory_hours": 40,
            "practical_hours": 60,
            "mode": "hybrid",
            "base_id": x,
        }
    ),
    ("training", "open_cohort", "course_id"): lambda p, w, x: p.training.open_cohort(
        x, {"starts_on": day(2), "ends_on": day(20), "capacity": 5}
    ),
    ("training", "enroll", "veteran_id"): lambda p, w, x: p.training.enroll(w["cohort"], x),
    ("training", "withdraw_enrollment", "enrollment_id"): lambda p, w, x: (
        p.training.withdraw_enrollment(x)
    ),
    ("training", "record_result", "enrollment_id"): lambda p, w, x: p.training.record_result(
        x, _scores()
    ),
    ("training", "trainings_for", "veteran_id"): lambda p, w, x: p.training.trainings_for(x),
    ("training", "recommend_courses", "veteran_id"): lambda p, w, x: p.training.recommend_courses(
        x
    ),
    ("training", "placement_rate", "course_id"): lambda p, w, x: p.training.placement_rate(x),
    ("training", "assign_mentor", "veteran_id"): lambda p, w, x: p.training.assign_mentor(
        x, w["mentor"]
    ),
    ("training", "submit_entry", "data.veteran_id"): lambda p, w, x: p.training.submit_entry(
        w["competition"], {"veteran_id": x, "project": "戈壁滩设施农业", "group": "agriculture"}
    ),
    ("training", "award", "entry_id"): lambda p, w, x: p.training.award(
        x, {"prize": "一等奖", "rank": 1}
    ),
    # followup
    ("followup", "complete_revisit", "revisit_id"): lambda p, w, x: p.followup.complete_revisit(
        x, {"contacted_on": day(0), "outcome": "business_operating"}
    ),
    ("followup", "resolve_issue", "issue_id"): lambda p, w, x: p.followup.resolve_issue(
        x, {"resolution": "已处理"}
    ),
    ("followup", "record_contact", "data.veteran_id"): lambda p, w, x: p.followup.record_contact(
        {"veteran_id": x, "channel": "phone", "topic": "policy_consultation"}
    ),
    ("followup", "list_revisits", "filters.veteran_id"): lambda p, w, x: p.followup.list_revisits(
        {"veteran_id": x}
    ),
}
# Which record of the world each parameter takes (the key of ``w``).
RECORD = {
    "veteran_id": "veteran",
    "enterprise_id": "enterprise",
    "founder_ids": "veteran",
    "founder_id": "veteran",
    "employer_id": "employer",
    "employer_ids": "employer",
    "posting_id": "posting",
    "fair_id": "fair",
    "application_id": "application",
    "loan_id": "loan",
    "base_id": "base",
    "course_id": "course",
    "enrollment_id": "enrollment",
    "entry_id": "entry",
    "revisit_id": "revisit",
    "issue_id": "issue",
}

# Public offers: another county's posting, fair, cohort, competition or mentor is taken up
# for the operator's own veterans, and a posting is read as a public notice. Answered
# differently from a missing one by design (the rule in docs/architecture.md).
PUBLIC = {
    ("jobs", "get_job", "posting_id"),
    ("jobs", "match_candidates", "posting_id"),
    ("jobs", "apply", "data.posting_id"),
    ("jobs", "apply", "data.fair_id"),
    ("jobs", "register_for_fair", "fair_id"),
    ("jobs", "schedule_fair", "data.posting_ids"),
    ("training", "enroll", "cohort_id"),
    ("training", "submit_entry", "competition_id"),
    ("training", "assign_mentor", "mentor_id"),
}
# RPCs that take no record id (a county code, a filter, an ID number: tested on their own).
NO_RECORD_ID = {
    ("registry", "register_veteran"),
    ("registry", "register_veterans"),
    ("registry", "find_veteran_by_id_number"),
    ("registry", "search_veterans"),
    ("registry", "stats"),
    ("registry", "annual_form"),
    ("registry", "audit"),
    ("jobs", "register_employer"),
    ("jobs", "search_jobs"),
    ("jobs", "stats"),
    ("loans", "list_products"),
    ("loans", "stats"),
    ("training", "register_base"),
    ("training", "register_mentor"),
    ("training", "create_competition"),
    ("training", "stats"),
    ("followup", "worklist"),
    ("followup", "retention"),
    ("followup", "stats"),
}


def outcome(call):
    """What the caller sees: the error's class, message and details, or the reply."""
    try:
        return ("reply", call())
    except ServiceError as exc:
        return (type(exc).__name__, str(exc), exc.details)


def without(value, *ids):
    """``value`` as JSON with each of ``ids`` replaced, and with the fields that differ
    between any two calls (a fresh assessment's id and time) left out."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    for record_id in ids:
        text = text.replace(record_id, "<id>")
    data = json.loads(text)
    if data[0] == "reply":
        for key in ("assessment_id", "assessed_at"):
            if isinstance(data[1], dict):
                data[1].pop(key, None)
    return data


@pytest.fixture
def world(start, rpc_as, db):
    """One of everything in county 652302, made by prefecture staff; and a veteran of the
    clerk's own county."""
    start(*ALL_SERVICES)
    w = {}
    with rpc_as(PREFECTURE) as staff:
        veteran = staff.registry.register_veteran(make_veteran(county_code=OTHER))
        w["veteran"] = vid = veteran["id"]
        w["veteran_data"] = veteran
        for schema in ("jobs", "loans", "training", "followup"):
            wait_for(
                lambda: scalar(
                    db, f"SELECT count(*) FROM {schema}.veterans WHERE veteran_id = %s", vid
                ),
                message=f"{schema} knows the veteran",
            )
        w["enterprise"] = eid = staff.registry.register_enterprise(
            make_enterprise([vid], county_code=OTHER, uscc=valid_uscc(OTHER))
        )["id"]
        wait_for(
            lambda: scalar(
                db, "SELECT count(*) FROM loans.enterprises WHERE enterprise_id = %s", eid
            ),
            message="loans knows the enterprise",
        )
        w["employer"] = staff.jobs.register_employer(
            {
                "name": "阜康市顺达物流有限公司",
                "uscc": valid_uscc(OTHER),
                "county_code": OTHER,
                "industry": "logistics",
            }
        )["id"]
        w["posting"] = staff.jobs.post_job(posting_data(w["employer"], OTHER))["id"]
        w["fair"] = staff.jobs.schedule_fair(fair_data(OTHER))["id"]
        w["application"] = staff.jobs.apply(
            {"veteran_id": vid, "posting_id": w["posting"], "channel": "referral"}
        )["id"]
        w["base"] = staff.training.register_base(
            {
                "name": "阜康市职业技能培训学校",
                "kind": "training",
                "county_code": OTHER,
                "capacity": 50,
            }
        )["id"]
        w["course"] = TABLE[("training", "open_course", "data.base_id")](staff, w, w["base"])["id"]
        w["cohort"] = staff.training.open_cohort(
            w["course"], {"starts_on": day(1), "ends_on": day(30), "capacity": 30}
        )["id"]
        w["enrollment"] = staff.training.enroll(w["cohort"], vid)["id"]
        w["mentor"] = staff.training.register_mentor(
            {"name": "刘创业", "field": "电子商务", "county_code": OTHER}
        )["id"]
        w["competition"] = staff.training.create_competition(
            {
                "year": 2026,
                "title": "阜康市退役军人创业创新大赛",
                "county_code": OTHER,
                "groups": ["agriculture", "services"],
            }
        )["id"]
        w["entry"] = staff.training.submit_entry(
            w["competition"], {"veteran_id": vid, "project": "设施农业", "group": "services"}
        )["id"]
        w["loan"] = staff.loans.apply_loan(
            {
                "veteran_id": vid,
                "product_code": "yongjun_chuangye",
                "amount": "100000.00",
                "term_months": 24,
                "purpose": "开办电商店",
            }
        )["id"]
        revisits = wait_for(
            lambda: staff.followup.list_revisits({"veteran_id": vid})["items"],
            message="the enterprise's revisits",
        )
        w["revisit"] = revisits[0]["id"]
        done = staff.followup.complete_revisit(
            revisits[1]["id"],
            {
                "contacted_on": day(0),
                "outcome": "business_operating",
                "problems": [{"category": "wages", "description": "工资拖欠"}],
            },
        )
        w["issue"] = done["issues"][0]["id"]
    with rpc_as(CLERK) as clerk:
        own = clerk.registry.register_veteran(make_veteran(county_code=OWN))
        w["own_veteran"] = own["id"]
    for schema in ("jobs", "training"):
        wait_for(
            lambda: scalar(
                db, f"SELECT count(*) FROM {schema}.veterans WHERE veteran_id = %s", own["id"]
            ),
            message=f"{schema} knows the clerk's veteran",
        )
    return w


def test_every_record_rpc_answers_another_countys_id_as_a_missing_one(world, rpc_as):
    differences, messages = [], []
    with rpc_as(CLERK) as clerk:
        for (service, method, parameter), call in TABLE.items():
            real = world[RECORD[parameter.split(".")[-1]]]
            unknown = str(uuid.uuid4())
            outside = outcome(lambda: call(clerk, world, real))
            missing = outcome(lambda: call(clerk, world, unknown))
            if without(outside, real) != without(missing, unknown):
                differences.append((f"{service}.{method}({parameter})", outside, missing))
            messages += [
                json.dumps(o, ensure_ascii=False, default=str)
                .replace(real, "")
                .replace(unknown, "")
                for o in (outside, missing)
            ]
        # The same calls with the clerk's own veteran are answered: the table tests the
        # scope, not calls that fail anyway.
        own = world["own_veteran"]
        for (_service, method, _parameter), call in TABLE.items():
            if method in (
                "get_veteran",
                "get_card",
                "match_jobs",
                "applications_for",
                "loans_for",
                "trainings_for",
                "recommend_courses",
                "get_eligibility",
            ):
                assert outcome(lambda: call(clerk, world, own))[0] == "reply", method
    assert differences == []
    # No answer names a county outside the clerk's token.
    others = [code for code in Jurisdiction.load().codes() if code != OWN]
    named = [(code, text) for text in messages for code in others if code in text]
    assert named == []
    # Nothing the clerk asked for was done to another county's records, and prefecture
    # staff read them all, with the figures of the fair and the course.
    with rpc_as(PREFECTURE) as staff:
        assert staff.jobs.applications_for(world["veteran"])[0]["status"] == "submitted"
        assert staff.loans.get_loan(world["loan"])["status"] == "submitted"
        assert staff.registry.get_veteran(world["veteran"])["notes"] is None
        assert staff.jobs.get_employer(world["employer"])["county_code"] == OTHER
        fair = staff.jobs.get_fair(world["fair"])
        assert fair["county_code"] == OTHER and "registrations" in fair
        assert staff.training.placement_rate(world["course"])["graduates"] == 0


def test_a_clerk_takes_up_another_countys_offers_for_their_own_veterans(world, rpc_as):
    own = world["own_veteran"]
    with rpc_as(CLERK) as clerk:
        assert clerk.jobs.get_job(world["posting"])["county_code"] == OTHER  # a public notice
        assert clerk.jobs.register_for_fair(world["fair"], own)["registered"] is True
        application = clerk.jobs.apply(
            {
                "veteran_id": own,
                "posting_id": world["posting"],
                "channel": "fair",
                "fair_id": world["fair"],
            }
        )
        assert application["county_code"] == OWN  # the veteran's county keeps it
        assert clerk.training.enroll(world["cohort"], own)["county_code"] == OWN
        assert clerk.training.assign_mentor(own, world["mentor"])["assigned"] is True
        assert (
            clerk.training.submit_entry(
                world["competition"], {"veteran_id": own, "project": "电商", "group": "services"}
            )["county_code"]
            == OWN
        )
        assert [c["veteran_id"] for c in clerk.jobs.match_candidates(world["posting"])] in (
            [],
            [own],
        )  # ranked from the clerk's own counties only
        # ... but reads no figures of the offer, nor manages it.
        for call in (
            lambda: clerk.jobs.get_fair(world["fair"]),
            lambda: clerk.training.placement_rate(world["course"]),
            lambda: clerk.jobs.close_job(world["posting"], "withdrawn"),
        ):
            with pytest.raises(NotFound):
                call()


# -- registry: ID numbers, conflicts, duplicate hints ---------------------------------------


def test_an_id_number_of_another_county_is_answered_as_an_unregistered_one(start, rpc_as):
    start(RegistryService)
    other = make_veteran(county_code=OTHER)
    with rpc_as(PREFECTURE) as staff:
        staff.registry.register_veteran(other)
    unregistered = make_veteran(county_code=OTHER)["id_number"]
    with rpc_as(CLERK) as clerk:
        answers = [
            outcome(lambda: clerk.registry.find_veteran_by_id_number(number))
            for number in (other["id_number"], unregistered)
        ]
    assert answers[0] == answers[1] == ("NotFound", "no veteran with this ID number", {})


def test_a_conflict_on_another_countys_id_number_names_no_card_and_no_county(start, rpc_as, db):
    start(RegistryService)
    data = make_veteran(county_code=OTHER)
    with rpc_as(PREFECTURE) as staff:
        holder = staff.registry.register_veteran(data)["id"]
    with rpc_as(CLERK) as clerk:
        with pytest.raises(Conflict) as single:
            clerk.registry.register_veteran({**data, "county_code": OWN})
        bulk = clerk.registry.register_veterans([{**data, "county_code": OWN}])["results"]
    assert single.value.details == {}
    assert str(single.value) == "this ID number is already registered; ask the prefecture office"
    assert bulk[0]["status"] == "conflict" and bulk[0]["id"] is None
    for said in (json.dumps(single.value.args, ensure_ascii=False), json.dumps(bulk)):
        assert holder not in said and OTHER not in said
    # Prefecture staff are told which card holds it.
    with rpc_as(PREFECTURE) as staff:
        with pytest.raises(Conflict) as told:
            staff.registry.register_veteran({**data, "county_code": OWN})
        assert staff.registry.register_veterans([data])["results"][0]["id"] == holder
    assert told.value.details == {"veteran_id": holder}
    assert scalar(db, "SELECT count(*) FROM registry.veterans") == 1


def test_a_conflict_on_another_countys_credit_code_names_no_holder(start, rpc_as):
    start(RegistryService, JobsService)
    uscc = valid_uscc(OTHER)
    with rpc_as(PREFECTURE) as staff:
        founder = staff.registry.register_veteran(make_veteran(county_code=OTHER))["id"]
        enterprise = staff.registry.register_enterprise(
            make_enterprise([founder], county_code=OTHER, uscc=uscc)
        )["id"]
        employer = staff.jobs.register_employer(
            {
                "name": "阜康市顺达物流有限公司",
                "uscc": uscc,
                "county_code": OTHER,
                "industry": "logistics",
            }
        )
    with rpc_as(CLERK) as clerk:
        own = clerk.registry.register_veteran(make_veteran(county_code=OWN))["id"]
        with pytest.raises(Conflict) as booklet:
            clerk.registry.register_enterprise(make_enterprise([own], uscc=uscc))
        with pytest.raises(Conflict) as employer_clash:
            clerk.jobs.register_employer(
                {
                    "name": "昌吉市顺达物流有限公司",
                    "uscc": uscc,
                    "county_code": OWN,
                    "industry": "logistics",
                }
            )
    for clash, holder in ((booklet, enterprise), (employer_clash, employer["id"])):
        assert clash.value.details == {}
        assert holder not in str(clash.value) and OTHER not in str(clash.value)


def test_duplicate_hints_stay_within_the_callers_counties(start, rpc_as, db):
    start(RegistryService)
    phone = "13912340000"
    with rpc_as(PREFECTURE) as staff:
        elsewhere = staff.registry.register_veteran(make_veteran(county_code=OTHER, phone=phone))[
            "id"
        ]
    with rpc_as(CLERK) as clerk:
        own = clerk.registry.register_veteran(make_veteran(county_code=OWN, phone=phone))
        [row] = clerk.registry.register_veterans([make_veteran(county_code=OWN, phone=phone)])[
            "results"
        ]
    assert own["possible_duplicates"] == []  # the other county's card is not named
    assert "possible_duplicate" not in own["flags"]
    assert [
        str(d)
        for d in scalar(
            db, "SELECT possible_duplicates FROM registry.veterans WHERE id = %s", row["id"]
        )
    ] == [own["id"]]
    with rpc_as(PREFECTURE) as staff:
        seen = staff.registry.register_veteran(make_veteran(county_code=OWN, phone=phone))
        [bulk] = staff.registry.register_veterans([make_veteran(county_code=OWN, phone=phone)])[
            "results"
        ]
    assert elsewhere in seen["possible_duplicates"] and own["id"] in seen["possible_duplicates"]
    assert elsewhere in [
        str(d)
        for d in scalar(
            db, "SELECT possible_duplicates FROM registry.veterans WHERE id = %s", bulk["id"]
        )
    ]


def test_duplicate_hints_are_scoped_before_the_cap(start, rpc_as, db):
    """Twenty older cards of another county with the phone do not push the clerk's own
    card out of the twenty a hint may list."""
    start(RegistryService)
    phone = "13912341111"
    with rpc_as(PREFECTURE) as staff:
        staff.registry.register_veterans(
            [make_veteran(county_code=OTHER, phone=phone) for _ in range(20)]
        )
    with rpc_as(CLERK) as clerk:
        own = clerk.registry.register_veteran(make_veteran(county_code=OWN, phone=phone))
        again = clerk.registry.register_veteran(make_veteran(county_code=OWN, phone=phone))
    assert own["possible_duplicates"] == []
    assert again["possible_duplicates"] == [own["id"]]


# -- county codes named directly -------------------------------------------------------------


def test_a_county_named_directly_is_forbidden_without_naming_it(start, rpc_as):
    start(RegistryService, JobsService, TrainingService, FollowupService)
    with rpc_as(CLERK) as clerk:
        calls = [
            lambda: clerk.registry.register_veteran(make_veteran(county_code=OTHER)),
            lambda: clerk.registry.stats(OTHER),
            lambda: clerk.registry.search_veterans({"county_code": OTHER}),
            lambda: clerk.jobs.stats(OTHER),
            lambda: clerk.jobs.schedule_fair(fair_data(OTHER)),
            lambda: clerk.training.register_base(
                {"name": "学校", "kind": "training", "county_code": OTHER, "capacity": 5}
            ),
            lambda: clerk.followup.worklist(OTHER),
            lambda: clerk.followup.record_contact(
                {"county_code": OTHER, "channel": "phone", "topic": "other"}
            ),
        ]
        answers = [outcome(call) for call in calls]
    assert {answer[0] for answer in answers} == {"Forbidden"}
    assert all(OTHER not in answer[1] for answer in answers)
