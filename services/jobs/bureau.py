"""The employment bureau's HTTP integration (就业局), a mixin of JobsService:

- ``POST /bureau/postings``: ``{"postings": [...]}``, up to 500, upserted by the bureau's
  own ``bureau_posting_id``; a result per item (created, updated, unchanged, invalid with
  field messages); repeating a batch changes nothing.
- ``GET /bureau/placements?since=&limit=``: hires after a cursor, oldest first, and the
  cursor to ask from next.
- ``GET /bureau/openapi.json``: the OpenAPI 3 document, generated from the schemas the
  endpoints load with.

Every request but the document is signed (shared/http.py)."""
import json
import uuid

import structlog
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from services.jobs import domain, schemas
from shared.db import Store
from shared.errors import InvalidInput
from shared.http import MAX_BODY, SIGNATURE, TIMESTAMP, signed_json
from shared.validation import invalid, load

log = structlog.get_logger(__name__)
MAX_ITEMS = 500
BUREAU = "bureau"
# What the bureau may change on a posting it sent before.
UPDATABLE = ("title", "occupation", "skills_required", "certificates_preferred", "county_code",
             "salary_min", "salary_max", "openings", "closes_on", "dedicated", "description")


class BatchSchema(Schema):
    postings = fields.List(fields.Dict(), required=True,
                           validate=validate.Length(min=1, max=MAX_ITEMS))


class ItemResultSchema(Schema):
    index = fields.Integer(required=True)
    bureau_posting_id = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["created", "updated", "unchanged", "invalid"]))
    posting_id = fields.String(allow_none=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(ItemResultSchema), required=True)


class PlacementSchema(Schema):
    cursor = fields.Integer(required=True)
    application_id = fields.String(required=True)
    veteran_id = fields.String(required=True)
    posting_id = fields.String(required=True)
    bureau_posting_id = fields.String(allow_none=True)
    employer_uscc = fields.String(allow_none=True)
    employer_name = fields.String(required=True)
    county_code = fields.String(required=True)
    started_on = fields.Date(required=True)
    salary = fields.Integer(required=True)
    channel = fields.String(required=True)
    dedicated = fields.Boolean(required=True)


class PlacementsSchema(Schema):
    items = fields.List(fields.Nested(PlacementSchema), required=True)
    next_cursor = fields.Integer(required=True)


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


BATCH_INPUT = BatchSchema()


class BureauStore(Store):
    def lock_bureau_id(self, bureau_posting_id):
        """One writer per bureau posting id at a time (two batches naming it at once)."""
        with self.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                        (f"bureau-posting:{bureau_posting_id}",))

    def bureau_posting(self, bureau_posting_id):
        with self.dict_cursor() as cur:
            cur.execute("SELECT * FROM postings WHERE bureau_posting_id = %s",
                        (bureau_posting_id,))
            return cur.fetchone()

    def update_posting(self, posting_id, changes, now):
        sets = ", ".join(f"{column} = %s" for column in changes)
        with self.cursor() as cur:
            cur.execute(f"UPDATE postings SET {sets}, updated_at = %s WHERE id = %s",
                        [*changes.values(), now, posting_id])

    def placements(self, since, limit):
        with self.dict_cursor() as cur:
            cur.execute(
                "SELECT h.seq AS cursor, h.application_id::text, h.veteran_id::text,"
                " h.posting_id::text, p.bureau_posting_id, e.uscc AS employer_uscc,"
                " e.name AS employer_name, h.county_code, h.started_on, h.salary, h.channel,"
                " h.dedicated FROM hires h JOIN postings p ON p.id = h.posting_id"
                " JOIN employers e ON e.id = h.employer_id WHERE h.seq > %s"
                " ORDER BY h.seq LIMIT %s", (since, limit))
            return cur.fetchall()


