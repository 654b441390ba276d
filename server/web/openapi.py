"""What the served OpenAPI document (``/schema/openapi.json``) says beyond Litestar's defaults.

Other clients rely on the document (docs/sync.md) and tests/test_schemathesis.py holds the
server to it, so it must say what the server does: the JSON error bodies of server/web/errors.py
and which routes answer them, the request strings the middleware refuses, the unknown keys
a Struct refuses, schema keywords known only once the settings are read, and the body of a
route that reads its raw body itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin  # no public name in Litestar 2
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import PathParameter
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

# The middleware refuses a NUL anywhere in a request (no database can store one): request
# strings say so, or a schema-valid request would be refused.
NO_NUL = r"^[^\x00]*$"


def text(most: int, least: int = 0) -> Any:
    """A request string of ``least`` to ``most`` characters, none of them NUL."""
    return Annotated[str, msgspec.Meta(min_length=least, max_length=most, pattern=NO_NUL)]


PathText = Annotated[str, PathParameter(pattern=NO_NUL)]


class ApiError(msgspec.Struct):
    """An error as server/web/errors.py writes it."""

    status_code: int
    detail: str
    # For clients that act on the kind of error rather than its English wording: "session_ended".
    code: str | None = None
    extra: list[dict[str, Any]] | dict[str, Any] | None = None


ERRORS = {
    400: "Malformed JSON, a field missing or of the wrong type (named in `extra`), or text holding a NUL character",
    401: 'Not logged in, or the login lapsed; with `"code": "session_ended"` when council staff ended '
    "this login: the client wipes the group data it holds",
    403: "CSRF token missing or wrong (send the `csrftoken` cookie back in `x-csrftoken`), "
    "or logged in but not allowed",
    404: "Not found, or outside the caller's scope (so other groups' existence does not leak)",
    409: "Conflict with the current state",
    413: "Request body over 1 MiB",
    422: "Well formed, but a value is not acceptable (said in `detail`)",
    429: "Too many requests; `Retry-After` says when to try again",
}


def error_responses(
    *codes: int, why: Mapping[int, str] | None = None, bodies: Mapping[int, type] | None = None
) -> dict[int, ResponseSpec]:
    """``responses=`` for a route that can answer ``codes``: the error body of server/web/errors.py
    (or a route's own, ``bodies``) and the usual meaning (or the route's own, ``why``)."""
    why, bodies = why or {}, bodies or {}
    return {
        code: ResponseSpec(bodies.get(code, ApiError), description=why.get(code, ERRORS[code]), generate_examples=False)
        for code in codes
    }


@dataclass(frozen=True)
class Late:
    """Schema keywords of a field worked out when the document is first built, from the
    settings the server runs with (read at start-up, not at import)."""

    keywords: Callable[[], dict[str, Any]]


class LateKeywordsPlugin(OpenAPISchemaPlugin):
    """Applies ``Annotated[..., Late(...)]`` (msgspec ignores the marker when decoding)."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return any(isinstance(item, Late) for item in field_definition.metadata)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator) -> Schema:
        schema = schema_creator.for_field_definition(FieldDefinition.from_annotation(field_definition.annotation))
        for item in field_definition.metadata:
            if isinstance(item, Late):
                for keyword, value in item.keywords().items():
                    setattr(schema, keyword, value)
        return schema


class ClosedStructPlugin(StructSchemaPlugin):
    """A Struct with ``forbid_unknown_fields`` refuses unknown keys (400): its schema says
    ``additionalProperties: false``, which Litestar leaves out."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return (
            super().is_plugin_supported_field(field_definition)
            and field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


SCHEMA_PLUGINS = [LateKeywordsPlugin(), ClosedStructPlugin()]


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """``schema`` with msgspec's ``$defs`` references replaced by what they name (an operation's
    schema cannot carry ``$defs`` of its own: there ``#`` is the whole document)."""
    if isinstance(schema, dict):
        if (ref := schema.get("$ref", "")).startswith("#/$defs/"):
            return _inlined(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


def _without_nul(schema: Any) -> Any:
    """``schema`` with every free-form string refusing NUL, as the server does (the sync push,
    which the middleware leaves alone, in its own envelope check: sync/wire.py)."""
    if isinstance(schema, dict):
        schema = {key: _without_nul(value) for key, value in schema.items()}
        if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
            schema["pattern"] = NO_NUL
        return schema
    if isinstance(schema, list):
        return [_without_nul(item) for item in schema]
    return schema


def raw_json_body(struct: type[msgspec.Struct], description: str) -> type[Operation]:
    """``operation_class=`` for a route that decodes its raw body itself (strictly, with
    msgspec): documents that body as required, with the schema msgspec decodes it by."""
    generated = msgspec.json.schema(struct)
    body = _without_nul(_inlined(generated, generated.get("$defs", {})))

    @dataclass
    class RawJsonBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True, description=description, content={"application/json": OpenAPIMediaType(schema=body)}
            )

    return RawJsonBodyOperation
