"""The employment bureau's HTTP integration on the real servers: signed batches of
postings upserted by the bureau's id, placements by cursor, every refusal a 4xx with
reasons, and a property-based run of schemathesis against the service's own document."""

import collections
import json
import shutil
import subprocess
import time
from pathlib import Path

import eventlet
import psycopg2
import pytest
import requests
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_container
from nameko.web.server import WebServer

from services.jobs.bureau import SIGNATURE, SIGNING, TIMESTAMP
from services.jobs.service import JobsService
from shared.http import MAX_SKEW
from tests.helpers import bureau_today, scalar, wait_for
from tests.integration.jobs.conftest import BUREAU_SECRET as SECRET
from tests.integration.jobs.conftest import bureau_headers, in_days

README = Path(__file__).resolve().parents[3] / "services" / "jobs" / "README.md"


def base_of(runner, cls=JobsService):
    server = next(e for e in get_container(runner, cls).extensions if isinstance(e, WebServer))
    return f"http://127.0.0.1:{server._sock.getsockname()[1]}"


@pytest.fixture
def bureau(start, config):
    """(base URL, runner) of jobs with the bureau's secret configured."""
    runner = start(JobsService, BUREAU_HMAC_SECRETS=SECRET)
    return base_of(runner), runner


def signed(method, url, body=b"", secret=SECRET, skew=0, headers=None):
    all_headers = {
        **bureau_headers(method, url, body, secret=secret, skew=skew),
        "Content-Type": "application/json",
        **(headers or {}),
    }
    return requests.request(method, url, data=body, headers=all_headers, timeout=15)


def item(ref, version=1, **fields):
    return {
        "bureau_posting_id": ref,
        "version": version,
        "title": "仓库管理员",
        "occupation": "warehouse",
        "skills_required": ["logistics"],
        "county_code": "652301",
        "salary_min": 3500,
        "salary_max": 5000,
        "openings": 3,
        "closes_on": in_days(30),
        "employer": {
            "uscc": "91652301MA78K2Q5X3",
            "name": "昌吉市顺达物流有限公司",
            "county_code": "652301",
            "industry": "logistics",
        },
        **fields,
    }


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
    changed = post(base, [item("JOB-1", version=2, openings=5)]).json()["results"]
    assert changed[0]["status"] == "updated"
    assert scalar(db, "SELECT openings FROM jobs.postings WHERE bureau_posting_id = 'JOB-1'") == 5
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 2
    assert scalar(db, "SELECT count(*) FROM jobs.outbox") == 2


@pytest.mark.parametrize(
    "tamper,status,code",
    [
        ({"secret": "not-the-secret-0123456789abcdefghij"}, 401, "unauthorized"),
        ({"skew": -302}, 401, "unauthorized"),
        ({"skew": 302}, 401, "unauthorized"),
    ],
)
def test_a_wrong_or_stale_signature_is_401_and_writes_nothing(bureau, db, tamper, status, code):
    base, _ = bureau
    reply = signed(
        "POST",
        f"{base}/bureau/postings",
        json.dumps({"postings": [item("JOB-9")]}).encode(),
        **tamper,
    )
    assert reply.status_code == status and reply.json()["error"] == code
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_a_get_signature_serves_only_for_its_own_query(bureau):
    base, _ = bureau
    given = bureau_headers("GET", "/bureau/placements?since=0&limit=1")
    for query in (
        "since=0&limit=500",
        "since=5&limit=1",
        "since=0",
        "since=0&limit=1&since=9",
        "since=0&limit=1&county_code=652302",
    ):
        reply = requests.get(f"{base}/bureau/placements?{query}", headers=given, timeout=15)
        assert reply.status_code == 401, query
        assert "does not match" in reply.json()["message"]
    with_body = requests.get(
        f"{base}/bureau/placements?since=0&limit=1", headers=given, data=b"{}", timeout=15
    )
    assert with_body.status_code == 401
    # The same pairs in another order or encoding are the same query: canonical.
    same = requests.get(f"{base}/bureau/placements?limit=%31&since=0", headers=given, timeout=15)
    assert same.status_code == 200, same.text


