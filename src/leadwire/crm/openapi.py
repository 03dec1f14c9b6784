"""The OpenAPI document the CRM publishes: HighLevel's reference plus our additions, marked.

Two markers make every difference from the reference reviewable and reversible:

- `x-leadwire-extension: true` on an object (operation, path item, response, parameter, header,
  schema or property) says the object is ours; the reference has nothing there.
- `x-leadwire-original: {key: value}` on an object says we changed those keys; it holds what
  the reference had (`null`: the key was absent).

`reference_view(published_spec(url))` undoes both and gives back the reference exactly.
"""

from __future__ import annotations

import copy
import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from leadwire.crm.spec import operations, schemas
from leadwire.crm.spec.schemas import Schema, ref

EXTENSION = "x-leadwire-extension"
ORIGINAL = "x-leadwire-original"
REFERENCE_FILE = "contacts-v2.openapi.json"
API_PREFIX = "/contacts"
TITLE = "leadwire embedded CRM: HighLevel Contacts API v2"
_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
_RATE_HEADERS = {
    "X-RateLimit-Limit-Daily": "Requests allowed per UTC day.",
    "X-RateLimit-Daily-Remaining": "Requests left today.",
    "X-RateLimit-Interval-Milliseconds": "Length of the burst window.",
    "X-RateLimit-Max": "Requests allowed per burst window.",
    "X-RateLimit-Remaining": "Requests left in this burst window.",
}
# Path parameters and body properties that name something that may not exist (→ 404). A
# business in the path only filters a list: an unknown one lists nothing.
_STORED_IDS = frozenset({"contactId", "taskId", "id"})
_STORED_BODY_IDS = frozenset({"businessId"})
# Description and body schema of each answer the gate and handlers send beyond the reference.
_ADDED_ERRORS = {
    "400": ("Bad Request", "BadRequestDTO"),
    "401": ("Unauthorized", "UnauthorizedDTO"),
    "403": ("Forbidden: the locationId is missing or not the token's", "LeadwireForbiddenDTO"),
    "404": ("Not Found: no such object in the token's location", "LeadwireNotFoundDTO"),
    "413": ("Payload Too Large", "LeadwirePayloadTooLargeDTO"),
    "415": ("Unsupported Media Type: send application/json", "LeadwireUnsupportedMediaTypeDTO"),
    "422": ("Unprocessable Entity", "UnprocessableDTO"),
    "429": ("Too Many Requests: wait Retry-After seconds", "LeadwireTooManyRequestsDTO"),
}
_IDEMPOTENT = frozenset({"create-contact", "upsert-contact", "create-task", "create-note"})


def reference_bytes() -> bytes:
    """Return the reference document exactly as shipped (HighLevel's, CC0)."""
    return _reference_bytes()


@cache
def _reference_bytes() -> bytes:
    return (resources.files("leadwire.crm") / "spec" / REFERENCE_FILE).read_bytes()


def reference_spec() -> dict[str, Any]:
    """Return a fresh copy of the reference document."""
    spec: dict[str, Any] = json.loads(_reference_bytes())
    return spec


def published_spec(base_url: str) -> dict[str, Any]:
    """Return the document the CRM at `base_url` publishes (a fresh copy each call)."""
    spec: dict[str, Any] = json.loads(published_json(base_url))
    return spec


@lru_cache(maxsize=8)
def published_json(base_url: str) -> bytes:
    """Return the published document as JSON bytes, built once per base URL."""
    return json.dumps(_build(base_url.rstrip("/")), ensure_ascii=False).encode()


def reference_view(spec: dict[str, Any]) -> dict[str, Any]:
    """Return `spec` without our additions and with the reference's values restored."""
    restored: dict[str, Any] = _strip(copy.deepcopy(spec))
    return restored


def operations_of(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Return (METHOD, path, operation) for every operation of `spec`."""
    found = []
    for path, item in spec["paths"].items():
        for method in _METHODS:
            if method in item:
                found.append((method.upper(), path, item[method]))
    return found


def _strip(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip(v) for v in node if not _is_ours(v)]
    if not isinstance(node, dict):
        return node
    original = node.pop(ORIGINAL, None)
    if original is not None:
        for key, value in original.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
    return {k: _strip(v) for k, v in node.items() if not _is_ours(v)}


def _is_ours(value: Any) -> bool:
    return isinstance(value, dict) and value.get(EXTENSION) is True


def _ours(node: dict[str, Any]) -> dict[str, Any]:
    node[EXTENSION] = True
    return node


def _change(node: dict[str, Any], *, remember: bool = True, **updates: Any) -> None:
    """Set (or, for None, remove) keys of `node`, remembering the reference's values once."""
    if remember:
        original = node.setdefault(ORIGINAL, {})
        for key in updates:
            if key not in original:
                original[key] = copy.deepcopy(node.get(key))
    for key, value in updates.items():
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value


def _build(base_url: str) -> dict[str, Any]:
    spec = reference_spec()
    _change(spec["info"], title=TITLE, description=_description(spec["info"]["description"]))
    _change(spec, servers=[{"url": base_url, "description": "this CRM"}])
    _add_components(spec["components"])
    found = spec["components"]["schemas"]
    for _method, path, operation in operations_of(spec):
        if path.startswith(API_PREFIX):
            _augment(operation, found)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                _close(body["schema"], found)
    for path, item in operations.OPERATIONS.items():
        spec["paths"][path] = _ours({m: _ours(copy.deepcopy(op)) for m, op in item.items()})
    spec["tags"] += [_ours(dict(tag)) for tag in operations.TAGS]
    return spec


def _description(reference: str) -> str:
    return (
        "The HighLevel (LeadConnector) Contacts API v2 as leadwire's embedded CRM serves it: "
        "HighLevel's published document (CC0) with our additions, each marked "
        f"`{EXTENSION}: true`, and our changes, each keeping the reference's value under "
        f"`{ORIGINAL}`. Every response under /contacts carries the X-RateLimit-* headers.\n\n"
        f"The reference says: {reference}"
    )


def _add_components(components: dict[str, Any]) -> None:
    found = components["schemas"]
    for name, schema in {**schemas.ADDED_SCHEMAS, **operations.OPERATIONS_SCHEMAS}.items():
        found[name] = _ours(copy.deepcopy(schema))
    for name, added in schemas.ADDED_PROPERTIES.items():
        properties = found[name]["properties"]
        for prop, schema in added.items():
            properties[prop] = _ours(copy.deepcopy(schema))
    for name, props in schemas.NULLABLE.items():
        for prop in props:
            _make_nullable(found[name]["properties"][prop])
    for name, props in schemas.ANY_VALUE.items():
        for prop in props:
            _change(found[name]["properties"][prop], type=None)
    _change(
        found["UpdateTagsResponseDTO"]["properties"]["responses"],
        items={"type": "object", "description": "One item per contact id sent."},
    )
    _change(found["SearchBodyV2DTO"], **copy.deepcopy(schemas.SEARCH_BODY))
    headers = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in _RATE_HEADERS.items()
    }
    headers["Retry-After"] = {
        "description": "Seconds to wait before the next request.",
        "schema": {"type": "integer", "minimum": 1},
    }
    headers["X-Trace-Id"] = {
        "description": "Identifies the request in the CRM's log.",
        "schema": {"type": "string"},
    }
    _change(components, headers=headers)


