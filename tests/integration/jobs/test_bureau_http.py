"""The employment bureau's HTTP integration on the real servers: signed batches of
postings upserted by the bureau's id, placements by cursor, every refusal a 4xx with
reasons, and a property-based run of schemathesis against the service's own document."""
import collections
import json
import time

import eventlet
import psycopg2
import pytest
import requests
from nameko.testing.utils import get_container
from nameko.web.server import WebServer

from services.jobs.service import JobsService
from shared.http import SIGNATURE, TIMESTAMP, signature
from tests.helpers import bureau_today, scalar, wait_for
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
    assert set(post_op["responses"]) == {"200", "400", "401", "408", "413"}
    assert all(p["required"] for p in post_op["parameters"])
    batch = document["components"]["schemas"]["BureauBatch"]["properties"]["postings"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 500)
    assert posting["properties"]["county_code"]["enum"][0] == "652301"
    assert "driver" in posting["properties"]["occupation"]["enum"]
    query = {p["name"]: p["schema"] for p in
             document["paths"]["/bureau/placements"]["get"]["parameters"] if p["in"] == "query"}
    assert query["limit"]["maximum"] == 500 and query["since"]["minimum"] == 0


def test_an_item_that_cannot_be_a_posting_never_blocks_the_others(bureau, db):
    base, _ = bureau
    batch = [item("JOB-1"), 42, None, item("JOB-NUL", title="仓库\x00管理员"),
             {**item("JOB-4"), "\ud800": 1}, item("x" * 65), item("JOB-2")]
    reply = post(base, batch)
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["status"] for r in results] == ["created"] + ["invalid"] * 5 + ["created"]
    assert [r["index"] for r in results] == list(range(7))
    assert results[1]["errors"] == {"_schema": ["Invalid input type."]}
    assert results[3]["bureau_posting_id"] == "JOB-NUL" and "title" in results[3]["errors"]
    assert "\ud800" in results[4]["errors"]
    assert results[5]["bureau_posting_id"] is None  # too long to echo
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 2
    assert scalar(db, "SELECT string_agg(created_by, ',') FROM jobs.postings") == "bureau,bureau"


def test_a_bad_body_is_a_json_400_never_a_500(bureau, db):
    base, _ = bureau
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"postings": [NaN]}', b"",
                 b'{"postings": [], "extra": 1}', b'{"postings": "all"}'):
        reply = signed("POST", f"{base}/bureau/postings", body)
        assert reply.status_code == 400, (body[:30], reply.text)
        assert reply.headers["Content-Type"] == "application/json"
        assert set(reply.json()) == {"error", "message", "errors"}
    assert signed("POST", f"{base}/bureau/postings", b'{"postings": [], "extra": 1}'
                  ).json()["errors"] == {"extra": ["Unknown field."], "postings": [
                      "a batch holds 1 to 500 postings"]}


@pytest.mark.parametrize("header", [
    "sha256=" + "é" * 64, "sha256=" + "0" * 63, "md5=abc", "sha256=" + "0" * 64])
def test_a_malformed_signature_header_is_401(bureau, header):
    base, _ = bureau
    reply = requests.get(f"{base}/bureau/placements", timeout=15, headers={
        TIMESTAMP: str(int(time.time())), SIGNATURE: header})
    assert reply.status_code == 401 and reply.json()["error"] == "unauthorized"
    assert "X-Bureau-Signature" in reply.headers["WWW-Authenticate"]


def test_a_chunked_body_is_read_and_verified_like_any_other(bureau, db):
    base, _ = bureau
    body = json.dumps({"postings": [item("JOB-C")]}).encode()
    stamp = str(int(time.time()))
    reply = requests.post(f"{base}/bureau/postings", timeout=15,
                          data=(body[i:i + 100] for i in range(0, len(body), 100)),
                          headers={TIMESTAMP: stamp, SIGNATURE: signature(SECRET, stamp, body)})
    assert reply.request.headers.get("Transfer-Encoding") == "chunked"
    assert reply.status_code == 200 and reply.json()["results"][0]["status"] == "created"
    huge = (b" " * 65536 for _ in range(17))  # 1.06 MB, no Content-Length
    too_big = requests.post(f"{base}/bureau/postings", timeout=15, data=huge,
                            headers={TIMESTAMP: stamp, SIGNATURE: signature(SECRET, stamp, b"")})
    assert too_big.status_code == 413 and too_big.json()["error"] == "too_large"