def test_a_post_signature_serves_only_for_its_own_body(bureau, db):
    base, _ = bureau
    body = json.dumps({"postings": [item("JOB-1")]}).encode()
    given = {**bureau_headers("POST", "/bureau/postings", body), "Content-Type": "application/json"}
    for other in (
        json.dumps({"postings": [item("JOB-1", openings=9)]}).encode(),
        body + b" ",
        body.replace(b"JOB-1", b"JOB-2"),
    ):
        reply = requests.post(f"{base}/bureau/postings", data=other, headers=given, timeout=15)
        assert reply.status_code == 401 and "does not match" in reply.json()["message"]
    assert (
        requests.post(
            f"{base}/bureau/postings?dry_run=1", data=body, headers=given, timeout=15
        ).status_code
        == 401
    )
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0
    reply = requests.post(f"{base}/bureau/postings", data=body, headers=given, timeout=15)
    assert reply.status_code == 200 and reply.json()["results"][0]["status"] == "created"


def replayed(reply):
    return (
        reply.status_code == 409
        and reply.headers["Content-Type"] == "application/json"
        and reply.json()["error"] == "replayed"
        and "sign it again" in reply.json()["message"]
    )


def test_a_replayed_post_is_refused_and_does_not_roll_back_a_later_update(bureau, db):
    base, _ = bureau
    body = json.dumps({"postings": [item("JOB-1", openings=3)]}).encode()
    captured = {
        **bureau_headers("POST", "/bureau/postings", body),
        "Content-Type": "application/json",
    }
    first = requests.post(f"{base}/bureau/postings", data=body, headers=captured, timeout=15)
    assert first.status_code == 200 and first.json()["results"][0]["status"] == "created"
    newer = post(base, [item("JOB-1", version=2, openings=5)]).json()["results"][0]
    assert newer["status"] == "updated"

    again = requests.post(f"{base}/bureau/postings", data=body, headers=captured, timeout=15)
    assert replayed(again), again.text
    # The hex is case-insensitive: the same signature in upper case is the same signature.
    upper = {**captured, SIGNATURE: "sha256=" + captured[SIGNATURE][7:].upper()}
    assert replayed(requests.post(f"{base}/bureau/postings", data=body, headers=upper, timeout=15))
    assert scalar(db, "SELECT openings FROM jobs.postings WHERE bureau_posting_id = 'JOB-1'") == 5
    assert scalar(db, "SELECT count(*) FROM jobs.bureau_signatures") == 2


def test_a_replayed_get_is_refused_and_a_refused_one_may_be_sent_again(bureau, db):
    base, _ = bureau
    captured = bureau_headers("GET", "/bureau/placements?limit=1&since=0")
    url = f"{base}/bureau/placements?limit=1&since=0"
    assert requests.get(url, headers=captured, timeout=15).json() == {"items": [], "next_cursor": 0}
    assert replayed(requests.get(url, headers=captured, timeout=15))
    # Nor in another spelling of the same query (canonically the same, so the same signature).
    assert replayed(
        requests.get(f"{base}/bureau/placements?since=0&limit=1", headers=captured, timeout=15)
    )
    # A request refused (400) took nothing: sent again as it was, it is refused the same way.
    bad = bureau_headers("GET", "/bureau/placements?since=-1")
    for _ in range(2):
        reply = requests.get(f"{base}/bureau/placements?since=-1", headers=bad, timeout=15)
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_input"
    assert scalar(db, "SELECT count(*) FROM jobs.bureau_signatures") == 1


def test_two_identical_requests_at_once_are_taken_once(bureau, db):
    base, _ = bureau
    body = json.dumps({"postings": [item(f"TWIN-{n}") for n in range(100)]}).encode()
    captured = {
        **bureau_headers("POST", "/bureau/postings", body),
        "Content-Type": "application/json",
    }
    replies = [
        eventlet.spawn(
            requests.post, f"{base}/bureau/postings", data=body, headers=captured, timeout=30
        )
        for _ in range(2)
    ]
    replies = sorted((reply.wait() for reply in replies), key=lambda r: r.status_code)
    assert [r.status_code for r in replies] == [200, 409] and replayed(replies[1])
    assert {r["status"] for r in replies[0].json()["results"]} == {"created"}
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'job_posted'") == 100


