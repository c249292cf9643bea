"""The referral workflow on the real servers: a 退役军人创业贷 application verified and
referred by the bureau, then decided, disbursed, repaid and revisited by the partner bank
through its signed HTTP endpoint (real HTTP to loans' web server), each event seen on the
bus and the disbursement planned as business revisits by followup; replays, bad signatures
and another bank's requests refused and changing nothing; the operator's RPC path; and a
property-based run of schemathesis against the banks' own document."""

import collections
import datetime as dt
import json
import urllib.parse
import uuid
from decimal import Decimal

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container
from nameko.web.server import WebServer

from services.followup.service import FollowupService
from services.loans.bank_http import BANK_CODE, SIGNATURE, SIGNING, TIMESTAMP
from services.loans.service import LoansService
from shared.errors import Conflict
from shared.http import string_to_sign
from tests.helpers import bureau_now, bureau_today, publish, registered_event, scalar, wait_for

PRODUCT = "tuiyi_junren_chuangye"
SECRET_A = "demo-bank-a-shared-secret-0123456789abcdef"
SECRET_B = "demo-bank-b-shared-secret-0123456789abcdef"
SECRETS = f"demo_bank_a={SECRET_A},demo_bank_b={SECRET_B}"
_signed = set()


def bank_headers(method, url, body=b"", code="demo_bank_a", secret=SECRET_A):
    """The X-Bank-* headers of ``method url`` with ``body``, signed as a bank signs (a
    request signed here before within the same second is dated a second earlier, as a
    bank resending signs anew); to replay, reuse the headers."""
    parts = urllib.parse.urlsplit(url)
    stamp = int(bureau_now().timestamp())
    while (secret, string_to_sign(str(stamp), method, parts.path, parts.query, body)) in _signed:
        stamp -= 1
    _signed.add((secret, string_to_sign(str(stamp), method, parts.path, parts.query, body)))
    headers = SIGNING.headers(secret, stamp, method, parts.path, parts.query, body)
    return {**headers, BANK_CODE: code}


def send(method, url, data=None, headers=None, **signing):
    body = b"" if data is None else json.dumps(data).encode()
    headers = headers or bank_headers(method, url, body, **signing)
    reply = requests.request(
        method, url, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=15
    )
    return reply, headers


def base_of(runner):
    container = get_container(runner, LoansService)
    server = next(e for e in container.extensions if isinstance(e, WebServer))
    return f"http://127.0.0.1:{server._sock.getsockname()[1]}"


@pytest.fixture
def runner(start):
    return start(LoansService, FollowupService, BANK_HMAC_SECRETS=SECRETS)


@pytest.fixture
def base(runner):
    return base_of(runner)


@pytest.fixture
def veteran(runner, config):
    """``veteran()``: a veteran loans knows (delivered as registry would)."""
    loans = get_container(runner, LoansService)

    def make(**facts):
        event = registered_event(**{"willingness": "business", **facts})
        with entrypoint_waiter(loans, "on_registry_events", timeout=15):
            publish(config, event)
        return event["data"]["veteran_id"]

    return make


@pytest.fixture
def bus(config):
    """``bus()``: the (routing key, data) of every event loans published since the fixture
    was made, read from a queue bound to loans' exchange."""
    conn = Connection(config["AMQP_URI"])
    exchange = Exchange("loans.events", type="topic", durable=True)
    queue = Queue(f"test-bank-{uuid.uuid4().hex}", exchange, routing_key="#", auto_delete=True)
    bound = queue(conn.default_channel)
    bound.declare()
    seen = []

    def read():
        while (message := bound.get(no_ack=True)) is not None:
            body = json.loads(message.body)
            if body["type"] != "loan_eligibility_assessed":
                seen.append((body["type"], body["data"]))
        return seen

    yield read
    bound.delete()
    conn.release()


def referred_loan(rpc, veteran_id, bank="demo_bank_a", amount="120000.00"):
    loan = rpc.loans.apply_loan(
        {
            "veteran_id": veteran_id,
            "product_code": PRODUCT,
            "amount": amount,
            "term_months": 36,
            "purpose": "开办农机服务社",
        }
    )
    assert loan["workflow"] == "referral" and loan["status"] == "submitted"
    referred = rpc.loans.refer_loan(loan["id"], {"bank_code": bank, "note": "退役证已核验"})
    assert referred["status"] == "referred" and referred["bank_code"] == bank
    return loan["id"]