def test_unknown_paths_and_methods_answer_in_json(bureau):
    base, _ = bureau
    missing = requests.get(f"{base}/bureau/nothing", timeout=15)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = requests.delete(f"{base}/bureau/postings", timeout=15)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]


def _offered(rpc, known_veteran, posting_id):
    vid = known_veteran()["veteran_id"]
    application = rpc.jobs.apply({"veteran_id": vid, "posting_id": posting_id,
                                  "channel": "referral"})
    rpc.jobs.advance_application(application["id"], "offered")
    return application


def test_updates_keep_the_employer_the_hires_and_close_a_filled_posting(bureau, rpc,
                                                                      known_veteran, db):
    base, _ = bureau
    lower = item("JOB-5", openings=3)
    lower["employer"] = {**lower["employer"], "uscc": lower["employer"]["uscc"].lower()}
    [created] = post(base, [lower]).json()["results"]
    assert scalar(db, "SELECT uscc FROM jobs.employers") == "91652301MA78K2Q5X3"
    for _ in range(2):
        application = _offered(rpc, known_veteran, created["posting_id"])
        rpc.jobs.hire(application["id"], {"started_on": in_days(1), "salary": 4800})

    other = item("JOB-5", openings=3, title="库管")
    other["employer"] = {**other["employer"], "uscc": "91110000600037341L"}
    past = item("JOB-5", openings=3, closes_on=in_days(-1))
    below = item("JOB-5", openings=1, title="库管")
    results = post(base, [other, past, below]).json()["results"]
    assert [r["status"] for r in results] == ["invalid"] * 3
    assert list(results[0]["errors"]) == ["employer.uscc"]
    assert list(results[1]["errors"]) == ["closes_on"]
    assert results[2]["errors"] == {"openings": ["is below the 2 already hired"]}
    assert scalar(db, "SELECT title || openings FROM jobs.postings") == "仓库管理员3"

    assert post(base, [item("JOB-5", openings=2)]).json()["results"][0]["status"] == "updated"
    assert scalar(db, "SELECT status || ':' || closed_reason FROM jobs.postings") == \
        "closed:filled"
    closed = scalar(db, "SELECT body FROM jobs.outbox WHERE routing_key = 'job_closed'")
    assert closed["data"] == {"posting_id": created["posting_id"], "reason": "filled"}
    again = post(base, [item("JOB-5", openings=2)]).json()["results"][0]
    assert again["status"] == "unchanged"
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'job_closed'") == 1


def test_a_hire_that_commits_late_is_not_skipped_by_the_cursor(bureau, rpc, known_veteran,
                                                                database_url, db):
    """seq 1 is taken by a transaction still open while seq 2 commits: the page waits for
    it rather than answering [2] and moving the cursor past 1 for good."""
    base, _ = bureau
    [created] = post(base, [item("JOB-8", openings=3)]).json()["results"]
    first = _offered(rpc, known_veteran, created["posting_id"])
    second = _offered(rpc, known_veteran, created["posting_id"])
    slow = psycopg2.connect(database_url)
    try:
        with slow.cursor() as cur:
            cur.execute(
                "INSERT INTO jobs.hires (application_id, veteran_id, posting_id, employer_id,"
                " county_code, started_on, salary, channel, dedicated, hired_at, hired_by)"
                " SELECT a.id, a.veteran_id, a.posting_id, p.employer_id, a.county_code,"
                " %s, 4800, a.channel, p.dedicated, now(), 'test'"
                " FROM jobs.applications a JOIN jobs.postings p ON p.id = a.posting_id"
                " WHERE a.id = %s RETURNING seq", (bureau_today(), first["id"]))
            assert cur.fetchone()[0] == 1
        rpc.jobs.hire(second["id"], {"started_on": in_days(1), "salary": 5000})
        assert scalar(db, "SELECT seq FROM jobs.hires") == 2  # the only one committed
        page = eventlet.spawn(signed, "GET", f"{base}/bureau/placements?since=0")
        # The page's transaction queues behind the open hire for its SHARE lock on hires.
        wait_for(lambda: page.dead or scalar(
            db, "SELECT count(*) FROM pg_locks WHERE NOT granted"
                " AND relation = 'jobs.hires'::regclass"), message="the page waiting on hires")
        assert not page.dead, "the page did not wait for the open hire"
        slow.commit()
        reply = page.wait()
    finally:
        slow.close()
    assert reply.status_code == 200
    assert [p["application_id"] for p in reply.json()["items"]] == [first["id"], second["id"]]
    assert reply.json()["next_cursor"] == 2


