"""Registering many veterans in one call: ``register_veterans(batch)`` answers each row
created, conflict or invalid, and writes the good rows set-based (a statement per table
for the whole batch) in the worker's one transaction: exactly what as many single
registrations would write, and nothing at all if any statement fails."""

import uuid
from typing import Any

import eventlet
import structlog
from marshmallow import ValidationError

from services.registry import card_rules, domain
from services.registry.schemas import RegisterVeteranSchema
from services.registry.worker import RegistryWorker
from shared.auth import WRITE
from shared.bounded import bounded_rpc
from shared.errors import Forbidden, flatten_errors
from shared.validation import checking_on, invalid

log = structlog.get_logger(__name__)
MAX_ROWS = 1000
MAX_DUPLICATES = domain.MAX_DUPLICATES
OUTSIDE_COUNTIES = "outside your counties"
OUTSIDE_STATIONS = "outside your stations"
UNSTORABLE = "contains a character that cannot be stored (NUL or a lone surrogate)"
ROW_INPUT = RegisterVeteranSchema()  # built once: construction costs more than a load
# Rows between yields to the other green threads of the process (the outbox relay, other
# calls, /readyz): a batch's pure-Python stretches would otherwise hold them off for 100+
# ms. 25 rows are 5-10 ms of validation; with BULK_CONCURRENCY batches taking turns, a
# probe waits for one stretch of each.
YIELD_EVERY = 25
# Batches running at once in a process (BULK_CONCURRENCY); the others wait without a
# worker, so that health() and the other RPCs keep the rest of max_workers.
DEFAULT_CONCURRENCY = 2

CREATED, CONFLICT, INVALID = "created", "conflict", "invalid"


class BulkRpcs(RegistryWorker):
    @bounded_rpc(
        "BULK_CONCURRENCY",
        DEFAULT_CONCURRENCY,
        roles=WRITE,
        sensitive_arguments=("batch",),
        stations=True,
    )
    def register_veterans(self, batch):
        """Up to 1,000 registrations → ``{results: [{row, status, id, errors}]}`` in input
        order; a bad row never blocks the good ones."""
        check_batch(batch)
        operator = self.auth.operator
        results, commands = validate_rows(
            batch, operator.may_see, self.clock.today(), may_use_station=self._may_use_station
        )
        claims, repeats = first_claims(commands)
        numbers = [c["preferential_card_number"] for c in claims.values()]
        numbers = [n for n in numbers if n]
        held = self.store.card_numbers_held(numbers) if numbers else set()
        for index in card_number_clashes(claims, held):
            results[index] = result(
                index, INVALID, errors={"preferential_card_number": [CARD_NUMBER_HELD]}
            )
            del claims[index]
        for command in claims.values():
            command["collected_by"] = command["collected_by"] or operator.id
        rules = card_rules.load()
        now = self.clock.now()
        scope, stations = self.auth.scope(), self.stations_in_scope()
        taken = self.store.holders(
            [command["id_number"] for command in claims.values()],
            counties=scope,
            stations=stations,
        )
        drafts = {
            index: domain.register(command, str(uuid.uuid4()), now, rules=rules)
            for index, command in _cooperatively(claims.items())
            if command["id_number"] not in taken
        }
        while True:
            registered = self._with_duplicates(drafts, scope, stations)
            # Between our look-up and our insert another transaction may register one of
            # these ID numbers: then nothing was kept, and we go again without it.
            lost = self.store.add_veterans(
                [veteran for veteran, _ in registered.values()],
                created_by=operator.id,
                counties=scope,
                stations=stations,
            )
            if not lost:
                break
            taken.update(lost)
            drafts = {i: d for i, d in drafts.items() if d[0].id_number not in lost}
        self.store.audit_many(
            operator,
            "register_veteran",
            "veteran",
            [veteran.id for veteran, _ in registered.values()],
            now,
        )
        self.emit_recorded([event for _, events in registered.values() for event in events])
        results.update(outcomes(claims, repeats, taken, registered))
        replies = [results[index] for index in range(len(batch))]
        log.info(
            "veterans.bulk_registered",
            rows=len(batch),
            operator_id=operator.id,
            **{
                status: sum(r["status"] == status for r in replies)
                for status in (CREATED, CONFLICT, INVALID)
            },
        )
        return {"results": replies}

    def _may_use_station(self, station_code):
        try:
            self.auth.require_station(station_code)
        except Forbidden:
            return False
        return True

    def _with_duplicates(self, drafts, scope, stations=None):
        """The drafts (``{index: (veteran, events)}``), those with possible duplicates among
        existing cards in the caller's counties (``scope``, None: all) and the batch's
        earlier rows flagged and listing them."""
        veterans = [(index, veteran) for index, (veteran, _) in drafts.items()]
        existing = self.store.duplicates_of(
            [(index, v.name, v.birth_date, v.county_code, v.phone) for index, v in veterans],
            counties=scope,
            stations=stations,
        )
        duplicates = batch_duplicates(veterans, existing)
        return {
            index: domain.with_duplicates(veteran, events, duplicates[index])
            if index in duplicates
            else (veteran, events)
            for index, (veteran, events) in _cooperatively(drafts.items())
        }