def test_the_signatures_taken_are_in_the_database_for_every_instance_and_restart(bureau, start, db):
    base, runner = bureau
    other = base_of(start(JobsService, BUREAU_HMAC_SECRETS=SECRET))
    url = "/bureau/placements?limit=100&since=0"
    captured = bureau_headers("GET", url)
    assert requests.get(base + url, headers=captured, timeout=15).status_code == 200
    assert replayed(requests.get(other + url, headers=captured, timeout=15))
    fresh = bureau_headers("GET", url)  # and the other way round
    assert requests.get(other + url, headers=fresh, timeout=15).status_code == 200
    assert replayed(requests.get(base + url, headers=fresh, timeout=15))
    runner.stop()
    restarted = base_of(start(JobsService, BUREAU_HMAC_SECRETS=SECRET))
    assert replayed(requests.get(restarted + url, headers=captured, timeout=15))
    assert scalar(db, "SELECT count(*) FROM jobs.bureau_signatures") == 2


def test_signatures_past_twice_the_window_are_forgotten_by_the_timer(bureau, db):
    base, runner = bureau
    taken = bureau_headers("GET", "/bureau/placements")
    assert requests.get(f"{base}/bureau/placements", headers=taken, timeout=15).ok
    with db.cursor() as cur:
        cur.execute(
            "INSERT INTO jobs.bureau_signatures (digest, signed_at) VALUES"
            " ('\\x01', now() - make_interval(secs => %s)),"
            " ('\\x02', now() - make_interval(secs => %s))",
            (2 * MAX_SKEW + 60, 2 * MAX_SKEW - 60),
        )
    with entrypoint_hook(get_container(runner, JobsService), "forget_bureau_signatures") as forget:
        assert forget() == 1
    assert scalar(db, "SELECT count(*) FROM jobs.bureau_signatures") == 2
    assert scalar(db, "SELECT count(*) FROM jobs.bureau_signatures WHERE digest = '\\x01'") == 0
    assert replayed(requests.get(f"{base}/bureau/placements", headers=taken, timeout=15))


class Forgetful:
    """A signed endpoint that never claims its signature."""

    name = "forgetful"

    @SIGNING.signed_json("GET", "/forgetful")
    def forgetful(self, request, payload):
        return {"ok": True}


def test_a_signed_endpoint_that_does_not_claim_its_signature_is_a_500(start):
    base = base_of(start(Forgetful, BUREAU_HMAC_SECRETS=SECRET), Forgetful)
    reply = requests.get(
        f"{base}/forgetful", headers=bureau_headers("GET", "/forgetful"), timeout=15
    )
    assert reply.status_code == 500 and reply.json()["error"] == "internal"


