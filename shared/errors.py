"""The project's errors, the only ones an RPC caller should ever see for bad input.

    ServiceError
    ├── InvalidInput(message, {field: [messages]})   bad input; nothing was changed
    ├── NotFound(message)                             the record does not exist
    ├── Conflict(message, details)                    clashes with the current state
    ├── Unauthorized(message)                         no valid token
    ├── Forbidden(message)                            token valid, call not allowed
    ├── MalformedRequest(message)                     the request message itself is bad
    │                                                 (refused at the bus boundary)
    └── StatementTimeout(message, details)            the database cancelled a statement
                                                      that ran past the service's
                                                      statement_timeout; nothing was changed

They are registered with nameko so that a ClusterRpcProxy caller gets the class
itself back (``except InvalidInput as exc: exc.errors``); other clients see the
class name as ``exc_type``. Constructor arguments are positional and JSON-safe
because nameko rebuilds the instance as ``cls(*exc_args)``.
"""

from nameko.exceptions import deserialize_to_instance

from shared.logging import mask_text


class ServiceError(Exception):
    def __init__(self, message, details=None):
        super().__init__(message, details if details is not None else {})
        self.message = message
        self.details = self.args[1]

    def __str__(self):
        return self.message

    def to_dict(self):
        return {"error": type(self).__name__, "message": self.message, "details": self.details}


@deserialize_to_instance
class InvalidInput(ServiceError):
    """``details`` maps a field (dotted for nested ones) to a list of messages."""

    @property
    def errors(self):
        return self.details


@deserialize_to_instance
class NotFound(ServiceError):
    pass


@deserialize_to_instance
class Conflict(ServiceError):
    pass


@deserialize_to_instance
class Unauthorized(ServiceError):
    pass


@deserialize_to_instance
class Forbidden(ServiceError):
    pass


@deserialize_to_instance
class MalformedRequest(ServiceError):
    pass


@deserialize_to_instance
class StatementTimeout(ServiceError):
    """``details``: ``{"statement_timeout_ms": "15000"}`` (text: nameko carries every
    detail as text). The call's transaction was rolled back; try again later, or with
    less at once."""


def flatten_errors(messages, prefix=""):
    """marshmallow's nested ``{field: {0: {sub: [..]}}}`` → ``{"field.0.sub": [..]}``."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
    elif isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, (list, tuple)):
        for index, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def invalid(errors):
    """``InvalidInput`` for ``{field: [messages]}``, its message naming every field: what
    the edge (``shared.validation``) and the domains raise alike."""
    return InvalidInput(describe(errors), errors)


def describe(errors):
    """A one-line summary naming every bad field, for clients that show only a message."""
    return "invalid input: " + "; ".join(
        f"{_field_name(field)}: {' '.join(messages)}" for field, messages in sorted(errors.items())
    )


def _field_name(field):
    """A field as the message names it: an unknown one is the caller's own text (any key
    of the payload), so at most 40 characters and masked."""
    return mask_text(str(field))[:40]
