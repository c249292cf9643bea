"""A county's veterans from the clerk's spreadsheet to a hire, its revisit and the bureau's
report, the way each user does their part: the clerk imports a workbook with `vetctl
import`, the employment bureau sends a posting and pulls placements over signed HTTP, the
county's operator matches, hires and records the revisit with vetctl, and reads the card
and the report. Each step is a module fixture, run once, that the tests after it build on."""

import csv
import datetime as dt
import json
import uuid

import openpyxl
import pytest
import requests

from tests.e2e.conftest import SERVICES
from tests.factories import COUNTY_SHEET_HEADERS, id_number
from tests.helpers import bureau_today, wait_for

pytestmark = pytest.mark.e2e

COUNTY = "652301"
HEADERS = COUNTY_SHEET_HEADERS
USCC = "91652301MA78K2Q5X3"
EMPLOYER = "昌吉市顺达物流有限公司"


def days(n):
    return (bureau_today() + dt.timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def roster(tmp_path_factory):
    """The county's workbook as its clerk keeps it: Chinese headers and labels, ID numbers
    as text; the third veteran's phone is two digits short."""
    people = [
        [
            id_number(county=COUNTY),
            "王建军",
            "13899120001",
            COUNTY,
            "2019-12-01",
            "自主就业",
            "物流管理、叉车操作",
            "就业",
            "未就业",
            "岗位推荐",
            "仓管员",
            4000,
        ],
        [
            id_number(county=COUNTY),
            "李国强",
            "13899120002",
            COUNTY,
            "2017-12-01",
            "自主就业",
            "电工",
            "就业",
            "未就业",
            "技能培训",
            "电工",
            5000,
        ],
        [
            id_number(county=COUNTY),
            "赵磊",
            "138991200",
            COUNTY,
            "2018-12-01",
            "自主就业",
            "焊工",
            "就业",
            "未就业",
            "岗位推荐",
            "电工",
            4500,
        ],
    ]
    path = tmp_path_factory.mktemp("clerk") / "昌吉市退役军人名册.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in people:
        sheet.append(row)
    book.save(path)
    return {"path": path, "rows": people}


@pytest.fixture(scope="module")
def imported(system, roster):
    """The import's JSON, then a second run of the same file."""
    first = system.vetctl_json("import", "veterans", roster["path"])
    again = system.vetctl_json("import", "veterans", roster["path"])
    return first, again


@pytest.fixture(scope="module")
def veteran(system, roster, imported):
    """The first veteran's card, found by ID number as a clerk finds it."""
    return system.vetctl_json("card", roster["rows"][0][0])["veteran"]


@pytest.fixture(scope="module")
def posting(system):
    """The bureau's posting for a warehouse keeper in the county: (item, reply)."""
    item = {
        "bureau_posting_id": f"CJ-E2E-{uuid.uuid4().hex[:8]}",
        "version": 1,
        "title": "仓库管理员",
        "occupation": "warehouse",
        "skills_required": ["logistics"],
        "certificates_preferred": [],
        "county_code": COUNTY,
        "salary_min": 3500,
        "salary_max": 5000,
        "openings": 2,
        "closes_on": days(30),
        "dedicated": True,
        "description": None,
        "employer": {
            "uscc": USCC,
            "name": EMPLOYER,
            "county_code": COUNTY,
            "industry": "logistics",
        },
    }
    body = json.dumps({"postings": [item]}, ensure_ascii=False).encode()
    return item, system.bureau("POST", "/bureau/postings", body=body)


@pytest.fixture(scope="module")
def hire(system, veteran, posting):
    """The operator finds the posting among the veteran's matches, refers them, records the
    offer and the hire (started ten days ago: the 7-day revisit is due at once)."""
    posting_id = posting[1].json()["results"][0]["posting_id"]
    matches = wait_for(
        lambda: [
            m
            for m in system.vetctl_json("match", veteran["id"])
            if m["posting"]["id"] == posting_id
        ],
        timeout=30,
        interval=0.5,
        message="the bureau's posting among the veteran's matches",
    )
    application = system.vetctl_json(
        "call",
        "jobs",
        "apply",
        json.dumps(
            [{"veteran_id": veteran["id"], "posting_id": posting_id, "channel": "referral"}]
        ),
    )
    system.vetctl_json(
        "call", "jobs", "advance_application", json.dumps([application["id"], "offered"])
    )
    terms = {"started_on": days(-10), "salary": 4800, "note": "仓库管理员"}
    hired = system.vetctl_json("call", "jobs", "hire", json.dumps([application["id"], terms]))
    return {
        "posting_id": posting_id,
        "match": matches[0],
        "application": application,
        "hired": hired,
        "terms": terms,
    }


@pytest.fixture(scope="module")
def revisit(system, veteran, hire):
    """The first revisit, once the scheduler has put it on the county's worklist, then
    recorded done by the operator."""
    due = wait_for(
        lambda: [
            r
            for r in system.vetctl_json("worklist", "--county", COUNTY)
            if r["veteran_id"] == veteran["id"]
        ],
        timeout=40,
        interval=0.5,
        message="the revisit on the county's worklist",
    )
    outcome = {
        "contacted_on": days(0),
        "outcome": "employed_same",
        "veteran_satisfaction": 5,
        "employer_rating": 4,
        "problems": [],
    }
    done = system.vetctl_json(
        "call", "followup", "complete_revisit", json.dumps([due[0]["id"], outcome])
    )
    return {"worklist": due, "done": done}


def test_the_county_spreadsheet_imports_and_its_bad_row_is_reported_with_its_field(
    imported, roster
):
    first, again = imported
    assert (first["created"], first["duplicate"], first["rejected"]) == (2, 0, 1)
    with open(first["report"], encoding="utf-8-sig") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["row"], r["field"]) for r in rejected] == [("4", "phone")]
    assert "mobile" in rejected[0]["message"]
    # The same file again: nothing new, the same row refused.
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 2, 1)


