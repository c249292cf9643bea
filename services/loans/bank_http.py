"""The partner banks' HTTP integration (承办银行), a mixin of LoansService, shaped like
jobs' bureau endpoint (services/jobs/bureau.py) and built on the same shared/http.py:

- ``POST /bank/loans/{loan_id}/decision``: ``{outcome: approved, approved_amount,
  term_months, annual_rate, note}`` or ``{outcome: rejected, reason}``;
- ``POST /bank/loans/{loan_id}/disbursement``: ``{disbursed_on}``;
- ``POST /bank/loans/{loan_id}/repayments``: ``{amount, paid_on}``;
- ``POST /bank/loans/{loan_id}/revisits``: ``{visited_on, outcome, note}``;
- ``GET /bank/referrals?since=&limit=``: the applications referred to this bank after a
  cursor, oldest first (no names, ID numbers or phones: the applicant brings the loan id
  to the bank in person);
- ``GET /bank/openapi.json``: the OpenAPI 3 document (unsigned).

Each bank signs with its own secret (config ``BANK_HMAC_SECRETS``: ``code=secret,...``, a
code repeated for rotation) and says who it is in ``X-Bank-Code``; the signature covers
what the bureau's does (``X-Bank-Timestamp``, ``X-Bank-Signature``). A request is taken
once (its signature is claimed in ``bank_signatures`` in the worker's transaction: a replay
is 409), and a bank reports only on loans referred to it (any other is 404, as an unknown
loan). The worker acts as operator ``bank:<code>``."""

from collections.abc import Callable
from dataclasses import dataclass

import structlog
from nameko.timer import timer

from services.loans import referral_domain, replies, schedule
from services.loans import referral_schemas as schemas
from services.loans.domain import Loan
from services.loans.loan_domain import Stamp
from services.loans.schemas import Money
from services.loans.store import LoansStore
from shared import openapi as oas
from shared.auth import check_secret_lengths
from shared.clock import Clock
from shared.errors import InvalidInput
from shared.http import (
    MAX_BODY,
    MAX_SKEW,
    SigningScheme,
    _unauthorized,
    claim,
    forget_before,
)
from shared.validation import load, parse_uuid

log = structlog.get_logger(__name__)
SIGNATURES = "bank_signatures"  # the signatures taken once (shared.http.claim)
BANK_CODE = "X-Bank-Code"


@dataclass(frozen=True)
class BankSigning(SigningScheme):
    """shared/http.py's scheme with a secret per bank: ``secrets`` is ``{code: (secret,
    ...)}``, and a request is checked against the secrets of the bank its ``X-Bank-Code``
    names (an unknown code is 401, as a wrong signature)."""

    code_header: str = BANK_CODE

    @property
    def challenge(self):
        return (
            f'HMAC-SHA256 headers="{self.code_header} {self.timestamp_header} '
            f'{self.signature_header}"'
        )

    def secrets(self, config):
        return bank_secrets(config.get(self.secrets_key), self.secrets_key)

    def check_headers(self, secrets, headers, now=None):
        super().check_headers(secrets, headers, now)
        if headers.get(self.code_header) not in secrets:
            raise _unauthorized(f"{self.code_header} names no bank this service knows")

    def check_signature(self, secrets, headers, method, path, query, body):
        super().check_signature(
            secrets[headers.get(self.code_header)], headers, method, path, query, body
        )


def bank_secrets(raw, key="BANK_HMAC_SECRETS") -> dict[str, tuple[str, ...]]:
    """``code=secret,code=secret`` → ``{code: (secret, ...)}`` (a code given twice has two
    secrets: the first signs, both verify); each at least 32 bytes (else the service does
    not start). Empty: no bank is configured, every signed request is 401."""
    found: dict[str, list[str]] = {}
    for item in str(raw or "").split(","):
        if not item.strip():
            continue
        code, sep, secret = item.strip().partition("=")
        if not sep or not code.strip() or not secret.strip():
            raise ValueError(f"config {key}: each item is code=secret, not {code.strip()!r}…")
        found.setdefault(code.strip(), []).append(secret.strip())
    return {
        code: check_secret_lengths(tuple(secrets), f"config {key} ({code})")
        for code, secrets in found.items()
    }


SIGNING = BankSigning(
    partner="bank",
    timestamp_header="X-Bank-Timestamp",
    signature_header="X-Bank-Signature",
    secrets_key="BANK_HMAC_SECRETS",
)
TIMESTAMP, SIGNATURE = SIGNING.timestamp_header, SIGNING.signature_header


