"""What every answer shares: a request id, `{code, message}` errors, a body limit."""

from __future__ import annotations

import httpx

from leadwire.sandbox import spec
from leadwire.sandbox.app import MAX_BODY_BYTES
from leadwire.sandbox.gate import PinterestRoute
from leadwire.sandbox.routes.registry import ROUTERS
from tests.sandbox.conftest import Tenant


def test_unknown_paths_and_methods_answer_in_pinterest_shape(
    tenant: Tenant, api: httpx.Client
) -> None:
    unknown = api.get("/boards")
    assert unknown.status_code == 404
    assert set(unknown.json()) == {"code", "message"}
    assert unknown.headers["x-pinterest-rid"]
    wrong_method = api.put(f"/ad_accounts/{tenant.ad_account_id}/lead_forms", json=[])
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == 405


def test_every_answer_has_a_fresh_request_id(api: httpx.Client) -> None:
    rids = {api.get("/ad_accounts").headers["x-pinterest-rid"] for _ in range(3)}
    assert len(rids) == 3


def test_bodies_over_the_limit_are_413(tenant: Tenant, api: httpx.Client) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms"
    declared = api.post(path, content=b"[" + b" " * MAX_BODY_BYTES + b"]")
    assert declared.status_code == 413
    assert declared.json()["code"] == 413

    def chunks() -> object:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    streamed = api.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.headers["x-pinterest-rid"]


def test_unsupported_media_and_broken_json_are_400(tenant: Tenant, api: httpx.Client) -> None:
    path = f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions"
    broken = api.post(
        path, content=b'{"webhook_url": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == 1
    assert "JSON" in broken.json()["message"]


def test_routes_declare_the_specs_security_and_rate_category() -> None:
    routes = {
        r.operation_id: r
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, PinterestRoute) and r.operation_id
    }
    checked = 0
    for path in (spec.LEAD_ADS, spec.ADS_CONTEXT):
        for ops in spec.load(path)["paths"].values():
            for operation in ops.values():
                route = routes[operation["operationId"]]
                checked += 1
                if operation["security"] == [{"basic": []}]:
                    assert route.policy.security == ()
                    continue
                declared = [{s: list(scopes)} for s, scopes in route.policy.security]
                assert declared == operation["security"], operation["operationId"]
                assert route.policy.category == operation["x-ratelimit-category"]
    assert checked == 23
