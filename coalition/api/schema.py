"""OpenAPI pieces shared by every view: the Token scheme, the error bodies and the responses each
kind of operation documents (so every status a client can get is in the schema)."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers


class APIKeyScheme(OpenApiAuthenticationExtension):
    """Documents coalition.api.authentication.APIKeyAuthentication as an ``Authorization`` header."""

    target_class = "coalition.api.authentication.APIKeyAuthentication"
    name = "TokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An API key sent as `Authorization: Token <key>`. Keys are issued with "
                "`python manage.py create_api_key USERNAME` and shown once; only their SHA-256 digest is "
                "stored. A revoked key, or a key of an inactive user, is answered with 401."
            ),
        }


class ReadNullableFieldScheme(OpenApiSerializerFieldExtension):
    """coalition.api.serializers.ReadNullableCharField: nullable in responses, never in requests."""

    target_class = "coalition.api.serializers.ReadNullableCharField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["nullable"] = True
        return schema


class VisibleRecordScheme(OpenApiSerializerFieldExtension):
    """coalition.api.serializers.VisibleRecordField: an id, a whole number from 1 to the largest bigint."""

    target_class = "coalition.api.serializers.VisibleRecordField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=2**63 - 1)
        return schema


def agree_with_server(result, generator, request, public):
    """What the server reads, said in the schema where drf-spectacular's defaults say less (a
    POSTPROCESSING_HOOKS entry). Its pattern for a decimal string (``^-?\\d{0,16}(?:\\.\\d{0,2})?$``)
    also matches "", "-" and "1.", which no decimal field reads: each part gets at least one digit."""

    def walk(node):
        if isinstance(node, dict):
            pattern = node.get("pattern")
            if node.get("format") == "decimal" and isinstance(pattern, str):
                node["pattern"] = re.sub(r"\\d\{0,(\d+)\}", r"\\d{1,\1}", pattern)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    # DRF's CharField strips whitespace before it checks for blank (str.strip: "\x1c" and "\xa0" too) and
    # refuses NUL, so a request's text says so as a pattern.
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        for prop in component.get("properties", {}).values():
            if prop.get("type") != "string" or {"pattern", "enum"} & prop.keys():
                continue
            if "format" not in prop:
                # No NUL (DRF's CharField refuses it), and if required, something besides whitespace.
                prop["pattern"] = (
                    r"^[^\u0000]*[^\u0000\s][^\u0000]*$" if prop.get("minLength", 0) >= 1 else r"^[^\u0000]*$"
                )
    # A PATCH must carry the version read (UpdateMixin refuses it without one): drf-spectacular makes
    # every field of a partial update optional, so the version is made required again here.
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("Patched") and "version" in component.get("properties", {}):
            component["required"] = sorted({*component.get("required", []), "version"})
    return result


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


#: 400: each field that is wrong with its messages; ``non_field_errors`` for the record as a whole;
#: ``detail`` for a body that is not JSON at all.
VALIDATION_ERROR = {
    "type": "object",
    "description": "Each field in error with a list of messages a person can act on.",
    "properties": {
        "detail": {"type": "string", "description": "A request that could not be read (malformed JSON)."},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "description": "Errors of a list's items, by position."},
        ]
    },
}

CONFLICT = inline_serializer(
    "ConflictError",
    {
        "version": serializers.ListField(child=serializers.CharField(), help_text="Why the write was refused."),
        "current_version": serializers.IntegerField(help_text="The record's version now: reload it and retry."),
    },
)


def _error(description, example):
    return OpenApiResponse(
        ErrorSerializer, description=description, examples=[OpenApiExample("error", {"detail": example})]
    )


UNAUTHENTICATED = _error(
    "No key, or a revoked or unknown key (`WWW-Authenticate: Token`).", "Invalid or revoked API key."
)
FORBIDDEN = _error("Your role may not do this.", "You may only change pledges of your own member.")
NOT_FOUND = _error("No such record, or not one you may see.", "No Pledge matches the given query.")
THROTTLED = _error("Too many requests: wait the `Retry-After` seconds.", "Request was throttled.")
NOT_ACCEPTABLE = _error("No representation in the format asked for.", "Could not satisfy the request Accept header.")
UNSUPPORTED = _error("The body is not JSON.", 'Unsupported media type "text/plain" in request.')
TOO_LARGE = _error("The body is larger than the API reads.", "The request body is larger than 2,621,440 bytes.")
NOT_MODIFIED = OpenApiResponse(description="Not modified: the `If-None-Match` ETag still matches.")
BAD_REQUEST = OpenApiResponse(VALIDATION_ERROR, description="Invalid input: the fields and what is wrong with them.")
CONFLICT_RESPONSE = OpenApiResponse(CONFLICT, description="The record changed since you read this version.")

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of a copy you hold: answered with 304 and no body while it is current.",
)
VERSION_QUERY = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="The version you read; if the record has changed since, the delete is refused with 409.",
)


def read_responses(serializer, *, listing=False):
    """Responses of a GET: the body, 304, and the errors a reader can get."""
    responses = {
        200: serializer,
        304: NOT_MODIFIED,
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        406: NOT_ACCEPTABLE,
        429: THROTTLED,
    }
    if listing:
        responses[400] = BAD_REQUEST  # a filter value that is not valid
    return responses


def csv_list_responses(serializer):
    """A list's responses, with the CSV body documented as text."""
    responses = read_responses(serializer, listing=True)
    responses[(200, "application/json")] = responses.pop(200)
    responses[(200, "text/csv")] = OpenApiResponse(
        OpenApiTypes.STR,
        description="`?format=csv`: the page as CSV, with names beside codes (member_code, member_name, ...). "
        "The `Link` header has the next and previous pages; `X-Total-Count` the number of rows.",
    )
    return responses