class BankHttp:
    """The banks' endpoints, a mixin of LoansService: what it uses of the service."""

    store: LoansStore
    clock: Clock
    # referral.py's steps, which the operator's RPCs share
    _bank_decision: Callable[..., Loan]
    _bank_disbursement: Callable[..., Loan]
    _bank_repayment: Callable[..., Loan]
    _bank_revisit: Callable[..., referral_domain.Revisit]

    @SIGNING.signed_json("POST", "/bank/loans/<loan_id>/decision")
    def bank_decision(self, request, payload, loan_id):
        loan, stamp = self._bank_loan(request, loan_id)
        return 200, self._bank_reply(self._bank_decision(loan, payload, stamp))

    @SIGNING.signed_json("POST", "/bank/loans/<loan_id>/disbursement")
    def bank_disbursement(self, request, payload, loan_id):
        loan, stamp = self._bank_loan(request, loan_id)
        return 200, self._bank_reply(self._bank_disbursement(loan, payload, stamp))

    @SIGNING.signed_json("POST", "/bank/loans/<loan_id>/repayments")
    def bank_repayment(self, request, payload, loan_id):
        loan, stamp = self._bank_loan(request, loan_id)
        return 200, self._bank_reply(self._bank_repayment(loan, payload, stamp))

    @SIGNING.signed_json("POST", "/bank/loans/<loan_id>/revisits")
    def bank_revisit(self, request, payload, loan_id):
        loan, stamp = self._bank_loan(request, loan_id)
        revisit = self._bank_revisit(loan, payload, stamp)
        return 200, schemas.REVISIT_OUTPUT.dump(
            {
                "revisit_id": revisit.id,
                "loan_id": revisit.loan_id,
                "visited_on": revisit.visited_on,
                "outcome": revisit.outcome,
            }
        )

    @SIGNING.signed_json("GET", "/bank/referrals")
    def bank_referrals(self, request, payload):
        query = load(schemas.REFERRALS_INPUT, dict(request.args.items()))
        self._claim_bank_signature(request)
        rows = self.store.referrals(request.headers[BANK_CODE], query["since"], query["limit"])
        items = [{**row, "amount": replies.money(row["amount"])} for row in rows]
        return 200, schemas.REFERRALS_OUTPUT.dump(
            {"items": items, "next_cursor": rows[-1]["cursor"] if rows else query["since"]}
        )

    @SIGNING.signed_json("GET", "/bank/openapi.json", signed=False)
    def bank_openapi(self, request, payload):
        return 200, openapi()

    @timer(interval=MAX_SKEW)
    def forget_bank_signatures(self):
        """Signatures older than the window are refused as stale anyway: forgotten."""
        return self.store.forget_signatures(SIGNATURES, forget_before())

    # -- helpers --------------------------------------------------------------------------
    def _bank_loan(self, request, loan_id) -> tuple[Loan, Stamp]:
        """The loan (locked) when it was referred to the signing bank, else 404 as an
        unknown one; the request's signature claimed; the bank's stamp."""
        bank_code = request.headers[BANK_CODE]
        try:
            key = parse_uuid(loan_id, "loan_id")
        except InvalidInput:  # not an id: no such loan either
            key = None
        loan = self.store.get_loan(key, lock=True) if key is not None else None
        loan = referral_domain.reported_by(loan, bank_code, loan_id)
        self._claim_bank_signature(request)
        stamp = Stamp(
            self.clock.now(), self.clock.today(), referral_domain.bank_operator(bank_code)
        )
        return loan, stamp

    def _claim_bank_signature(self, request):
        claim(self.store, SIGNATURES, request)

    def _bank_reply(self, loan: Loan) -> dict:
        """The loan as stored now, as its bank sees it."""
        stored = self.store.get_loan(loan.id) or loan
        instalments = self.store.instalments(loan.id) if stored.disbursed_on else []
        return schemas.BANK_LOAN_OUTPUT.dump(present_bank_loan(stored, instalments))


def present_bank_loan(loan: Loan, instalments) -> dict:
    return {
        "loan_id": loan.id,
        "status": loan.status,
        "product_code": loan.product_code,
        "amount": replies.money(loan.amount),
        "approved_amount": (
            replies.money(loan.approved_amount) if loan.approved_amount is not None else None
        ),
        "term_months": loan.term_months,
        "annual_rate": str(loan.annual_rate.normalize()) if loan.annual_rate is not None else None,
        "referred_on": loan.referred_on,
        "approved_on": loan.approved_on,
        "disbursed_on": loan.disbursed_on,
        "closed_on": loan.closed_on,
        "days_overdue": loan.days_overdue,
        "outstanding": (
            replies.money(schedule.totals(instalments)["outstanding"]) if instalments else None
        ),
    }