def json_documents(text):
    """The JSON documents printed one after another (curl adds no newline)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        document, at = decoder.raw_decode(text, at)
        found.append(document)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


@pytest.mark.skipif(
    not all(map(shutil.which, ("bash", "curl", "openssl"))), reason="needs bash, curl and openssl"
)
def test_the_readmes_signed_curl_example_works_as_written(bureau, db):
    base, _ = bureau
    block = README.read_text(encoding="utf-8").split("### Example\n\n```sh\n", 1)[1]
    block = block.split("```", 1)[0]
    lines = (
        "secret=...   # one of BUREAU_HMAC_SECRET\n",
        "base=http://127.0.0.1:8000\n",
        '"closes_on": "2027-01-31"',
    )
    assert all(line in block for line in lines)
    # Only the secret, the address and the date (so that it stays in the future) change.
    script = (
        block.replace(lines[0], f"secret={SECRET}\n")
        .replace(lines[1], f"base={base}\n")
        .replace(lines[2], f'"closes_on": "{in_days(30)}"')
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    posted, placements, document = json_documents(done.stdout)
    assert [r["status"] for r in posted["results"]] == ["created"], posted
    assert placements == {"items": [], "next_cursor": 0}
    assert document["openapi"].startswith("3.")
    assert (
        scalar(db, "SELECT title FROM jobs.postings WHERE bureau_posting_id = 'CJ-2026-0001'")
        == "仓库管理员"
    )


def test_unsigned_oversized_and_malformed_requests_are_refused(bureau, db):
    base, _ = bureau
    unsigned = requests.post(f"{base}/bureau/postings", data=b"{}", timeout=15)
    assert unsigned.status_code == 401 and "X-Bureau-Signature" in unsigned.json()["message"]
    big = b'{"postings": [' + b" " * (1024 * 1024) + b"]}"
    assert signed("POST", f"{base}/bureau/postings", big).status_code == 413
    for body in (b"{not json", b"[1, 2]", '{"postings": "\u00e9"}'.encode("latin-1")):
        reply = signed("POST", f"{base}/bureau/postings", body)
        assert reply.status_code == 400, body
        assert reply.json()["error"] == "malformed_json"
    empty = signed("POST", f"{base}/bureau/postings", b'{"postings": []}')
    assert empty.status_code == 400 and "postings" in empty.json()["errors"]
    too_many = signed(
        "POST", f"{base}/bureau/postings", json.dumps({"postings": [{}] * 501}).encode()
    )
    assert too_many.status_code == 400
    assert signed("GET", f"{base}/bureau/placements?since=-1").status_code == 400
    assert signed("GET", f"{base}/bureau/placements?colour=red").status_code == 400
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_without_a_configured_secret_every_request_is_401(start, config):
    runner = start(JobsService)
    server = next(
        e for e in get_container(runner, JobsService).extensions if isinstance(e, WebServer)
    )
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
        application = rpc.jobs.apply(
            {"veteran_id": vid, "posting_id": created["posting_id"], "channel": "referral"}
        )
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
    assert set(document["paths"]) == {
        "/bureau/postings",
        "/bureau/placements",
        "/bureau/openapi.json",
    }
    posting = document["components"]["schemas"]["BureauPosting"]
    assert {"bureau_posting_id", "version", "employer", "closes_on"} <= set(posting["required"])
    assert posting["properties"]["version"]["minimum"] == 1
    status = document["components"]["schemas"]["ItemResult"]["properties"]["status"]
    assert set(status["enum"]) == {"created", "updated", "unchanged", "stale", "invalid"}
    post_op = document["paths"]["/bureau/postings"]["post"]
    assert {p["name"] for p in post_op["parameters"]} == {
        "X-Bureau-Timestamp",
        "X-Bureau-Signature",
    }
    assert set(post_op["responses"]) == {"200", "400", "401", "408", "409", "413"}
    assert all(p["required"] for p in post_op["parameters"])
    batch = document["components"]["schemas"]["BureauBatch"]["properties"]["postings"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 500)
    assert posting["properties"]["county_code"]["enum"][0] == "652301"
    assert "driver" in posting["properties"]["occupation"]["enum"]
    placements = document["paths"]["/bureau/placements"]["get"]
    assert set(placements["responses"]) == {"200", "400", "401", "408", "409", "413"}
    assert "canonical query" in document["info"]["description"]
    query = {
        p["name"]: p["schema"]
        for p in document["paths"]["/bureau/placements"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert query["limit"]["maximum"] == 500 and query["since"]["minimum"] == 0


def stored(db, ref="JOB-V"):
    return scalar(
        db,
        "SELECT json_build_array(bureau_version, openings, title, updated_at)"
        " FROM jobs.postings WHERE bureau_posting_id = %s",
        ref,
    )


def test_an_older_or_same_version_is_stale_and_changes_nothing(bureau, db):
    base, _ = bureau
    [created] = post(base, [item("JOB-V", version=5, openings=3)]).json()["results"]
    before = stored(db)
    assert before[:3] == [5, 3, "仓库管理员"]
    older, same = item("JOB-V", version=4, openings=9), item("JOB-V", version=5, title="库管")
    results = post(base, [older, same]).json()["results"]
    assert [r["status"] for r in results] == ["stale", "stale"]
    assert [r["posting_id"] for r in results] == [created["posting_id"]] * 2
    assert results[0]["errors"] == {"version": ["4 is older than 5, the version stored"]}
    assert "a change needs a greater version" in results[1]["errors"]["version"][0]
    # Stale even when it is signed anew: the version, not the signature, decides.
    assert post(base, [older]).json()["results"][0]["status"] == "stale"
    assert stored(db) == before
    assert scalar(db, "SELECT count(*) FROM jobs.outbox") == 1  # job_posted only


def test_a_newer_version_is_applied_and_the_same_one_again_is_unchanged(bureau, db):
    base, _ = bureau
    post(base, [item("JOB-V", version=5, openings=3)])
    results = post(
        base, [item("JOB-V", version=7, openings=4), item("JOB-V", version=6, openings=9)]
    ).json()["results"]
    assert [r["status"] for r in results] == ["updated", "stale"]  # in one batch, in order
    assert stored(db)[:2] == [7, 4]
    assert (
        post(base, [item("JOB-V", version=7, openings=4)]).json()["results"][0]["status"]
        == "unchanged"
    )
    # A greater version with the same fields: unchanged, but that version is now the stored
    # one, so an item of version 7 arriving late is stale.
    updated_at = stored(db)[3]
    assert (
        post(base, [item("JOB-V", version=8, openings=4)]).json()["results"][0]["status"]
        == "unchanged"
    )
    assert stored(db) == [8, 4, "仓库管理员", updated_at]
    late = post(base, [item("JOB-V", version=7, openings=1)]).json()["results"][0]
    assert late["status"] == "stale" and stored(db)[:2] == [8, 4]


def test_a_posting_stored_before_versions_takes_any_version(bureau, db):
    base, _ = bureau
    post(base, [item("JOB-V", version=9)])
    with db.cursor() as cur:
        cur.execute("UPDATE jobs.postings SET bureau_version = NULL")
    assert (
        post(base, [item("JOB-V", version=1, openings=4)]).json()["results"][0]["status"]
        == "updated"
    )
    assert stored(db)[:2] == [1, 4]


@pytest.mark.parametrize(
    "version,message",
    [
        (None, "Missing data for required field."),
        (0, "greater than or equal to 1"),
        ("2", "Not a valid integer."),
        (1.5, "Not a valid integer."),
        (True, "Not a valid integer."),
        (2**63, "less than or equal to"),
    ],
)
def test_an_item_without_a_usable_version_is_invalid(bureau, db, version, message):
    base, _ = bureau
    given = item("JOB-V", version=version)
    if version is None:
        del given["version"]
    [result] = post(base, [given]).json()["results"]
    assert result["status"] == "invalid" and message in result["errors"]["version"][0]
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_an_item_that_cannot_be_a_posting_never_blocks_the_others(bureau, db):
    base, _ = bureau
    batch = [
        item("JOB-1"),
        42,
        None,
        item("JOB-NUL", title="仓库\x00管理员"),
        {**item("JOB-4"), "\ud800": 1},
        item("x" * 65),
        item("JOB-2"),
    ]
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
    for body in (
        b"[" * 100_000 + b"]" * 100_000,
        b'{"postings": [NaN]}',
        b"",
        b'{"postings": [], "extra": 1}',
        b'{"postings": "all"}',
    ):
        reply = signed("POST", f"{base}/bureau/postings", body)
        assert reply.status_code == 400, (body[:30], reply.text)
        assert reply.headers["Content-Type"] == "application/json"
        assert set(reply.json()) == {"error", "message", "errors"}
    assert signed("POST", f"{base}/bureau/postings", b'{"postings": [], "extra": 1}').json()[
        "errors"
    ] == {"extra": ["Unknown field."], "postings": ["a batch holds 1 to 500 postings"]}


@pytest.mark.parametrize(
    "header", ["sha256=" + "é" * 64, "sha256=" + "0" * 63, "md5=abc", "sha256=" + "0" * 64]
)
def test_a_malformed_signature_header_is_401(bureau, header):
    base, _ = bureau
    reply = requests.get(
        f"{base}/bureau/placements",
        timeout=15,
        headers={TIMESTAMP: str(int(time.time())), SIGNATURE: header},
    )
    assert reply.status_code == 401 and reply.json()["error"] == "unauthorized"
    assert "X-Bureau-Signature" in reply.headers["WWW-Authenticate"]


def test_a_chunked_body_is_read_and_verified_like_any_other(bureau, db):
    base, _ = bureau
    body = json.dumps({"postings": [item("JOB-C")]}).encode()
    reply = requests.post(
        f"{base}/bureau/postings",
        timeout=15,
        data=(body[i : i + 100] for i in range(0, len(body), 100)),
        headers=bureau_headers("POST", "/bureau/postings", body),
    )
    assert reply.request.headers.get("Transfer-Encoding") == "chunked"
    assert reply.status_code == 200 and reply.json()["results"][0]["status"] == "created"
    huge = (b" " * 65536 for _ in range(17))  # 1.06 MB, no Content-Length
    too_big = requests.post(
        f"{base}/bureau/postings",
        timeout=15,
        data=huge,
        headers=bureau_headers("POST", "/bureau/postings"),
    )
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
    application = rpc.jobs.apply(
        {"veteran_id": vid, "posting_id": posting_id, "channel": "referral"}
    )
    rpc.jobs.advance_application(application["id"], "offered")
    return application


def test_updates_keep_the_employer_the_hires_and_close_a_filled_posting(
    bureau, rpc, known_veteran, db
):
    base, _ = bureau
    lower = item("JOB-5", openings=3)
    lower["employer"] = {**lower["employer"], "uscc": lower["employer"]["uscc"].lower()}
    [created] = post(base, [lower]).json()["results"]
    assert scalar(db, "SELECT uscc FROM jobs.employers") == "91652301MA78K2Q5X3"
    for _ in range(2):
        application = _offered(rpc, known_veteran, created["posting_id"])
        rpc.jobs.hire(application["id"], {"started_on": in_days(1), "salary": 4800})

    other = item("JOB-5", version=2, openings=3, title="库管")
    other["employer"] = {**other["employer"], "uscc": "91110000600037341L"}
    past = item("JOB-5", version=2, openings=3, closes_on=in_days(-1))
    below = item("JOB-5", version=2, openings=1, title="库管")
    results = post(base, [other, past, below]).json()["results"]
    assert [r["status"] for r in results] == ["invalid"] * 3
    assert list(results[0]["errors"]) == ["employer.uscc"]
    assert list(results[1]["errors"]) == ["closes_on"]
    assert results[2]["errors"] == {"openings": ["is below the 2 already hired"]}
    assert scalar(db, "SELECT title || openings FROM jobs.postings") == "仓库管理员3"

    filled = post(base, [item("JOB-5", version=2, openings=2)]).json()["results"][0]
    assert filled["status"] == "updated"
    assert scalar(db, "SELECT status || ':' || closed_reason FROM jobs.postings") == "closed:filled"
    closed = scalar(db, "SELECT body FROM jobs.outbox WHERE routing_key = 'job_closed'")
    assert closed["data"] == {"posting_id": created["posting_id"], "reason": "filled"}
    again = post(base, [item("JOB-5", version=2, openings=2)]).json()["results"][0]
    assert again["status"] == "unchanged"
    assert scalar(db, "SELECT count(*) FROM jobs.outbox WHERE routing_key = 'job_closed'") == 1


def test_a_hire_that_commits_late_is_not_skipped_by_the_cursor(
    bureau, rpc, known_veteran, database_url, db
):
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
                " WHERE a.id = %s RETURNING seq",
                (bureau_today(), first["id"]),
            )
            assert cur.fetchone()[0] == 1
        rpc.jobs.hire(second["id"], {"started_on": in_days(1), "salary": 5000})
        assert scalar(db, "SELECT seq FROM jobs.hires") == 2  # the only one committed
        page = eventlet.spawn(signed, "GET", f"{base}/bureau/placements?since=0")
        # The page's transaction queues behind the open hire for its SHARE lock on hires.
        wait_for(
            lambda: (
                page.dead
                or scalar(
                    db,
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                    " AND relation = 'jobs.hires'::regclass",
                )
            ),
            message="the page waiting on hires",
        )
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
        request.headers.update(bureau_headers(request.method, request.url, body, self.secret))
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
            modes.append(
                (GenerationMode.NEGATIVE, {TIMESTAMP: "0", SIGNATURE: "sha256=" + "0" * 64})
            )
        for mode, fixed in modes:

            @settings(
                max_examples=50,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode, headers=fixed or None))
            def run(case):
                response = case.call_and_validate(base_url=base, auth=auth, timeout=15)
                # run() is called at once, inside the loop: it sees this pass's values.
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
    statuses = sorted({r["status"] for r in reply.wait().json()["results"]} for reply in replies)
    assert statuses == [{"created"}, {"unchanged"}]
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 600
    assert scalar(db, "SELECT count(*) FROM jobs.employers") == 2
