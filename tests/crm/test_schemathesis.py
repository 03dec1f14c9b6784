"""Schemathesis against the running CRM over real HTTP, from the document the CRM publishes.

Every generated request is aimed at objects that exist (a contact, its task and note, the
tenant's location), so the run exercises the found paths rather than only 400/403/404. Budget:
the full run (examples, coverage and fuzzing phases) on SQLite; on PostgreSQL, examples and a
smaller fuzzing phase — the handlers are the same, the store is what differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case

from leadwire.crm.auth.clients import create_oauth_client
from leadwire.crm.auth.principal import ALL_SCOPES
from leadwire.crm.ids import new_id
from leadwire.crm.models import Campaign, Location, User, Workflow
from leadwire.crm.openapi import published_spec
from tests.crm.conftest import CrmServer, Tenant, new_tenant

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SEED = 20_240_728
FUZZ_EXAMPLES = {"sqlite": 12, "postgres": 5}
# The base URL is given per call; the document names a placeholder server.
PLACEHOLDER_URL = "http://127.0.0.1"


# Values our validation accepts, for fields the reference types only as "string".
_REALISTIC: dict[str, Any] = {
    "country": "US",
    "dateOfBirth": "1990-01-31",
    "dueDate": "2030-01-01T10:00:00Z",
    "eventStartTime": "2030-01-01T10:00:00Z",
    "timezone": "Europe/Paris",
    "website": "https://example.com",
}


@dataclass
class World:
    """Objects of the tenant that generated requests are aimed at; recreated when deleted.

    Every other request with a body is also given realistic values for the fields whose
    rules the reference does not publish (email, phone, user ids, dates), so that half the
    requests reach the success path and half exercise validation.
    """

    tenant: Tenant
    client: httpx.Client
    fixed: dict[str, str]
    oauth_secret: str
    ids: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    def ensure(self) -> None:
        """Create the contact, task and note if the last request may have deleted them."""
        contact = self.ids.get("contactId")
        if contact is None or self.client.get(f"/contacts/{contact}").status_code != 200:
            answer = self.client.post(
                "/contacts/", json={"locationId": self.tenant.location_id, "firstName": "Fuzz"}
            )
            assert answer.status_code == 201, answer.text
            self.ids = {"contactId": answer.json()["contact"]["id"]}
        base = f"/contacts/{self.ids['contactId']}"
        task = self.ids.get("taskId")
        if task is None or self.client.get(f"{base}/tasks/{task}").status_code != 200:
            answer = self.client.post(
                f"{base}/tasks",
                json={"title": "Call", "dueDate": "2030-01-01T10:00:00Z", "completed": False},
            )
            assert answer.status_code == 201, answer.text
            self.ids["taskId"] = answer.json()["task"]["id"]
        note = self.ids.get("id")
        if note is None or self.client.get(f"{base}/notes/{note}").status_code != 200:
            answer = self.client.post(f"{base}/notes", json={"body": "Fuzz note"})
            assert answer.status_code == 201, answer.text
            self.ids["id"] = answer.json()["note"]["id"]

    def aim(self, case: Case) -> None:
        """Point `case` at the tenant's objects instead of ids that cannot exist."""
        self.ensure()
        self.calls += 1
        known = {**self.fixed, **self.ids}
        for name in list(case.path_parameters or {}):
            if name in known:
                case.path_parameters[name] = known[name]
        for params in (case.query, case.body):
            if isinstance(params, dict):
                for name in ("locationId", "client_id", "redirect_uri"):
                    if name in params:
                        params[name] = known[name]
                if "client_secret" in params:
                    params["client_secret"] = self.oauth_secret
        if isinstance(case.body, dict) and isinstance(case.body.get("contacts"), list):
            case.body["contacts"] = [self.ids["contactId"], *case.body["contacts"][:2]]
        if self.calls % 2 == 0:
            if isinstance(case.body, dict):
                self._make_realistic(case.body)
            if case.headers and "Idempotency-Key" in case.headers:
                # Generated keys repeat ("0"), and a reused key is refused for a new body.
                case.headers["Idempotency-Key"] = f"fuzz-{self.calls}"

    def _make_realistic(self, body: dict[str, Any]) -> None:
        for name, value in _REALISTIC.items():
            if name in body:
                body[name] = value
        if "email" in body:
            body["email"] = f"fuzz{self.calls}@example.com"
        if "phone" in body:
            body["phone"] = f"+1415555{self.calls % 10_000:04d}"
        for name in ("assignedTo", "userId"):
            if name in body:
                body[name] = self.fixed["userId"]
        if "followers" in body:
            body["followers"] = [self.fixed["userId"]]
        body.pop("customFields", None)


def _schema(*, is_heavy: bool) -> schemathesis.BaseSchema:
    # The document is built by the same pure function the CRM serves it from; the served copy is
    # checked against it below, so this is the document a client downloads.
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "generation": {
                "mode": "positive",
                "max-examples": FUZZ_EXAMPLES["sqlite" if is_heavy else "postgres"],
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": is_heavy},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )
    return schemathesis.openapi.from_dict(published_spec(PLACEHOLDER_URL), config=config)


def _world(server: CrmServer) -> Iterator[World]:
    tenant = new_tenant(server)
    redirect = "http://127.0.0.1/callback"
    with server.store.sessions() as session:
        location = session.get(Location, tenant.location_id)
        assert location is not None
        fixed = {
            "locationId": tenant.location_id,
            "userId": new_id(),
            "campaignId": new_id(),
            "workflowId": new_id(),
            "redirect_uri": redirect,
        }
        session.add(User(id=fixed["userId"], location_id=location.id, name="Fuzz", email=None))
        session.add(Campaign(id=fixed["campaignId"], location_id=location.id, name="Fuzz"))
        session.add(Workflow(id=fixed["workflowId"], location_id=location.id, name="Fuzz"))
        app = create_oauth_client(session, "fuzz", [redirect], ALL_SCOPES, location.company_id)
        session.commit()
    fixed["client_id"] = app.id
    with tenant.client() as client:
        yield World(tenant, client, fixed, app.secret)


@pytest.fixture(scope="module")
def sqlite_world(crm_sqlite: CrmServer) -> Iterator[World]:
    """Objects on the SQLite CRM, shared by the operations' runs."""
    yield from _world(crm_sqlite)


@pytest.fixture(scope="module")
def postgres_world(crm_postgres: CrmServer) -> Iterator[World]:
    """Objects on the PostgreSQL CRM, shared by the operations' runs."""
    yield from _world(crm_postgres)


def _call(case: Case, world: World) -> None:
    world.aim(case)
    case.call_and_validate(
        base_url=world.tenant.url,
        headers={"Authorization": f"Bearer {world.tenant.key}"},
        timeout=10,
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_served_document_is_the_one_fuzzed(
    backend: str, request: pytest.FixtureRequest
) -> None:
    server: CrmServer = request.getfixturevalue(f"crm_{backend}")
    served = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    assert served == published_spec(server.url)


@_schema(is_heavy=True).parametrize()
def test_sqlite_crm_conforms_to_its_document(case: Case, sqlite_world: World) -> None:
    _call(case, sqlite_world)


@pytest.mark.postgres
@_schema(is_heavy=False).parametrize()
def test_postgres_crm_conforms_to_its_document(case: Case, postgres_world: World) -> None:
    _call(case, postgres_world)