def write_responses(serializer, status=200, *, conflict=True):
    """Responses of a write: the record, and every error a writer can get."""
    responses = {
        status: serializer,
        400: BAD_REQUEST,
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        406: NOT_ACCEPTABLE,
        413: TOO_LARGE,
        415: UNSUPPORTED,
        429: THROTTLED,
    }
    if conflict:
        responses[409] = CONFLICT_RESPONSE
    return responses


DELETED = OpenApiResponse(description="Deleted.")


def crud_schema(
    noun,
    serializer,
    update_serializer=None,
    *,
    plural=None,
    description="",
    create_doc="",
    delete_doc="",
    conflict=True,
):
    """Document list, retrieve, create, update, partial_update and destroy of one resource (those the
    viewset has), each with every status it can answer."""
    plural = plural or f"{noun}s"
    # "an action item", "an allocation", "a pledge": the article goes by the sound, which for these
    # nouns the first letter tells.
    a = "an" if noun[:1].lower() in "aeiou" else "a"

    def decorate(viewset):
        specs = {
            "list": extend_schema(
                summary=f"List {plural}",
                description=description,
                parameters=[IF_NONE_MATCH],
                responses=csv_list_responses(serializer(many=True)),
            ),
            "retrieve": extend_schema(
                summary=f"{a.capitalize()} {noun}",
                description=description,
                parameters=[IF_NONE_MATCH],
                responses=read_responses(serializer),
            ),
            "create": extend_schema(
                summary=f"Record {a} {noun}",
                description=create_doc,
                request=serializer,
                responses=write_responses(serializer, 201, conflict=False),
            ),
            "update": extend_schema(
                summary=f"Change {a} {noun}" + (" (send the version you read)" if conflict else ""),
                request=update_serializer,
                responses=write_responses(serializer, conflict=conflict),
            ),
            "partial_update": extend_schema(
                summary=f"Change some fields of {a} {noun}" + (" (send the version you read)" if conflict else ""),
                request=update_serializer,
                responses=write_responses(serializer, conflict=conflict),
            ),
            "destroy": extend_schema(
                summary=f"Delete {a} {noun}",
                description=delete_doc,
                parameters=[VERSION_QUERY] if conflict else [],
                responses=write_responses(DELETED, 204, conflict=conflict),
            ),
        }
        return extend_schema_view(**{name: spec for name, spec in specs.items() if hasattr(viewset, name)})(viewset)

    return decorate