def _field_formats(converter, field, **kwargs):
    """apispec attribute function: money and rates are strings of a known shape."""
    if isinstance(field, Money):
        return {"type": "string", "pattern": schemas.MONEY_PATTERN, "example": "100000.00"}
    if isinstance(field, schemas.Rate):
        return {"type": "string", "pattern": schemas.RATE_PATTERN, "example": "0.0385"}
    return {}


def openapi():
    """The banks' OpenAPI 3 document, from the schemas the endpoints load and dump with."""
    spec = oas.document(
        "veteran-services loans: partner banks' referral integration",
        (
            f"Every request but this document carries {BANK_CODE} (the bank's code), "
            f"{TIMESTAMP} (unix seconds, within {MAX_SKEW} s of the server's clock) and "
            f"{SIGNATURE}: sha256=<hex of HMAC-SHA256 with the bank's own secret over the "
            "string to sign>. The string to sign is five lines joined by LF, none after "
            "the last: the timestamp as sent; the method; the path without the query; the "
            "canonical query (pairs decoded, percent-encoded again leaving only A-Z a-z "
            "0-9 - . _ ~, upper-case hex, sorted by name, joined with '&'; empty for "
            "none); the lowercase hex SHA-256 of the raw body (of no bytes for a GET). A "
            "signature is good once (409 replayed). A bank reports only on loans referred "
            "to it: any other loan is 404. Money is a string with at most two decimals, "
            f"rates a string with at most six. Bodies are at most {MAX_BODY} bytes. "
            'Refusals are {"error", "message", "errors": {field: [messages]}}.'
        ),
        (
            ("Decision", schemas.DecisionSchema),
            ("Disbursement", schemas.BankDisbursementSchema),
            ("Repayment", schemas.BankRepaymentSchema),
            ("Revisit", schemas.RevisitSchema),
            ("BankLoan", schemas.BankLoanSchema),
            ("RevisitRecorded", schemas.BankRevisitSchema),
            ("Referrals", schemas.ReferralsSchema),
            ("Error", schemas.ErrorSchema),
        ),
        _field_formats,
    )
    signed = [
        {
            "in": "header",
            "name": BANK_CODE,
            "required": True,
            "description": "the bank's code (products.yaml banks)",
            "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
        },
        *oas.signed_headers(TIMESTAMP, SIGNATURE, "the bank's secret"),
    ]
    loan_id = {
        "in": "path",
        "name": "loan_id",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": "the loan's id, as referred (GET /bank/referrals)",
    }

    error = oas.error
    refused = {
        "400": error("malformed JSON, or invalid fields or parameters (messages in errors)"),
        "401": error("no secret for this bank, or a missing, wrong or stale signature"),
        "408": error("the body did not arrive within the server's body timeout"),
        "409": error(
            "replayed (a signature is good once), or a report the loan's state does not "
            "allow (a decision on a loan decided already, a disbursement twice)"
        ),
        "413": error(f"a body over {MAX_BODY} bytes"),
        "503": error("the database is busy or unreachable; send again, signed anew"),
    }
    reports = (
        ("decision", "Decision", "BankLoan", "The bank's decision on a referred loan"),
        ("disbursement", "Disbursement", "BankLoan", "The bank paid the approved loan out"),
        ("repayments", "Repayment", "BankLoan", "A repayment the bank collected"),
        ("revisits", "Revisit", "RevisitRecorded", "A post-loan revisit (回访)"),
    )
    for path, body, reply, summary in reports:
        spec.path(
            path=f"/bank/loans/{{loan_id}}/{path}",
            operations={
                "post": {
                    "summary": summary,
                    "parameters": [loan_id, *signed],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": {
                        "200": {
                            "description": "what was recorded",
                            "content": {"application/json": {"schema": reply}},
                        },
                        "404": error("no loan with this id referred to this bank"),
                        **refused,
                    },
                }
            },
        )
    spec.path(
        path="/bank/referrals",
        operations={
            "get": {
                "summary": "Applications referred to this bank after a cursor, oldest first",
                "description": "Ask again with since=next_cursor; an empty page keeps it.",
                "parameters": signed + [{"in": "query", "schema": schemas.ReferralsQuerySchema}],
                "responses": {
                    "200": {
                        "description": "referrals and the next cursor",
                        "content": {"application/json": {"schema": "Referrals"}},
                    },
                    **refused,
                },
            }
        },
    )
    return oas.finish(spec, "/bank/openapi.json")
