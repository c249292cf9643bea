"""The employment bureau's HTTP integration on the real servers: signed batches of
postings upserted by the bureau's id, placements by cursor, every refusal a 4xx with
reasons, and a property-based run of schemathesis against the service's own document."""
import json
import time

import pytest
import requests
from nameko.testing.utils import get_container
from nameko.web.server import WebServer

from services.jobs.service import JobsService
from shared.http import signature
from tests.helpers import scalar
from tests.integration.jobs.conftest import in_days

SECRET = "bureau-shared-secret-0123456789abcdef"


@pytest.fixture
def bureau(start, config):
    """(base URL, runner) of jobs with the bureau's secret configured."""
    runner = start(JobsService, BUREAU_HMAC_SECRETS=SECRET)
    container = get_container(runner, JobsService)
    server = next(e for e in container.extensions if isinstance(e, WebServer))
    return f"http://127.0.0.1:{server._sock.getsockname()[1]}", runner


def signed(method, url, body=b"", secret=SECRET, skew=0, headers=None):
    stamp = str(int(time.time() + skew))
    all_headers = {"X-Bureau-Timestamp": stamp,
                   "X-Bureau-Signature": signature(secret, stamp, body),
                   "Content-Type": "application/json", **(headers or {})}
    return requests.request(method, url, data=body, headers=all_headers, timeout=15)


def item(ref, **fields):
    return {"bureau_posting_id": ref, "title": "仓库管理员", "occupation": "warehouse",
            "skills_required": ["logistics"], "county_code": "652301", "salary_min": 3500,
            "salary_max": 5000, "openings": 3, "closes_on": in_days(30),
            "employer": {"uscc": "91652301MA78K2Q5X3", "name": "昌吉市顺达物流有限公司",
                         "county_code": "652301", "industry": "logistics"}, **fields}


def post(base, items):
    return signed("POST", f"{base}/bureau/postings", json.dumps({"postings": items}).encode())


def test_a_batch_is_upserted_by_the_bureaus_id_and_repeating_it_changes_nothing(bureau, db):
    base, _ = bureau
    batch = [item("JOB-1"), item("JOB-2", openings=1), item("JOB-3", salary_min=9000)]
    reply = post(base, batch)
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json"
    results = reply.json()["results"]
    assert [r["status"] for r in results] == ["created", "created", "invalid"]
    assert results[2]["errors"] == {"salary_max": ["is below salary_min"]}
    assert scalar(db, "SELECT count(*) FROM jobs.postings WHERE source = 'bureau'") == 2
    assert scalar(db, "SELECT count(*) FROM jobs.employers") == 1
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'job_posted'") == 2

    again = post(base, batch).json()["results"]
    assert [r["status"] for r in again] == ["unchanged", "unchanged", "invalid"]
    assert [r["posting_id"] for r in again[:2]] == [r["posting_id"] for r in results[:2]]
    changed = post(base, [item("JOB-1", openings=5)]).json()["results"]
    assert changed[0]["status"] == "updated"
    assert scalar(db, "SELECT openings FROM jobs.postings WHERE bureau_posting_id = 'JOB-1'") == 5
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 2
    assert scalar(db, "SELECT count(*) FROM jobs.outbox") == 2


@pytest.mark.parametrize("tamper,status,code", [
    ({"secret": "not-the-secret-0123456789abcdefghij"}, 401, "unauthorized"),
    ({"skew": -302}, 401, "unauthorized"),
    ({"skew": 302}, 401, "unauthorized"),
])
def test_a_wrong_or_stale_signature_is_401_and_writes_nothing(bureau, db, tamper, status, code):
    base, _ = bureau
    reply = signed("POST", f"{base}/bureau/postings",
                   json.dumps({"postings": [item("JOB-9")]}).encode(), **tamper)
    assert reply.status_code == status and reply.json()["error"] == code
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_unsigned_oversized_and_malformed_requests_are_refused(bureau, db):
    base, _ = bureau
    unsigned = requests.post(f"{base}/bureau/postings", data=b"{}", timeout=15)
    assert unsigned.status_code == 401 and "X-Bureau-Signature" in unsigned.json()["message"]
    big = b'{"postings": [' + b" " * (1024 * 1024) + b"]}"
    assert signed("POST", f"{base}/bureau/postings", big).status_code == 413
    for body in (b"{not json", b"[1, 2]", "{\"postings\": \"\u00e9\"}".encode("latin-1")):
        reply = signed("POST", f"{base}/bureau/postings", body)
        assert reply.status_code == 400, body
        assert reply.json()["error"] == "malformed_json"
    empty = signed("POST", f"{base}/bureau/postings", b'{"postings": []}')
    assert empty.status_code == 400 and "postings" in empty.json()["errors"]
    too_many = signed("POST", f"{base}/bureau/postings",
                      json.dumps({"postings": [{}] * 501}).encode())
    assert too_many.status_code == 400
    assert signed("GET", f"{base}/bureau/placements?since=-1").status_code == 400
    assert signed("GET", f"{base}/bureau/placements?colour=red").status_code == 400
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_without_a_configured_secret_every_request_is_401(start, config):
    runner = start(JobsService)
    server = next(e for e in get_container(runner, JobsService).extensions
                  if isinstance(e, WebServer))
    base = f"http://127.0.0.1:{server._sock.getsockname()[1]}"
    reply = signed("GET", f"{base}/bureau/placements")
    assert reply.status_code == 401 and "not configured" in reply.json()["message"]
    assert requests.get(f"{base}/bureau/openapi.json", timeout=15).status_code == 200


