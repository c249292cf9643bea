"""Event contracts: the envelope every event travels in, and one marshmallow schema per
event type. Producers dump through them (so a bad event fails in the producer's own
transaction, not in every consumer); consumers load through them.

    {"event_id": "uuid4", "type": "veteran_registered", "version": 1,
     "occurred_at": "2026-11-28T03:15:00+00:00", "source": "registry",
     "correlation_id": "…", "data": {…}}
"""

import uuid
from dataclasses import dataclass, field

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from shared.contracts import followup, jobs, loans, registry, training

SCHEMAS = {
    (module.__name__.rsplit(".", 1)[1], event_type): schema
    for module in (registry, jobs, loans, training, followup)
    for event_type, schema in module.SCHEMAS.items()
}
VERSION = 1


class ContractError(Exception):
    """An event does not match its contract (a producer bug or a foreign message)."""


@dataclass(frozen=True)
class Event:
    """What domain code returns: a type and its data. The envelope is added on the way out."""

    type: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedEvent:
    event_id: str
    type: str
    source: str
    occurred_at: str
    correlation_id: str | None
    version: int
    data: dict


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True)
    correlation_id = fields.String(allow_none=True, load_default=None)
    data = fields.Dict(required=True)


_envelope = EnvelopeSchema()


def schema_for(source, event_type):
    try:
        return SCHEMAS[(source, event_type)]
    except KeyError:
        raise ContractError(f"no contract for {source}.{event_type}") from None


def dump_data(source, event):
    schema = schema_for(source, event.type)
    try:
        data = schema.dump(event.data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ContractError(f"{source}.{event.type} cannot be dumped: {exc}") from exc
    errors = schema.validate(data)
    if errors:
        raise ContractError(f"{source}.{event.type} breaks its contract: {errors}")
    return data


def envelope(source, event, correlation_id, occurred_at):
    return {
        "event_id": str(uuid.uuid4()),
        "type": event.type,
        "version": VERSION,
        "occurred_at": occurred_at.isoformat(),
        "source": source,
        "correlation_id": correlation_id,
        "data": dump_data(source, event),
    }


def load_event(body):
    """Envelope and data checked against the contract; data comes back as JSON types."""
    try:
        head = _envelope.load(body)
        schema = schema_for(head["source"], head["type"])
        data = schema.load(head["data"])
    except ValidationError as exc:
        raise ContractError(f"event breaks its contract: {exc.messages}") from exc
    return ReceivedEvent(
        event_id=str(head["event_id"]),
        type=head["type"],
        source=head["source"],
        occurred_at=body["occurred_at"],
        correlation_id=head["correlation_id"],
        version=head["version"],
        data=data,
    )