def check_batch(batch):
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_ROWS:
        errors = {"batch": [f"must be a list of 1 to {MAX_ROWS} registrations"]}
        raise invalid(errors)


def result(index, status, veteran_id=None, errors=None):
    return {"row": index, "status": status, "id": veteran_id, "errors": errors or {}}


def validate_rows(batch, may_see, today, may_use_station=lambda station_code: True):
    """Each row through the single registration's schema (date rules as of ``today``), and
    its county (and station, for a station token) against the operator's. →
    ``({index: invalid result}, {index: command})``."""
    invalid, commands = {}, {}
    for index, data in _cooperatively(enumerate(batch)):
        try:
            with checking_on(today):
                command = ROW_INPUT.load(data)
        except ValidationError as exc:
            errors = flatten_errors(exc.messages)
            county = data.get("county_code") if isinstance(data, dict) else None
            if "county_code" not in errors and isinstance(county, str) and not may_see(county):
                errors["county_code"] = [OUTSIDE_COUNTIES]
            invalid[index] = result(index, INVALID, errors=errors)
            continue
        unstorable = {name: [UNSTORABLE] for name, value in command.items() if _unstorable(value)}
        if unstorable:
            invalid[index] = result(index, INVALID, errors=unstorable)
            continue
        if not may_see(command["county_code"]):
            invalid[index] = result(index, INVALID, errors={"county_code": [OUTSIDE_COUNTIES]})
            continue
        if not may_use_station(command["station_code"]):
            invalid[index] = result(index, INVALID, errors={"station_code": [OUTSIDE_STATIONS]})
            continue
        commands[index] = command
    return invalid, commands


def _cooperatively(items, every=YIELD_EVERY):
    for position, item in enumerate(items):
        if position and position % every == 0:
            eventlet.sleep(0)
        yield item


def _unstorable(value):
    # PostgreSQL text holds neither NUL nor a lone surrogate (no UTF-8 for it), and the
    # schema lets both through: caught here, such a row is invalid instead of failing the
    # statement that writes the whole batch.
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, (list, tuple)):
        return any(_unstorable(v) for v in value)
    if isinstance(value, dict):
        return any(_unstorable(v) for v in value.values())
    return False


CARD_NUMBER_HELD = "is already on another card"


def card_number_clashes(claims, held):
    """Indexes of the rows whose preferential card number another card holds (``held``,
    the numbers already registered) or an earlier row of the batch claims."""
    seen = set(held)
    clashes = []
    for index, command in claims.items():
        number = command.get("preferential_card_number")
        if number and number in seen:
            clashes.append(index)
        elif number:
            seen.add(number)
    return clashes


def first_claims(commands):
    """The first valid row of each ID number claims it; later rows repeat it.
    → ``({index: command}, {index: index of the claiming row})``, in input order."""
    claims, repeats = {}, {}
    claimed_by: dict[str, int] = {}
    for index, command in commands.items():
        first = claimed_by.setdefault(command["id_number"], index)
        if first == index:
            claims[index] = command
        else:
            repeats[index] = first
    return claims, repeats


def batch_duplicates(veterans, existing, limit=MAX_DUPLICATES):
    """Possible duplicates of each of ``[(index, veteran)]`` (input order): the existing
    cards found for it (``{index: [ids]}``, oldest first), then the batch's earlier rows
    with the same name, birth date and county or the same phone, up to ``limit``."""
    by_identity: dict[tuple[Any, ...], list[int]] = {}
    by_phone: dict[str, list[int]] = {}
    found = {}
    for position, (index, veteran) in enumerate(veterans):
        identity = (veteran.name, veteran.birth_date, veteran.county_code)
        same_identity = by_identity.setdefault(identity, [])
        same_phone = by_phone.setdefault(veteran.phone, []) if veteran.phone else []
        ids = list(existing.get(index, ()))[:limit]
        if len(ids) < limit and (same_identity or same_phone):
            earlier = sorted(set(same_identity[:limit]) | set(same_phone[:limit]))
            ids += [veterans[p][1].id for p in earlier][: limit - len(ids)]
        if ids:
            found[index] = ids
        same_identity.append(position)
        if veteran.phone:
            same_phone.append(position)
    return found


def outcomes(claims, repeats, taken, registered):
    """Results of the valid rows: created, or conflict naming the card that holds the ID
    number (an existing one, or the one this batch made from an earlier row); ``id`` is
    None when that card is outside the caller's counties."""
    out = {}
    for index, command in claims.items():
        if index in registered:
            veteran = registered[index][0]
            out[index] = {**result(index, CREATED, veteran.id), "flags": list(veteran.flags)}
        else:
            out[index] = result(
                index, CONFLICT, taken[command["id_number"]], {"id_number": ["already registered"]}
            )
    for index, first in repeats.items():
        holder = out[first]["id"]
        out[index] = result(
            index, CONFLICT, holder, {"id_number": [f"repeats row {first} of this batch"]}
        )
    return out