def test_placements_page_by_cursor(bureau, rpc, known_veteran):
    base, _ = bureau
    [created] = post(base, [item("JOB-7", openings=3)]).json()["results"]
    hires = []
    for _ in range(3):
        vid = known_veteran()["veteran_id"]
        application = rpc.jobs.apply({"veteran_id": vid, "posting_id": created["posting_id"],
                                      "channel": "referral"})
        rpc.jobs.advance_application(application["id"], "offered")
        rpc.jobs.hire(application["id"], {"started_on": in_days(1), "salary": 4800})
        hires.append(application["id"])
    first = signed("GET", f"{base}/bureau/placements?since=0&limit=2").json()
    assert [p["application_id"] for p in first["items"]] == hires[:2]
    assert first["items"][0]["bureau_posting_id"] == "JOB-7"
    assert first["items"][0]["employer_uscc"] == "91652301MA78K2Q5X3"
    assert set(first["items"][0]) >= {"veteran_id", "started_on", "salary", "county_code"}
    assert not {"name", "phone", "id_number"} & set(first["items"][0])
    rest = signed("GET", f"{base}/bureau/placements?since={first['next_cursor']}").json()
    assert [p["application_id"] for p in rest["items"]] == hires[2:]
    done = signed("GET", f"{base}/bureau/placements?since={rest['next_cursor']}").json()
    assert done == {"items": [], "next_cursor": rest["next_cursor"]}


def test_the_openapi_document_describes_the_endpoints(bureau):
    base, _ = bureau
    document = requests.get(f"{base}/bureau/openapi.json", timeout=15).json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/bureau/postings", "/bureau/placements",
                                      "/bureau/openapi.json"}
    posting = document["components"]["schemas"]["BureauPosting"]
    assert {"bureau_posting_id", "employer", "closes_on"} <= set(posting["required"])
    post_op = document["paths"]["/bureau/postings"]["post"]
    assert {p["name"] for p in post_op["parameters"]} == {"X-Bureau-Timestamp",
                                                          "X-Bureau-Signature"}
    assert set(post_op["responses"]) == {"200", "400", "401", "413"}


def test_schemathesis_finds_no_server_error_and_nonconforming_response(bureau):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (response_schema_conformance,
                                                   status_code_conformance)
    base, _ = bureau
    schema = schemathesis.openapi.from_url(f"{base}/bureau/openapi.json")
    schema.config.base_url = base

    failures, calls = [], {"n": 0}
    for operation in schema.get_all_operations():
        operation = operation.ok()

        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            body = json.dumps(case.body).encode() if case.method.upper() == "POST" else b""
            stamp = str(int(time.time()))
            case.headers = {**(case.headers or {}), "X-Bureau-Timestamp": stamp,
                            "X-Bureau-Signature": signature(SECRET, stamp, body),
                            "Content-Type": "application/json"}
            response = requests.request(case.method, base + case.formatted_path,
                                        params=case.query, headers=case.headers, data=body,
                                        timeout=15)
            calls["n"] += 1
            assert response.status_code < 500, (case.method, case.path, response.text)
            case.validate_response(response, checks=[not_a_server_error,
                                                     status_code_conformance,
                                                     response_schema_conformance])
        try:
            run()
        except Exception as exc:  # collect, so every operation is exercised
            failures.append(f"{operation.method} {operation.path}: {exc}")
    assert failures == []
    assert calls["n"] > 50