class BureauHttp:
    @signed_json("POST", "/bureau/postings")
    def bureau_postings(self, request, payload):
        batch = load(BATCH_INPUT, payload)["postings"]
        results = [self._bureau_item(index, item) for index, item in enumerate(batch)]
        counts = {status: sum(r["status"] == status for r in results)
                  for status in ("created", "updated", "unchanged", "invalid")}
        log.info("bureau.postings", items=len(batch), **counts)
        return 200, {"results": results}

    def _bureau_item(self, index, item):
        reference = item.get("bureau_posting_id") if isinstance(item, dict) else None
        result = {"index": index, "bureau_posting_id": reference if isinstance(reference, str)
                  else None, "posting_id": None, "errors": {}}
        try:
            command = load(schemas.BUREAU_POSTING_INPUT, item)
            self.store.lock_bureau_id(command["bureau_posting_id"])
            existing = self.store.bureau_posting(command["bureau_posting_id"])
            if existing is None:
                status, posting_id = "created", self._bureau_create(command)
            else:
                status, posting_id = self._bureau_update(existing, command), str(existing["id"])
        except InvalidInput as exc:
            return {**result, "status": "invalid", "errors": exc.errors}
        return {**result, "status": status, "posting_id": posting_id}

    def _bureau_create(self, command):
        if command["closes_on"] < self.clock.today():  # before anything is written
            raise invalid({"closes_on": ["is in the past"]})
        named = command.pop("employer")
        employer = self.store.employer_by_uscc(named["uscc"])
        if employer is None:
            row = {**named, "id": str(uuid.uuid4()), "contact_name": None,
                   "contact_phone": None, "federation_member": False,
                   "created_at": self.clock.now(), "created_by": BUREAU}
            # Another batch may register the same employer meanwhile: then take theirs.
            employer = row if self.store.add_employer(row) is None else \
                self.store.employer_by_uscc(named["uscc"])
        bureau_id = command.pop("bureau_posting_id")
        return self._new_posting(command, employer, "bureau", operator_id=BUREAU,
                                 bureau_id=bureau_id)["id"]

    def _bureau_update(self, existing, command):
        changes = {key: command[key] for key in UPDATABLE
                   if _comparable(command[key]) != _comparable(existing[key])}
        if not changes:
            return "unchanged"
        if command["openings"] < existing["hired"]:
            raise invalid({"openings": [f"is below the {existing['hired']} already hired"]})
        self.store.update_posting(existing["id"], changes, self.clock.now())
        return "updated"

    @signed_json("GET", "/bureau/placements")
    def bureau_placements(self, request, payload):
        query = load(schemas.PLACEMENTS_INPUT, dict(request.args.items()))
        rows = self.store.placements(query["since"], query["limit"])
        return 200, {"items": [domain.plain(row) for row in rows],
                     "next_cursor": rows[-1]["cursor"] if rows else query["since"]}

    @signed_json("GET", "/bureau/openapi.json", signed=False)
    def bureau_openapi(self, request, payload):
        return 200, openapi()


def _comparable(value):
    return sorted(value) if isinstance(value, (list, tuple)) else value


def openapi():
    """The bureau's OpenAPI 3 document, from the schemas the endpoints load with."""
    spec = APISpec(title="veteran-services jobs: employment bureau integration", version="1",
                   openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": (
                       f"Every request but this document carries {TIMESTAMP} (unix seconds, "
                       f"within 5 minutes of now) and {SIGNATURE}: sha256=<hex HMAC-SHA256 of "
                       "'<timestamp>.' + the raw body, with the shared secret>. Bodies are "
                       f"at most {MAX_BODY} bytes.")})
    for name, schema in (("BureauPosting", schemas.BureauPostingSchema),
                         ("BatchResult", BatchResultSchema), ("Placements", PlacementsSchema),
                         ("Error", ErrorSchema)):
        spec.components.schema(name, schema=schema)
    signed = [{"in": "header", "name": TIMESTAMP, "required": True,
               "schema": {"type": "string"}},
              {"in": "header", "name": SIGNATURE, "required": True,
               "schema": {"type": "string"}}]

    def error(description):
        return {"description": description,
                "content": {"application/json": {"schema": "Error"}}}

    refused = {"400": error("malformed JSON or invalid parameters"),
               "401": error("missing, wrong or stale signature"),
               "413": error("body over 1 MB")}
    spec.path(path="/bureau/postings", operations={"post": {
        "summary": "Upsert postings by the bureau's own posting id",
        "parameters": signed,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["postings"], "properties": {"postings": {
                "type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
                "items": {"$ref": "#/components/schemas/BureauPosting"}}}}}}},
        "responses": {"200": {"description": "a result per item",
                              "content": {"application/json": {"schema": "BatchResult"}}},
                      **refused}}})
    spec.path(path="/bureau/placements", operations={"get": {
        "summary": "Hires after a cursor, oldest first",
        "parameters": signed + [
            {"in": "query", "name": "since", "schema": {"type": "integer", "minimum": 0}},
            {"in": "query", "name": "limit",
             "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
        "responses": {"200": {"description": "placements and the next cursor",
                              "content": {"application/json": {"schema": "Placements"}}},
                      **refused}}})
    spec.path(path="/bureau/openapi.json", operations={"get": {
        "summary": "This document", "responses": {"200": {"description": "OpenAPI 3"}}}})
    return json.loads(json.dumps(spec.to_dict()))
