"""The OpenAPI 3 documents of the partners' signed HTTP (jobs' employment bureau, loans'
partner banks), built one way: from the marshmallow schemas the endpoints load and dump
with (apispec), the signing headers of ``shared.http``, JSON refusals, and the unsigned
document itself at its own path. schemathesis checks each service against its document."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin


def document(
    title: str,
    description: str,
    components: Iterable[tuple[str, Any]],
    attribute_function: Callable[..., dict] | None = None,
) -> APISpec:
    """An OpenAPI 3.0.3 document with ``components`` (name, marshmallow schema) and
    ``attribute_function`` (apispec's hook adding attributes to a field's schema)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=title,
        version="1",
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": description},
    )
    if plugin.converter is None:  # APISpec(plugins=[plugin]) above sets it
        raise RuntimeError("apispec did not initialise its marshmallow plugin")
    if attribute_function is not None:
        plugin.converter.add_attribute_function(attribute_function)
    for name, schema in components:
        spec.components.schema(name, schema=schema)
    return spec


def signed_headers(timestamp: str, signature: str, secret: str) -> list[dict[str, Any]]:
    """The two headers of a signed request (``secret``: whose secret signs, for the text)."""
    return [
        {
            "in": "header",
            "name": timestamp,
            "required": True,
            "description": "unix seconds, within 5 minutes of now",
            "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
        },
        {
            "in": "header",
            "name": signature,
            "required": True,
            "description": f"sha256=<hex HMAC-SHA256({secret}, timestamp LF method LF "
            "path LF canonical query LF hex SHA-256 of the body)>",
            "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
        },
    ]


def error(description: str) -> dict[str, Any]:
    """A refusal's response: the JSON ``Error`` component."""
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


def finish(spec: APISpec, path: str) -> dict[str, Any]:
    """The document as plain JSON, with its own (unsigned) ``path`` in it."""
    spec.path(
        path=path,
        operations={
            "get": {
                "summary": "This document (unsigned)",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.0",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    )
    return json.loads(json.dumps(spec.to_dict()))
