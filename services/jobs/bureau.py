"""The employment bureau's HTTP integration (就业局), a mixin of JobsService:

- ``POST /bureau/postings``: ``{"postings": [...]}``, 1 to 500, upserted by the bureau's
  own ``bureau_posting_id`` in one transaction; a result per item (created, updated,
  unchanged, stale: a version not newer than the stored one, invalid with field
  messages); repeating a batch changes nothing.
- ``GET /bureau/placements?since=&limit=``: hires after a cursor, oldest first, and the
  cursor to ask from next.
- ``GET /bureau/openapi.json``: the OpenAPI 3 document, generated from the schemas the
  endpoints load with and dump through (schemas.py).

Every request but the document is signed (shared/http.py, with the bureau's header names
and secrets' config key: ``SIGNING``) and taken once: its signature
is recorded in ``bureau_signatures`` in the worker's transaction, so a replay, on this
replica or another, is 409 ``replayed``. The worker acts as operator ``bureau``."""

import inspect
import uuid

import structlog
from marshmallow import ValidationError
from nameko.timer import timer
from stdnum.cn import uscc as uscc_number

from services.jobs import bureau_domain, domain, schemas
from services.jobs.store import JobsStore
from shared import openapi as oas
from shared.clock import Clock
from shared.errors import Conflict, InvalidInput, flatten_errors
from shared.http import MAX_BODY, MAX_SKEW, SigningScheme, claim, forget_before
from shared.jurisdiction import Jurisdiction
from shared.taxonomy import Taxonomy
from shared.validation import invalid, load, unstorable_strings

log = structlog.get_logger(__name__)
SIGNATURES = "bureau_signatures"  # the signatures taken once (shared.http.claim)
# How the bureau signs its requests: its headers, and the secrets it shares with jobs
# (config BUREAU_HMAC_SECRETS, from the environment's BUREAU_HMAC_SECRET).
SIGNING = SigningScheme(
    partner="bureau",
    timestamp_header="X-Bureau-Timestamp",
    signature_header="X-Bureau-Signature",
    secrets_key="BUREAU_HMAC_SECRETS",
    secrets_env="BUREAU_HMAC_SECRET",
)
TIMESTAMP, SIGNATURE = SIGNING.timestamp_header, SIGNING.signature_header
BUREAU = "bureau"  # the operator (created_by, logs) of everything the bureau sends


class BureauHttp:
    """The bureau's endpoints, a mixin of JobsService: what it uses of the service."""

    store: JobsStore
    clock: Clock

    @SIGNING.signed_json("POST", "/bureau/postings")
    def bureau_postings(self, request, payload):
        batch = _load_batch(payload)
        self._claim(request)
        self.store.lock_bureau_batches()
        results = [self._bureau_item(index, item) for index, item in enumerate(batch)]
        counts = {
            status: sum(r["status"] == status for r in results) for status in schemas.ITEM_STATUSES
        }
        log.info("bureau.postings", items=len(batch), operator_id=BUREAU, **counts)
        return 200, schemas.BATCH_OUTPUT.dump({"results": results})

    def _bureau_item(self, index, item):
        result = {
            "index": index,
            "bureau_posting_id": _reference(item),
            "posting_id": None,
            "errors": {},
        }
        existing = None
        try:
            command = load(schemas.BUREAU_POSTING_INPUT, item)
            named = command.pop("employer")
            named["uscc"] = uscc_number.compact(named["uscc"])
            named["name"] = named["name"].strip()
            reference, version = command.pop("bureau_posting_id"), command.pop("version")
            existing = self.store.bureau_posting(reference, lock=True)
            if existing is None:
                status = "created"
                posting_id = self._bureau_create(command, named, reference, version)
            else:
                status = self._bureau_update(*existing, command, named["uscc"], version)
                posting_id = existing[0].id
        except InvalidInput as exc:
            return {**result, "status": "invalid", "errors": exc.errors}
        except bureau_domain.Stale as exc:
            return {
                **result,
                "status": "stale",
                "posting_id": existing[0].id if existing else None,
                "errors": {"version": [str(exc)]},
            }
        return {**result, "status": status, "posting_id": posting_id}

    def _bureau_create(self, command, named, reference, version):
        domain.require_future_close(command["closes_on"], self.clock.today())  # before writing
        employer = self.store.employer_by_uscc(named["uscc"]) or self._bureau_employer(named)
        posting, events = domain.post(
            command,
            employer,
            "bureau",
            str(uuid.uuid4()),
            self.clock.now(),
            self.clock.today(),
            BUREAU,
            bureau_posting_id=reference,
            bureau_version=version,
        )
        self.store.add_posting(posting)
        self.store.emit(*events)
        return posting.id

    def _bureau_employer(self, named):
        """A new employer the bureau names by its credit code; one registered meanwhile (a
        clerk, another batch) is taken as it is."""
        employer = domain.new_employer(named, str(uuid.uuid4()), self.clock.now(), BUREAU)
        try:
            self.store.add_employer(employer)
        except Conflict:
            return self.store.employer_by_uscc(named["uscc"])
        return employer

    def _bureau_update(self, existing, employer_uscc, command, uscc, version):
        """What the bureau changed, when its version is newer (bureau_domain.revise)."""
        revision = bureau_domain.revise(
            existing, employer_uscc, command, uscc, version, self.clock.today()
        )
        self.store.save_revision(existing, revision, self.clock.now())
        self.store.emit(*revision.events)
        return revision.status

    @SIGNING.signed_json("GET", "/bureau/placements")
    def bureau_placements(self, request, payload):
        query = load(schemas.PLACEMENTS_INPUT, dict(request.args.items()))
        self._claim(request)
        placements = self.store.placements(query["since"], query["limit"])
        return 200, schemas.PLACEMENTS_OUTPUT.dump(
            {
                "items": placements,
                "next_cursor": placements[-1].cursor if placements else query["since"],
            }
        )

    def _claim(self, request):
        claim(self.store, SIGNATURES, request)

    @timer(interval=MAX_SKEW)
    def forget_bureau_signatures(self):
        """Signatures older than the window are refused as stale anyway: forgotten, so the
        table holds only the last minutes' requests (replicas may run this at once)."""
        return self.store.forget_signatures(SIGNATURES, forget_before())

    @SIGNING.signed_json("GET", "/bureau/openapi.json", signed=False)
    def bureau_openapi(self, request, payload):
        return 200, openapi()