class BureauAuth(requests.auth.AuthBase):
    """Signs the prepared request (its final body) the way the bureau does."""

    def __init__(self, secret):
        self.secret = secret

    def __call__(self, request):
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        stamp = str(int(time.time()))
        request.headers[TIMESTAMP] = stamp
        request.headers[SIGNATURE] = signature(self.secret, stamp, body)
        return request


def test_schemathesis_finds_no_server_error_and_no_response_off_the_document(bureau):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode

    base, _ = bureau
    schema = schemathesis.openapi.from_url(f"{base}/bureau/openapi.json")
    auth, seen, failures = BureauAuth(SECRET), collections.Counter(), []
    # schemathesis leaves out the operation that serves the document it loaded.
    for result in schema.get_all_operations():
        operation = result.ok()
        # An invalid posting is answered 200 with its reasons, by design: negative data
        # only where the whole request is refused (the placements query).
        # The signature headers are fixed (BureauAuth replaces them) so that negative data
        # is negative in the query, not merely unsigned.
        modes = [(GenerationMode.POSITIVE, {})]
        if operation.path == "/bureau/placements":
            modes.append((GenerationMode.NEGATIVE,
                          {TIMESTAMP: "0", SIGNATURE: "sha256=" + "0" * 64}))
        for mode, fixed in modes:
            @settings(max_examples=50, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode, headers=fixed or None))
            def run(case):
                response = case.call_and_validate(base_url=base, auth=auth, timeout=15)
                seen[(operation.path, mode.value, response.status_code)] += 1
            try:
                run()
            except Exception as exc:  # collect, so that every operation runs
                failures.append(f"{operation.method} {operation.path} {mode.value}: {exc}")
    assert failures == []
    assert seen[("/bureau/postings", "positive", 200)] > 10
    assert seen[("/bureau/placements", "positive", 200)] > 10
    assert seen[("/bureau/placements", "negative", 400)] > 10
    assert not [key for key in seen if key[2] >= 500]


def test_a_full_batch_goes_in_and_two_at_once_create_each_posting_once(bureau, db):
    base, _ = bureau
    batch = [item(f"FULL-{n}", title=f"岗位 {n}") for n in range(500)]
    started = time.monotonic()
    results = post(base, batch).json()["results"]
    assert [r["status"] for r in results] == ["created"] * 500
    assert time.monotonic() - started < 20
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'job_posted'") == 500

    # Two batches at once naming the same new postings (and a new employer): without
    # one batch at a time both would insert them, and one would fail on the unique id.
    new_employer = {"uscc": "91110000600037341L", "name": "新雇主", "county_code": "652302"}
    twins = [item(f"TWIN-{n}", employer=new_employer) for n in range(100)]
    replies = [eventlet.spawn(post, base, twins) for _ in range(2)]
    statuses = sorted({r["status"] for r in reply.wait().json()["results"]}
                      for reply in replies)
    assert statuses == [{"created"}, {"unchanged"}]
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 600
    assert scalar(db, "SELECT count(*) FROM jobs.employers") == 2
