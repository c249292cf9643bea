"""`vetctl demo` makes loans by both workflows: the bureau's own, and loans referred to the
demo banks whose decisions, disbursements and revisits go through loans' signed HTTP when
the demo knows the banks' secrets (else an operator's RPCs); the report shows both."""

import json

import pytest
from nameko.testing.utils import get_container
from nameko.web.server import WebServer

from services.loans.service import LoansService
from tests.helpers import scalar
from tests.integration.vetctl.conftest import service_classes

SECRETS = (
    "demo_bank_a=demo-a-secret-for-the-demo-0123456789abcdef,"
    "demo_bank_b=demo-b-secret-for-the-demo-0123456789abcdef"
)


@pytest.fixture
def banked(start, monkeypatch):
    """Every service, loans with the demo banks' secrets; the demo told them and where
    loans' web server listens."""
    runner = start(*service_classes(), BANK_HMAC_SECRETS=SECRETS)
    server = next(
        e for e in get_container(runner, LoansService).extensions if isinstance(e, WebServer)
    )
    monkeypatch.setenv("BANK_HMAC_SECRETS", SECRETS)
    monkeypatch.setenv("WEB_SERVER_ADDRESS_LOANS", f"127.0.0.1:{server._sock.getsockname()[1]}")
    return runner


def test_the_demo_reports_as_the_banks_over_signed_http_and_the_report_shows_both(
    banked, vetctl, db
):
    summary = json.loads(vetctl("--json", "demo", "--veterans", "60"))
    assert summary["loans"] >= 1 and summary["referred"] >= 3
    by_bank = scalar(
        db,
        "SELECT count(*) FROM loans.loan_history WHERE left(operator_id, 5) = 'bank:'",
    )
    assert by_bank >= 3  # decisions and disbursements stamped by the banks themselves
    assert scalar(db, "SELECT count(*) FROM loans.bank_signatures") >= by_bank
    assert scalar(db, "SELECT count(*) FROM loans.loan_revisits") >= 1
    document = json.loads(vetctl("report", "--format", "json", "--lang", "en"))
    figures = document["areas"]["prefecture"]
    in_house, referral = figures["loans_in_house"], figures["loans_referral"]
    assert int(in_house.split(" / ")[0]) == summary["loans"]
    referred, approved, disbursed, _ = referral.split(" / ")
    assert int(referred) == summary["referred"] and int(disbursed) >= 1
    assert int(approved) >= int(disbursed)