def _load_batch(payload):
    # Not shared.validation.load: it refuses the whole payload for one item's NUL.
    try:
        return schemas.BATCH_INPUT.load(payload)["postings"]
    except ValidationError as exc:
        raise invalid(flatten_errors(exc.messages)) from None


def _reference(item):
    """The item's own id to echo in its result, when it is one that can be echoed."""
    value = item.get("bureau_posting_id") if isinstance(item, dict) else None
    if isinstance(value, str) and len(value) <= 64 and not unstorable_strings(value):
        return value
    return None


def _known_codes(converter, field, **kwargs):
    """apispec attribute function: the codes a jurisdiction or taxonomy validator accepts,
    as an ``enum``, so the document says what the validators say."""
    for validator in getattr(field, "validators", ()):
        names = getattr(validator, "__qualname__", "")
        if names.startswith("county_validator."):
            return {"enum": Jurisdiction.load().codes()}
        if names.startswith("code_of."):
            category = inspect.getclosurevars(validator).nonlocals.get("category")
            return {"enum": sorted(Taxonomy.load().codes(str(category)))}
    return {}


def openapi():
    """The bureau's OpenAPI 3 document, from the schemas the endpoints load with."""
    spec = oas.document(
        "veteran-services jobs: employment bureau integration",
        (
            f"Every request but this document carries {TIMESTAMP} (unix seconds, within "
            f"{MAX_SKEW} s of the server's clock) and {SIGNATURE}: sha256=<hex of "
            "HMAC-SHA256 with the shared secret over the string to sign>. The string to "
            "sign is five lines joined by LF, none after the last: the timestamp as sent; "
            "the method (POST, GET); the path without the query; the canonical query (each "
            "name and value decoded, '+' a space, then percent-encoded from its UTF-8 bytes "
            "leaving only A-Z a-z 0-9 - . _ ~, upper-case hex; pairs sorted by name, a "
            "repeated name keeping its order; joined name=value with '&'; empty for none, "
            "e.g. limit=100&since=0); the lowercase hex SHA-256 of the raw body (of no "
            f"bytes for a GET). Bodies are at most {MAX_BODY} bytes. Refusals are "
            '{"error", "message", "errors": {field: [messages]}}.'
        ),
        (
            ("BureauPosting", schemas.BureauPostingSchema),
            ("BureauBatch", schemas.BatchDocSchema),
            ("BatchResult", schemas.BatchResultSchema),
            ("Placements", schemas.PlacementsSchema),
            ("Error", schemas.ErrorSchema),
        ),
        _known_codes,
    )
    signed = oas.signed_headers(TIMESTAMP, SIGNATURE, "secret")

    error = oas.error
    refused = {
        "400": error(
            "malformed JSON, a body that is not an object, or invalid "
            "parameters (field messages in errors)"
        ),
        "401": error("no secret configured, or a missing, wrong or stale signature"),
        "408": error(
            "the body did not arrive within the server's body timeout "
            "(HTTP_BODY_TIMEOUT); the connection is closed"
        ),
        "409": error(
            "replayed: a request with this signature has been taken "
            "already (a signature is good once; sign again to resend)"
        ),
        "413": error(f"a body over {MAX_BODY} bytes"),
    }
    spec.path(
        path="/bureau/postings",
        operations={
            "post": {
                "summary": "Upsert postings by the bureau's own posting id",
                "description": (
                    "One transaction per batch, 200 with a result per item. Items are validated "
                    "one by one, by design: an item that does not match BureauPosting (or breaks a "
                    "rule of the stored posting: its employer, hires already made, a past "
                    "closes_on) is answered with status invalid and its field messages while the "
                    "others go in, so a 200 does not mean every item was taken: read each result's "
                    "status. Only a bad envelope (not 1 to 500 postings, an unknown key) refuses "
                    "the whole batch (400). A new bureau_posting_id is created (a new employer, by "
                    "uscc, registered). For a known one, version decides: not greater than the "
                    "stored version is stale and changes nothing (the stored version with equal "
                    "fields: unchanged); greater, with fields equal to the stored posting, is "
                    "unchanged (the version is recorded); greater and changed updates it. version "
                    "is required: an item without it is invalid."
                ),
                "parameters": signed,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": "BureauBatch"}},
                },
                "responses": {
                    "200": {
                        "description": "a result per item, in order",
                        "content": {"application/json": {"schema": "BatchResult"}},
                    },
                    **refused,
                },
            }
        },
    )
    spec.path(
        path="/bureau/placements",
        operations={
            "get": {
                "summary": "Hires after a cursor, oldest first",
                "description": "Ask again with since=next_cursor; an empty page keeps the cursor.",
                "parameters": signed + [{"in": "query", "schema": schemas.PlacementsQuerySchema}],
                "responses": {
                    "200": {
                        "description": "placements and the next cursor",
                        "content": {"application/json": {"schema": "Placements"}},
                    },
                    **refused,
                },
            }
        },
    )
    return oas.finish(spec, "/bureau/openapi.json")
