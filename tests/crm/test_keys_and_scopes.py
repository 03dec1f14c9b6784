"""Keys and scopes: each operation needs exactly the scope of its `security` in the reference,
and no secret (key, client secret, code, token) is ever stored in clear."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadwire.crm import admin
from leadwire.crm.auth.principal import READ, WRITE, hash_token
from leadwire.crm.ids import new_id
from leadwire.crm.models import Base
from leadwire.crm.openapi import reference_spec
from tests.crm.conftest import VERSION, CrmServer, Tenant
from tests.crm.test_oauth import approve, code_of, exchange, pkce, refresh, register

METHODS = ("get", "post", "put", "delete", "patch")
# The reference gives these two bulk operations no `security`; they change contacts, so we
# require contacts.write, like every other write.
UNSECURED_DEFAULT = WRITE


def _table() -> list[Any]:
    rows = []
    for path, item in reference_spec()["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            security = op.get("security")
            if security:
                (needed,) = {
                    scope for req in security for scopes in req.values() for scope in scopes
                }
            else:
                needed = UNSECURED_DEFAULT
            rows.append(pytest.param(method.upper(), path, op, needed, id=op["operationId"]))
    return rows


TABLE = _table()


def test_the_table_covers_every_reference_operation() -> None:
    assert len(TABLE) == 32
    unsecured = [p.id for p in TABLE if not p.values[2].get("security")]
    assert sorted(unsecured) == ["add-remove-contact-from-business", "create-association"]


def _key(tenant: Tenant, scopes: tuple[str, ...]) -> str:
    with tenant.server.store.sessions() as session:
        issued = admin.create_api_key(session, tenant.location_id, "scoped", scopes)
        session.commit()
    return issued.token


def _concrete(path: str, contact_id: str) -> str:
    path = path.replace("{contactId}", contact_id).replace("{type}", "add")
    return re.sub(r"\{[^}]+\}", lambda _: new_id(), path)


def _call(tenant: Tenant, key: str, method: str, path: str, op: dict[str, Any]) -> httpx.Response:
    contact_id = _contact(tenant)
    names = {p.get("name") for p in op.get("parameters", [])}
    params = {"locationId": tenant.location_id} if "locationId" in names else None
    body = {} if method != "GET" else None
    headers = {"Authorization": f"Bearer {key}", **VERSION}
    with httpx.Client(base_url=tenant.url, headers=headers, timeout=10) as client:
        return client.request(method, _concrete(path, contact_id), params=params, json=body)


def _contact(tenant: Tenant) -> str:
    with tenant.client() as api:
        answer = api.post("/contacts/", json={"locationId": tenant.location_id})
    assert answer.status_code == 201, answer.text
    contact_id: str = answer.json()["contact"]["id"]
    return contact_id


def _is_routed(answer: httpx.Response) -> bool:
    if answer.status_code == 405:
        return False
    return not (answer.status_code == 404 and answer.json()["message"].startswith("Cannot "))


@pytest.mark.parametrize(("method", "path", "op", "needed"), TABLE)
def test_operation_needs_exactly_its_scope(
    tenant: Tenant, method: str, path: str, op: dict[str, Any], needed: str
) -> None:
    other = READ if needed == WRITE else WRITE
    label = f"{method} {path}"
    lacking = _call(tenant, _key(tenant, (other,)), method, path, op)
    assert _is_routed(lacking), f"{label} is not served yet: {lacking.status_code}"
    assert lacking.status_code == 401, f"{label}: {lacking.status_code} {lacking.text}"
    assert "not authorized for this scope" in lacking.json()["message"], label
    assert needed in lacking.json()["message"], label
    # With only the scope the reference names, the scope check lets the request through.
    enough = _call(tenant, _key(tenant, (needed,)), method, path, op)
    assert _is_routed(enough), label
    assert enough.status_code != 401, f"{label}: {enough.text}"


def test_unknown_and_revoked_keys_are_refused(tenant: Tenant) -> None:
    with tenant.server.store.sessions() as session:
        doomed = admin.create_api_key(session, tenant.location_id, "doomed")
        admin.revoke_api_key(session, doomed.id)
        session.commit()
    for key, message in (
        ("pit-00000000-0000-0000-0000-000000000000", "Invalid token: access token is invalid"),
        (doomed.token, "Invalid token: this API key was revoked"),
    ):
        with tenant.client(key) as client:
            answer = client.get(f"/contacts/{new_id()}")
        assert answer.status_code == 401
        assert answer.json()["message"] == message


def test_a_key_only_reaches_its_own_location(tenant: Tenant, crm_server: CrmServer) -> None:
    contact_id = _contact(tenant)
    with crm_server.store.sessions() as session:
        stranger = admin.create_location(session, "stranger")
        key = admin.create_api_key(session, stranger.id, "theirs")
        session.commit()
    with tenant.client(key.token) as client:
        assert client.get(f"/contacts/{contact_id}").status_code == 404
        answer = client.post("/contacts/", json={"locationId": tenant.location_id})
    assert answer.status_code == 403
    assert answer.json()["message"] == "The token does not have access to this location."


def _secrets_and_hashes(tenant: Tenant) -> tuple[list[str], list[bytes]]:
    """Mint one of every kind of secret; return them and their hashes."""
    app = register(tenant)
    unused_code = code_of(approve(app, pkce()[1]))
    verifier, challenge = pkce()
    first = exchange(app, code_of(approve(app, challenge)), verifier).json()
    second = refresh(app, first["refresh_token"]).json()
    found = [
        tenant.key,
        tenant.read_key,
        app.secret,
        unused_code,
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
    ]
    return found, [hash_token(s) for s in found]


def _stored_values(server: CrmServer) -> list[bytes]:
    values: list[bytes] = []
    with server.store.read_sessions() as session:
        for table in Base.metadata.sorted_tables:
            assert table.name.startswith("crm_")
            for row in session.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        values.append(value)
                    elif isinstance(value, str):
                        values.append(value.encode())
                    elif isinstance(value, dict | list):
                        values.append(json.dumps(value).encode())
    return values


def test_no_secret_is_stored_in_clear(tenant: Tenant) -> None:
    secrets, hashes = _secrets_and_hashes(tenant)
    stored = _stored_values(tenant.server)
    for secret in secrets:
        leaks = [v for v in stored if secret.encode() in v]
        assert not leaks, f"a secret is stored in clear: {secret[:8]}..."
    # The scan reads the columns that matter: every secret's hash is there.
    for digest in hashes:
        assert digest in stored
    if tenant.server.store.is_sqlite:
        database = Path(str(tenant.server.store.engine.url.database))
        for path in (database, database.with_name(database.name + "-wal")):
            if path.exists():
                raw = path.read_bytes()
                assert not [s for s in secrets if s.encode() in raw], path.name