def _make_nullable(prop: Schema) -> None:
    updates: dict[str, Any] = {"nullable": True}
    if "$ref" in prop:
        # OpenAPI 3.0 ignores keywords beside a $ref, so a nullable reference needs allOf.
        updates.update({"$ref": None, "allOf": [{"$ref": prop["$ref"]}]})
    # A property that is all ours has nothing of the reference's to remember.
    _change(prop, remember=not prop.get(EXTENSION), **updates)


def _close(schema: Schema, found: dict[str, Schema], depth: int = 0) -> None:
    """Say that a request body, and the objects in it, take no properties but their own.

    The reference leaves `additionalProperties` open, but HighLevel (and we) refuse unknown
    properties with 422 `property X should not exist` (contacts-api.md §4.1). Custom field
    inputs (reached through `anyOf`) stay open: they accept three spellings of the value.
    """
    target = _resolve(schema, found)
    if "properties" not in target or depth > 8:
        return
    if "additionalProperties" not in target:
        _change(target, remember=not target.get(EXTENSION), additionalProperties=False)
    for prop in target["properties"].values():
        if "$ref" in prop:
            _close(prop, found, depth + 1)


def _augment(operation: dict[str, Any], found: dict[str, Schema]) -> None:
    """Add what the CRM sends for an operation under /contacts beyond what the reference lists."""
    params = operation["parameters"]
    names = {p["name"] for p in params if p["in"] in ("path", "query")}
    has_body = "requestBody" in operation
    body_props: set[str] = set()
    if has_body:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        body_props = set(_resolve(body, found).get("properties", {}))
    statuses = ["400", "401", "429"]
    if "locationId" in names | body_props:
        statuses.append("403")
    if names & _STORED_IDS or body_props & _STORED_BODY_IDS:
        statuses.append("404")
    if has_body:
        statuses += ["413", "415", "422"]
    if operation["operationId"] in _IDEMPOTENT:
        params.append(_ours(_idempotency_parameter()))
    if "security" not in operation:
        # The bulk operations name no scope in the reference; they change contacts.
        _change(operation, security=[{"bearer": ["contacts.write"]}])
    responses = operation["responses"]
    for status in statuses:
        if status not in responses:
            description, schema = _ADDED_ERRORS[status]
            responses[status] = _ours(_error_response(description, schema))
    for status, response in responses.items():
        if "content" not in response:
            _fill(operation["operationId"], status, response)
        headers = {name: {"$ref": f"#/components/headers/{name}"} for name in _RATE_HEADERS}
        headers["X-Trace-Id"] = {"$ref": "#/components/headers/X-Trace-Id"}
        if status == "429":
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if response.get(EXTENSION):
            response["headers"] = headers
        else:
            _change(response, headers=headers)
    operation["responses"] = dict(sorted(responses.items()))


def _fill(operation_id: str, status: str, response: dict[str, Any]) -> None:
    """Document the body of a response the reference leaves without one."""
    if status in _ADDED_ERRORS:
        schema = _ADDED_ERRORS[status][1]
    elif operation_id == "search-contacts-advanced":
        schema = "LeadwireSearchContactsResponseDto"
    elif operation_id == "get-duplicate-contact":
        schema = "LeadwireDuplicateContactResponseDto"
    else:
        raise ValueError(f"no schema known for {operation_id} {status}")
    _change(response, content={"application/json": {"schema": ref(schema)}})


def _idempotency_parameter() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Send the same key again (same app and location, within 24 h) to get "
        "the first answer again instead of creating twice. Reusing a key for a different "
        "request is refused with 422.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    }


def _error_response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _resolve(schema: Schema, found: dict[str, Schema]) -> Schema:
    while "$ref" in schema:
        schema = found[schema["$ref"].rsplit("/", 1)[-1]]
    return schema