def test_a_referral_from_application_to_revisit_through_the_banks_signed_http(
    base, veteran, rpc, db, bus
):
    vid = veteran()
    loan_id = referred_loan(rpc, vid)
    today = bureau_today().isoformat()

    page, _ = send("GET", f"{base}/bank/referrals?since=0&limit=10")
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert item["loan_id"] == loan_id and item["amount"] == "120000.00"
    assert not {"name", "id_number", "phone", "veteran_id"} & set(item)

    decision = {
        "outcome": "approved",
        "approved_amount": "100000.00",
        "term_months": 24,
        "annual_rate": "0.0385",
        "note": "授信通过",
    }
    reply, _ = send("POST", f"{base}/bank/loans/{loan_id}/decision", decision)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "approved" and reply.json()["annual_rate"] == "0.0385"

    reply, _ = send("POST", f"{base}/bank/loans/{loan_id}/disbursement", {"disbursed_on": today})
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "active" and reply.json()["disbursed_on"] == today
    got = rpc.loans.get_loan(loan_id)
    assert len(got["schedule"]) == 24
    assert sum(Decimal(i["principal"]) for i in got["schedule"]) == Decimal("100000.00")
    first_due = got["schedule"][0]["due"]
    assert got["schedule"][0]["interest"] == "320.83"  # 100,000 × 3.85 % / 12
    # The bank's decision is the signing: its rate against the LPR in force then, and the
    # subsidy rule in force (50 % of the actual rate), each cited.
    pricing = got["pricing"]
    assert (pricing["annual_rate"], pricing["lpr"], pricing["rate_spread"]) == (
        "0.0385",
        "0.03",
        "0.0085",
    )
    assert pricing["lpr_entry"]["id"] == "lpr-demo-2025-01" and pricing["lpr_entry"]["demo"]
    assert (pricing["subsidy_rule"]["id"], pricing["subsidy_share"]) == ("loan-subsidy-2023", "0.5")
    assert got["schedule"][0]["subsidised_interest"] == "160.42"  # half of 320.83, to the fen

    reply, _ = send(
        "POST", f"{base}/bank/loans/{loan_id}/repayments", {"amount": first_due, "paid_on": today}
    )
    assert reply.status_code == 200, reply.text
    outstanding = Decimal(got["totals"]["outstanding"]) - Decimal(first_due)
    assert reply.json()["outstanding"] == f"{outstanding:.2f}"

    revisit = {"visited_on": today, "outcome": "operating", "note": "农机服务社运营正常"}
    reply, _ = send("POST", f"{base}/bank/loans/{loan_id}/revisits", revisit)
    assert reply.status_code == 200, reply.text
    assert reply.json()["outcome"] == "operating"

    history = rpc.loans.get_loan(loan_id)["history"]
    assert [(h["to_status"], h["operator_id"]) for h in history][1:] == [
        ("referred", "op-test"),
        ("approved", "bank:demo_bank_a"),
        ("active", "bank:demo_bank_a"),
    ]
    wanted = ["loan_referred", "loan_approved", "loan_disbursed", "loan_revisit_reported"]
    wait_for(lambda: {t for t, _ in bus()} >= set(wanted), message="the events on the bus")
    events = dict(bus())
    assert events["loan_referred"] == {
        "loan_id": loan_id,
        "veteran_id": vid,
        "product_code": PRODUCT,
        "bank_code": "demo_bank_a",
    }
    assert events["loan_approved"]["amount"] == "100000.00"
    assert events["loan_disbursed"]["disbursed_on"] == today
    assert events["loan_revisit_reported"] == {
        "loan_id": loan_id,
        "veteran_id": vid,
        "visited_on": today,
        "outcome": "operating",
    }
    # followup plans business revisits from the bank's disbursement, as from the bureau's.
    wait_for(
        lambda: (
            scalar(db, "SELECT count(*) FROM followup.revisits WHERE veteran_id = %s", vid) == 3
        ),
        message="followup's revisit plan",
    )
    first = scalar(
        db,
        "SELECT min(due_on) FROM followup.revisits WHERE veteran_id = %s AND kind = 'business'",
        vid,
    )
    assert first == bureau_today() + dt.timedelta(days=30)