def test_the_card_shows_the_imported_veteran_with_codes_and_a_masked_id_number(veteran, roster):
    number = roster["rows"][0][0]
    assert veteran["id_number"] == number[:6] + "*" * 11 + number[-1]
    assert (veteran["county_code"], veteran["employment_status"]) == (COUNTY, "unemployed")
    assert veteran["skills"] == ["logistics", "forklift_operator"]


def test_the_bureaus_posting_is_taken_over_signed_http(posting):
    item, reply = posting
    assert reply.status_code == 200, reply.text
    [result] = reply.json()["results"]
    assert (result["status"], result["bureau_posting_id"]) == ("created", item["bureau_posting_id"])
    assert result["posting_id"]


def test_a_request_with_a_wrong_or_replayed_signature_is_refused_and_changes_nothing(
    system, posting
):
    item, first = posting
    changed = {**item, "version": 2, "title": "篡改的岗位"}
    body = json.dumps({"postings": [changed]}, ensure_ascii=False).encode()
    forged = system.bureau(
        "POST", "/bureau/postings", body=body, headers={"X-Bureau-Signature": "sha256=" + "0" * 64}
    )
    assert (forged.status_code, forged.json()["error"]) == (401, "unauthorized")
    # The first request's own headers again, on its own body: taken once only.
    replayed = requests.post(
        first.request.url, data=first.request.body, headers=dict(first.request.headers), timeout=30
    )
    assert (replayed.status_code, replayed.json()["error"]) == (409, "replayed")
    stored = system.vetctl_json(
        "call", "jobs", "get_job", json.dumps([first.json()["results"][0]["posting_id"]])
    )
    assert stored["title"] == item["title"]


def test_the_operator_finds_the_posting_for_the_veteran_and_hires_through_vetctl(
    system, veteran, hire
):
    assert hire["match"]["score"] > 0
    assert "logistics" in hire["match"]["reasons"]["matched_skills"]
    assert hire["application"]["status"] == "submitted"
    assert hire["hired"]["status"] == "hired"
    card = wait_for(
        lambda: (
            (c := system.vetctl_json("card", veteran["id"]))["veteran"]["employment_status"]
            == "employed"
            and c
        ),
        timeout=30,
        interval=0.5,
        message="the card showing the veteran employed",
    )
    assert card["veteran"]["employer"] == EMPLOYER


