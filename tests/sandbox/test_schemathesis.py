"""A bounded schemathesis run from the two reference specs against the running sandbox.

Every operation gets positive and negative cases (a fixed, derandomised number of each) on a
real ad account with real forms, subscriptions and exports, and every answer must pass:
no server error, a status code and content type the spec declares, a body that matches the
spec's schema, and a 4xx for every request that violates the spec.

Not checked: `positive_data_acceptance`. The sandbox refuses some schema-valid requests for
reasons the schema cannot express (a `webhook_url` that is not a URL, answers that do not match
the form's questions, a code that was never issued, a date range over 90 days), always with a
400 `{code, message}` — which the other checks do verify.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from leadwire.sandbox import spec
from tests.sandbox.conftest import Tenant

# Negative cases are costly to generate for operations with many array parameters: fewer.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _operations() -> list[tuple[str, str, str]]:
    found = []
    for path in (spec.LEAD_ADS, spec.ADS_CONTEXT):
        for result in schemathesis.openapi.from_dict(spec.load(path)).get_all_operations():
            operation = result.ok()
            found.append((path.name, operation.method.upper(), operation.path))
    return found


OPERATIONS = _operations()


def _fixtures(tenant: Tenant) -> dict[str, str]:
    """Create what the path parameters name: a subscription and an export; return the ids."""
    with tenant.client() as api:
        account = tenant.ad_account_id
        subscription = api.post(
            f"/ad_accounts/{account}/leads/subscriptions",
            json={"webhook_url": "https://example.com/hook", "lead_form_id": tenant.contact_form},
        ).json()["id"]
        export = api.post(
            f"/ad_accounts/{account}/leads_export",
            json={
                "ad_id": tenant.hierarchy.ads[0].ad_id,
                "start_date": "2024-01-01",
                "end_date": "2024-01-31",
            },
        ).json()["leads_export_id"]
    return {
        "ad_account_id": account,
        "lead_form_id": tenant.contact_form,
        "subscription_id": subscription,
        "leads_export_id": export,
        "campaign_id": tenant.hierarchy.campaign_id,
        "ad_group_id": tenant.hierarchy.ad_group_id,
        "ad_id": tenant.hierarchy.ads[0].ad_id,
    }


def test_every_operation_is_covered() -> None:
    assert len(OPERATIONS) == 23


# Generated once per operation and mode, then sent to both backends: generation (not the
# sandbox) is most of this module's time. Path parameters and headers are set per tenant.
_CASES: dict[tuple[str, str, str], list[Any]] = {}


def _cases(spec_file: str, method: str, path: str) -> list[Any]:
    key = (spec_file, method, path)
    if key in _CASES:
        return _CASES[key]
    operation = schemathesis.openapi.from_dict(spec.load(spec.HERE / spec_file))[path][method]
    placeholders = {p.name: "1" for p in operation.path_parameters}
    # Fixed path parameters leave nothing to make invalid in some operations.
    negatable = bool(list(operation.query)) or bool(list(operation.body))
    found: list[Any] = []
    for mode, count in EXAMPLES.items():
        if mode is GenerationMode.NEGATIVE and not negatable:
            continue
        strategy = operation.as_strategy(
            mode, path_parameters=placeholders, headers={"Authorization": "-"}
        )
        bounded = settings(
            max_examples=count,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )

        def collect(case: Any) -> None:
            found.append(case)

        bounded(given(case=strategy)(collect))()
    _CASES[key] = found
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("spec_file", "method", "path"), OPERATIONS)
def test_operation_conforms(tenant: Tenant, spec_file: str, method: str, path: str) -> None:
    ids = _fixtures(tenant)
    if path == "/oauth/token":
        secret = f"{tenant.app_id}:{tenant.app_secret}".encode()
        auth = "Basic " + base64.b64encode(secret).decode()
    else:
        auth = f"Bearer {tenant.token}"
    cases = _cases(spec_file, method, path)
    assert cases, "no case was generated"
    for case in cases:
        case.path_parameters = {name: ids[name] for name in case.path_parameters}
        case.headers = {**(case.headers or {}), "Authorization": auth}
        response = case.call_and_validate(base_url=f"{tenant.url}/v5", checks=CHECKS)
        assert response.status_code < 500