def test_a_replayed_request_is_409_and_changes_nothing(base, veteran, rpc, db):
    loan_id = referred_loan(rpc, veteran())
    decision = {"outcome": "rejected", "reason": "经营计划不可行"}
    url = f"{base}/bank/loans/{loan_id}/decision"
    first, headers = send("POST", url, decision)
    assert first.status_code == 200 and first.json()["status"] == "rejected"
    outbox = scalar(db, "SELECT count(*) FROM loans.outbox")
    history = scalar(db, "SELECT count(*) FROM loans.loan_history")
    again, _ = send("POST", url, decision, headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "replayed"
    assert scalar(db, "SELECT count(*) FROM loans.outbox") == outbox
    assert scalar(db, "SELECT count(*) FROM loans.loan_history") == history


def test_a_replayed_repayment_is_not_taken_twice(base, veteran, rpc, db):
    loan_id = referred_loan(rpc, veteran())
    rpc.loans.record_bank_decision(
        loan_id,
        {
            "outcome": "approved",
            "approved_amount": "50000.00",
            "term_months": 12,
            "annual_rate": "0.04",
        },
    )
    today = bureau_today().isoformat()
    rpc.loans.record_bank_disbursement(loan_id, {"disbursed_on": today})
    url = f"{base}/bank/loans/{loan_id}/repayments"
    first, headers = send("POST", url, {"amount": "1000.00", "paid_on": today})
    assert first.status_code == 200, first.text
    again, _ = send("POST", url, {"amount": "1000.00", "paid_on": today}, headers=headers)
    assert again.status_code == 409
    assert scalar(db, "SELECT count(*) FROM loans.repayments WHERE loan_id = %s", loan_id) == 1


def test_a_bad_signature_is_401_and_another_banks_request_404(base, veteran, rpc, db):
    loan_id = referred_loan(rpc, veteran())  # referred to demo_bank_a
    url = f"{base}/bank/loans/{loan_id}/decision"
    decision = {"outcome": "rejected", "reason": "x"}
    forged, _ = send("POST", url, decision, secret="not-the-banks-secret-0123456789abcdef")
    assert forged.status_code == 401 and forged.json()["error"] == "unauthorized"
    assert "X-Bank-Code" in forged.headers["WWW-Authenticate"]
    posing, _ = send("POST", url, decision, code="demo_bank_b")  # B's code, A's secret
    assert posing.status_code == 401
    unknown, _ = send("POST", url, decision, code="no_such_bank")
    assert unknown.status_code == 401

    other, _ = send("POST", url, decision, code="demo_bank_b", secret=SECRET_B)
    assert other.status_code == 404 and other.json()["error"] == "not_found"
    missing, _ = send("POST", f"{base}/bank/loans/{uuid.uuid4()}/decision", decision)
    assert missing.status_code == 404
    assert other.json()["message"].replace(loan_id, "ID") == missing.json()["message"].replace(
        missing.url.split("/")[-2], "ID"
    )
    nonsense, _ = send("POST", f"{base}/bank/loans/not-an-id/decision", decision)
    assert nonsense.status_code == 404
    assert rpc.loans.get_loan(loan_id)["status"] == "referred"
    page, _ = send("GET", f"{base}/bank/referrals", code="demo_bank_b", secret=SECRET_B)
    assert page.status_code == 200 and page.json() == {"items": [], "next_cursor": 0}


def test_a_bad_body_is_400_with_reasons_and_an_illegal_report_409(base, veteran, rpc):
    loan_id = referred_loan(rpc, veteran())
    url = f"{base}/bank/loans/{loan_id}"
    reply, _ = send("POST", f"{url}/decision", {"outcome": "approved", "annual_rate": "0.04"})
    assert reply.status_code == 400
    assert set(reply.json()["errors"]) == {"approved_amount", "term_months"}
    as_float = {"outcome": "approved", "approved_amount": "1000.00", "term_months": 12}
    reply, _ = send("POST", f"{url}/decision", {**as_float, "annual_rate": 0.04})
    assert reply.status_code == 400 and "as a string" in reply.json()["errors"]["annual_rate"][0]
    over = {
        "outcome": "approved",
        "approved_amount": "130000.00",
        "term_months": 48,
        "annual_rate": "0.04",
    }
    reply, _ = send("POST", f"{url}/decision", over)
    assert reply.status_code == 400
    assert set(reply.json()["errors"]) == {"approved_amount", "term_months"}
    raw = requests.post(
        f"{url}/decision",
        data=b"{not json",
        headers={**bank_headers("POST", f"{url}/decision", b"{not json")},
        timeout=15,
    )
    assert raw.status_code == 400 and raw.json()["error"] == "malformed_json"
    reply, _ = send("POST", f"{url}/disbursement", {"disbursed_on": bureau_today().isoformat()})
    assert reply.status_code == 409 and reply.json()["error"] == "conflict"
    assert rpc.loans.get_loan(loan_id)["status"] == "referred"


def test_the_operator_enters_the_banks_reports_by_rpc(runner, veteran, rpc, db):
    vid = veteran()
    in_house = rpc.loans.apply_loan(
        {
            "veteran_id": vid,
            "product_code": "yongjun_chuangye",
            "amount": "50000.00",
            "term_months": 12,
            "purpose": "开店",
        }
    )
    with pytest.raises(Conflict) as caught:
        rpc.loans.refer_loan(in_house["id"], {"bank_code": "demo_bank_a"})
    assert "in_house" in caught.value.message

    loan_id = referred_loan(rpc, vid, bank="demo_bank_b")
    with pytest.raises(Conflict) as caught:
        rpc.loans.approve_loan(loan_id, {})
    assert "referral workflow" in caught.value.message
    approved = rpc.loans.record_bank_decision(
        loan_id,
        {
            "outcome": "approved",
            "approved_amount": "90000.00",
            "term_months": 24,
            "annual_rate": "0.035",
        },
    )
    assert approved["status"] == "approved" and approved["approved_amount"] == "90000.00"
    with pytest.raises(Conflict):
        rpc.loans.disburse_loan(loan_id, {"disbursed_on": bureau_today().isoformat()})
    today = bureau_today().isoformat()
    active = rpc.loans.record_bank_disbursement(loan_id, {"disbursed_on": today})
    assert active["status"] == "active" and active["term_months"] == 24
    repaid = rpc.loans.record_bank_repayment(loan_id, {"amount": "500.00", "paid_on": today})
    assert repaid["repayments"][0]["amount"] == "500.00"
    visit = rpc.loans.record_bank_revisit(
        loan_id, {"visited_on": today, "outcome": "struggling", "note": "客流下降"}
    )
    assert visit["outcome"] == "struggling"
    assert [v["outcome"] for v in rpc.loans.loan_revisits(loan_id)] == ["struggling"]
    history = rpc.loans.get_loan(loan_id)["history"]
    assert [h["to_status"] for h in history] == ["submitted", "referred", "approved", "active"]

    stats = rpc.loans.stats("652301")["by_workflow"]
    assert stats["referral"] == {
        "applications": 1,
        "referred": 1,
        "approved": 1,
        "disbursed": 1,
        "disbursed_amount": "90000.00",
    }
    assert stats["in_house"] == {"applications": 1, "disbursed": 0, "disbursed_amount": "0.00"}


def test_a_referral_can_be_withdrawn_before_the_bank_decides(base, veteran, rpc):
    loan_id = referred_loan(rpc, veteran())
    assert rpc.loans.withdraw_loan(loan_id)["status"] == "withdrawn"
    reply, _ = send(
        "POST",
        f"{base}/bank/loans/{loan_id}/decision",
        {"outcome": "rejected", "reason": "x"},
    )
    assert reply.status_code == 409


class BankAuth(requests.auth.AuthBase):
    """Signs the prepared request (its final body) the way demo_bank_a does."""

    def __call__(self, request):
        body = request.body or b""
        body = body.encode("utf-8") if isinstance(body, str) else body
        request.headers.update(bank_headers(request.method, request.url, body))
        return request


def test_schemathesis_finds_no_server_error_and_no_response_off_the_document(base, veteran, rpc):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode

    referred_loan(rpc, veteran())  # so that a page of referrals has an item
    schema = schemathesis.openapi.from_url(f"{base}/bank/openapi.json")
    auth, seen, failures = BankAuth(), collections.Counter(), []
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [(GenerationMode.POSITIVE, {})]
        fixed = {BANK_CODE: "demo_bank_a", TIMESTAMP: "0", SIGNATURE: "sha256=" + "0" * 64}
        modes.append((GenerationMode.NEGATIVE, fixed))
        for mode, headers in modes:

            @settings(
                max_examples=30,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode, headers=headers or None))
            def run(case):
                response = case.call_and_validate(base_url=base, auth=auth, timeout=15)
                seen[(operation.path, mode.value, response.status_code)] += 1

            try:
                run()
            except Exception as exc:  # collect, so that every operation runs
                failures.append(f"{operation.method} {operation.path} {mode.value}: {exc}")
    assert failures == []
    assert seen[("/bank/referrals", "positive", 200)] > 10
    assert sum(n for (path, _, status), n in seen.items() if status in (400, 404)) > 10
    assert not [key for key in seen if key[2] >= 500]