def test_the_bureau_pulls_the_hire_as_a_placement_without_personal_data(
    system, roster, veteran, posting, hire
):
    reply = system.bureau("GET", "/bureau/placements", query="limit=100&since=0")
    assert reply.status_code == 200, reply.text
    [placement] = reply.json()["items"]
    assert placement["veteran_id"] == veteran["id"]
    assert placement["bureau_posting_id"] == posting[0]["bureau_posting_id"]
    assert (placement["employer_uscc"], placement["salary"], placement["started_on"]) == (
        USCC,
        4800,
        hire["terms"]["started_on"],
    )
    assert placement["channel"] == "referral"
    for number, name, phone, *_ in roster["rows"]:
        assert number not in reply.text and name not in reply.text and phone not in reply.text
    # Past the cursor handed out: nothing more.
    later = system.bureau(
        "GET", "/bureau/placements", query=f"limit=100&since={reply.json()['next_cursor']}"
    )
    assert (later.status_code, later.json()["items"]) == (200, [])


def test_the_hire_plans_four_revisits_and_the_first_comes_due_on_the_worklist(
    system, veteran, hire, revisit
):
    [due] = revisit["worklist"]
    assert (due["kind"], due["due_on"], due["overdue"]) == ("employment", days(-3), False)
    planned = system.vetctl_json(
        "call", "followup", "list_revisits", json.dumps([{"veteran_id": veteran["id"]}])
    )
    assert sorted(r["due_on"] for r in planned["items"]) == [days(d - 10) for d in (7, 30, 90, 180)]
    assert revisit["done"]["status"] == "done"


def test_the_veterans_timeline_holds_the_hire_and_the_revisits(system, roster, veteran, revisit):
    def timeline():
        lines = system.vetctl_json("card", veteran["id"])["timeline"]
        return {(line["source"], line["type"]) for line in lines} >= {
            ("jobs", "veteran_hired"),
            ("followup", "revisit_completed"),
        } and lines

    lines = wait_for(timeline, timeout=30, interval=0.5, message="the hire and revisit on the card")
    types = [line["type"] for line in lines]
    assert types.count("revisit_scheduled") == 4
    assert {
        "veteran_registered",
        "application_submitted",
        "veteran_hired",
        "employment_status_changed",
        "revisit_completed",
    } <= set(types)
    # What the clerk sees: the table of `vetctl card`, by ID number.
    shown = system.vetctl("card", roster["rows"][0][0])
    assert f"hired by employer {EMPLOYER}" in shown
    assert "revisit done: employed_same, satisfaction 5/5" in shown


def test_the_report_counts_the_veterans_the_posting_the_hire_and_the_revisit(
    system, veteran, revisit
):
    def figures():
        got = system.vetctl_json("report", "--county", COUNTY)["areas"][COUNTY]
        return got["revisits_done"] == 1 and got["employment_rate"] == "50.0%" and got

    got = wait_for(figures, timeout=30, interval=0.5, message="the report's figures")
    assert (got["veterans"], got["postings"], got["intentions"]) == (2, 1, 1)
    assert got["dedicated_referrals"] == 1
    whole = system.vetctl_json("report")["areas"]
    assert whole["prefecture"]["veterans"] == 2 and whole[COUNTY]["veterans"] == 2
    table = system.vetctl("report", "--county", COUNTY)
    assert "登记退役军人" in table and "50.0%" in table


def test_after_the_journey_every_event_is_handled_and_none_is_dead_lettered(system, revisit):
    def settled():
        status = system.vetctl_json("status")
        return (
            all(
                s["status"] == "ok"
                and s["outbox_backlog"] == 0
                and all(
                    q["messages"] == 0 for n, q in s["queues"].items() if not n.endswith(".dlq")
                )
                for s in status.values()
            )
            and status
        )

    status = wait_for(settled, timeout=30, interval=1, message="every queue and outbox empty")
    assert set(status) == set(SERVICES)
    dead = {
        n: q["messages"]
        for s in status.values()
        for n, q in s["queues"].items()
        if n.endswith(".dlq")
    }
    assert dead == {f"{service}.dlq": 0 for service in SERVICES}
    for service, figures in status.items():
        idle = [
            n for n, q in figures["queues"].items() if not n.endswith(".dlq") and not q["consumers"]
        ]
        assert not idle, f"{service}: queues without a consumer {idle}"


def test_no_id_number_phone_or_name_reaches_the_service_logs(system, roster, revisit):
    logs = system.log_text()
    # The logs hold the journey (so their silence about people means something).
    for event in ("veterans.bulk_registered", "bureau.postings", "veteran.hired"):
        assert f'"event": "{event}"' in logs
    for number, name, phone, *_ in roster["rows"]:
        assert number not in logs
        assert phone not in logs
        assert name not in logs and json.dumps(name)[1:-1] not in logs  # as is, or \uXXXX
