"""The published OpenAPI document: valid, the reference plus marked additions, and served."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.routing import APIRoute

from leadwire.crm.ids import new_id
from leadwire.crm.openapi import (
    EXTENSION,
    ORIGINAL,
    operations_of,
    reference_bytes,
    reference_spec,
    reference_view,
)
from leadwire.crm.routes.registry import ROUTERS
from tests.crm.conftest import CrmServer, Tenant

SHARED_REFERENCE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "contacts-v2.openapi.json"
)
# The prefixes under which every route served must be published, and the other way round.
PUBLISHED_PREFIXES = ("/contacts", "/oauth", "/webhooks")


@pytest.fixture(scope="module")
def published(crm_sqlite: CrmServer) -> dict[str, Any]:
    """The document as a client fetches it."""
    answer = httpx.get(f"{crm_sqlite.url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document: dict[str, Any] = answer.json()
    return document


def _ops(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for method, path, op in operations_of(spec)}


def _resolve(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """Return `node` with every $ref replaced by what it names (cycles cut at depth 8)."""
    if isinstance(node, list):
        return [_resolve(v, spec, depth) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and depth < 8:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, spec, depth + 1)
    return {k: _resolve(v, spec, depth) for k, v in node.items()}


def test_published_document_is_valid_openapi_3(published: dict[str, Any]) -> None:
    assert published["openapi"].startswith("3.")
    # Raises with the offending path if the document breaks the OpenAPI 3.0 meta-schema.
    schemathesis.openapi.from_dict(published).validate()


def test_servers_name_this_crm(crm_sqlite: CrmServer, published: dict[str, Any]) -> None:
    assert [s["url"] for s in published["servers"]] == [crm_sqlite.url]


def test_without_our_marked_parts_the_document_is_the_reference(
    published: dict[str, Any],
) -> None:
    assert reference_view(published) == reference_spec()


def test_an_unmarked_change_would_be_caught(published: dict[str, Any]) -> None:
    tampered = copy.deepcopy(published)
    tampered["paths"]["/contacts/"]["post"]["responses"]["409"] = {"description": "Conflict"}
    assert reference_view(tampered) != reference_spec()
    tampered = copy.deepcopy(published)
    tampered["components"]["schemas"]["TaskSchema"]["properties"]["title"]["maxLength"] = 9
    assert reference_view(tampered) != reference_spec()


def test_every_reference_operation_keeps_its_status_codes(published: dict[str, Any]) -> None:
    ours = _ops(published)
    for key, ref_op in _ops(reference_spec()).items():
        assert key in ours, f"{key} is missing from the published document"
        op = ours[key]
        assert op.get(EXTENSION) is None
        assert op["operationId"] == ref_op["operationId"]
        assert set(ref_op["responses"]) <= set(op["responses"])
        for status in set(op["responses"]) - set(ref_op["responses"]):
            assert op["responses"][status].get(EXTENSION) is True, (key, status)


def test_request_and_response_schemas_are_the_references(published: dict[str, Any]) -> None:
    reference = reference_spec()
    restored = reference_view(published)
    ours = _ops(restored)
    for key, ref_op in _ops(reference).items():
        op = ours[key]
        assert _resolve(op.get("requestBody"), restored) == _resolve(
            ref_op.get("requestBody"), reference
        ), key
        for status, response in ref_op["responses"].items():
            assert _resolve(op["responses"][status], restored) == _resolve(response, reference)


def test_operations_beyond_the_reference_are_marked(published: dict[str, Any]) -> None:
    reference = _ops(reference_spec())
    added = [key for key in _ops(published) if key not in reference]
    assert {path for _, path in added} == {
        "/oauth/token",
        "/oauth/chooselocation",
        "/oauth/revoke",
        "/webhooks/public-key",
        "/webhooks/public-key/ed25519",
    }
    for method, path in added:
        assert published["paths"][path][method.lower()][EXTENSION] is True


def test_extensions_are_published_where_we_send_them(published: dict[str, Any]) -> None:
    ops = _ops(published)
    for key in (("POST", "/contacts/"), ("POST", "/contacts/{contactId}/tasks")):
        names = {p["name"]: p for p in ops[key]["parameters"]}
        assert names["Idempotency-Key"][EXTENSION] is True
    get = ops[("GET", "/contacts/{contactId}")]["responses"]
    assert {"404", "429"} <= set(get)
    assert set(get["429"]["headers"]) >= {"Retry-After", "X-RateLimit-Remaining"}
    assert set(ops[("POST", "/contacts/")]["responses"]) >= {"403", "413", "415"}
    search = ops[("POST", "/contacts/search")]
    assert search["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LeadwireSearchContactsResponseDto"
    }
    assert ORIGINAL in search["responses"]["200"]
    body = published["components"]["schemas"]["SearchBodyV2DTO"]
    assert set(body["required"]) == {"locationId", "pageLimit"}
    assert body[ORIGINAL]["properties"] == {}


def test_package_copy_of_the_reference_is_byte_identical() -> None:
    if not SHARED_REFERENCE.exists():
        pytest.skip(f"no shared reference at {SHARED_REFERENCE} (CI has shared/ beside the clone)")
    assert reference_bytes() == SHARED_REFERENCE.read_bytes()


def _normal(path: str) -> str:
    return path.rstrip("/") or "/"


def test_routes_served_are_the_operations_published(published: dict[str, Any]) -> None:
    served = {
        (method, _normal(route.path))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith(PUBLISHED_PREFIXES)
        for method in route.methods
    }
    documented = {
        (method, _normal(path))
        for method, path in _ops(published)
        if path.startswith(PUBLISHED_PREFIXES)
    }
    unpublished = sorted(served - documented)
    unserved = sorted(documented - served)
    assert not unpublished, f"served but not published: {unpublished}"
    assert not unserved, f"published but not served: {unserved}"


def test_served_routes_carry_the_published_ids_and_headers(published: dict[str, Any]) -> None:
    ops = _ops(published)
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    checked = 0
    for route in routes:
        for method in route.methods:
            op = ops.get((method, route.path))
            if op is None:
                continue
            checked += 1
            # Routes outside the API (the webhook keys) may leave their id to the document.
            assert route.operation_id in (op["operationId"], None), (method, route.path)
            if route.path.startswith("/contacts"):
                assert route.operation_id is not None, (method, route.path)
            served = {p.alias for p in route.dependant.header_params}
            published_headers = {
                p["name"] for p in op.get("parameters", []) if p["in"] == "header"
            } - {"Version"}  # checked by the gate, not declared by handlers
            assert served == published_headers, (method, route.path)
    assert checked == len([k for k in ops if k[1].startswith(PUBLISHED_PREFIXES)])


def _concrete(path: str) -> str:
    return re.sub(r"\{type\}", "add", re.sub(r"\{[^}]+\}", lambda _: new_id(), path))


def test_every_published_operation_is_routed(tenant: Tenant, published: dict[str, Any]) -> None:
    with tenant.client() as client:
        for method, path, op in operations_of(published):
            has_body = "requestBody" in op
            form = has_body and "application/json" not in op["requestBody"]["content"]
            answer = client.request(
                method,
                _concrete(path),
                json=None if form or not has_body else {},
                data={} if form else None,
            )
            label = f"{method} {path}"
            assert answer.status_code != 405, label
            if answer.status_code == 404:
                assert not answer.json()["message"].startswith("Cannot "), label


def test_docs_page_lists_every_operation_and_loads_nothing_from_elsewhere(
    crm_sqlite: CrmServer, published: dict[str, Any]
) -> None:
    answer = httpx.get(f"{crm_sqlite.url}/docs", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    page = answer.text
    for _method, path, op in operations_of(published):
        assert f'id="op-{op["operationId"]}"' in page, path
    targets = re.findall(r'(?:href|src|action)\s*=\s*"([^"]*)"', page)
    assert targets
    assert [t for t in targets if not (t.startswith("#") or t == "openapi.json")] == []
    assert "<script" not in page
    assert "@import" not in page
