"""Bad input gets a clear 4xx naming the problem, never a 500, and changes nothing in the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadwire.crm import admin
from leadwire.crm.auth.principal import hash_token, mint_secret
from leadwire.crm.ids import new_id
from leadwire.crm.models import (
    Contact,
    ContactTag,
    IdempotencyRecord,
    Note,
    OAuthClient,
    OAuthToken,
    Task,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)
from leadwire.crm.openapi import published_spec, reference_spec
from leadwire.settings import Settings
from tests.crm.conftest import CrmServer, Tenant
from tests.crm.subresources import subscribe

LIMIT = Settings.model_fields["crm_max_body_bytes"].default
JSON = {"content-type": "application/json"}


def _snapshot(server: CrmServer, location_id: str) -> dict[str, Any]:
    """Return what a request could have changed: row counts and every contact's update time."""
    with server.store.read_sessions() as s:
        counts = {
            model.__tablename__: s.scalar(
                select(func.count()).select_from(model).where(model.location_id == location_id)
            )
            for model in (Contact, ContactTag, Task, Note)
        }
        counts["idempotency"] = s.scalar(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.principal.endswith(f"|{location_id}"))
        )
        counts["deliveries"] = s.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .join(WebhookSubscription)
            .where(WebhookSubscription.location_id == location_id)
        )
        rows = s.execute(
            select(Contact.id, Contact.date_updated).where(Contact.location_id == location_id)
        )
        return {"counts": counts, "contacts": sorted(tuple(row) for row in rows)}


@contextmanager
def unchanged(tenant: Tenant) -> Iterator[None]:
    """Assert the block changed nothing in the tenant's data and queued no webhook event."""
    with tenant.server.store.read_sessions() as s:
        watched = s.scalar(
            select(WebhookSubscription.id).where(
                WebhookSubscription.location_id == tenant.location_id
            )
        )
    if watched is None:
        subscribe(tenant)
    before = _snapshot(tenant.server, tenant.location_id)
    yield
    assert _snapshot(tenant.server, tenant.location_id) == before


@pytest.fixture
def contact_id(api: httpx.Client, tenant: Tenant) -> str:
    """A contact of the tenant."""
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, "firstName": "Bad"})
    assert answer.status_code == 201, answer.text
    found: str = answer.json()["contact"]["id"]
    return found


def _body_paths(contact: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/contacts/"),
        ("POST", "/contacts/upsert"),
        ("PUT", f"/contacts/{contact}"),
        ("POST", f"/contacts/{contact}/tasks"),
        ("POST", f"/contacts/{contact}/notes"),
        ("POST", f"/contacts/{contact}/tags"),
    ]


@pytest.mark.parametrize(
    "raw", [b'{"firstName": ', b"not json", b"\xff\xfe{}", b'{"a": 1}}', b"{'a': 1}"]
)
def test_malformed_json_is_400_with_a_clear_message(
    tenant: Tenant, api: httpx.Client, contact_id: str, raw: bytes
) -> None:
    with unchanged(tenant):
        for method, path in _body_paths(contact_id):
            answer = api.request(method, path, content=raw, headers=JSON)
            assert answer.status_code == 400, (method, path, answer.text)
            body = answer.json()
            assert body["statusCode"] == 400
            assert body["message"].startswith("Malformed JSON body: "), body
            assert body["traceId"] == answer.headers["x-trace-id"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"firstName": 5}, "firstName must be a string"),
        ({"dnd": "yes"}, "dnd must be a boolean value"),
        ({"tags": "vip"}, "tags must be an array"),
        ({"customFields": {"id": "x"}}, "customFields must be an array"),
        ({"dndSettings": {"Call": {"status": "sometimes"}}}, "dndSettings.Call.status must be"),
        ({"email": "not-an-email"}, "email must be an email"),
    ],
)
def test_wrong_types_are_422_naming_the_field(
    tenant: Tenant, api: httpx.Client, fields: dict[str, Any], message: str
) -> None:
    with unchanged(tenant):
        answer = api.post("/contacts/", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "Unprocessable Entity"
    assert any(m.startswith(message) for m in body["message"]), body["message"]


def test_wrong_types_in_a_task_are_422_naming_each_field(
    tenant: Tenant, api: httpx.Client, contact_id: str
) -> None:
    with unchanged(tenant):
        answer = api.post(
            f"/contacts/{contact_id}/tasks",
            json={"title": ["Call"], "dueDate": "next tuesday", "completed": "no"},
        )
    assert answer.status_code == 422, answer.text
    messages = answer.json()["message"]
    for name in ("title", "dueDate", "completed"):
        assert any(m.startswith(f"{name} ") for m in messages), (name, messages)


@pytest.mark.parametrize(
    ("method", "suffix", "body", "message"),
    [
        ("POST", "", {"favourite": 1}, "property favourite should not exist"),
        ("PUT", "/{id}", {"locationId": "x"}, "property locationId should not exist"),
        ("PUT", "/{id}", {"gender": "f"}, "property gender should not exist"),
        ("POST", "/{id}/notes", {"body": "x", "pinnedAt": 1}, "property pinnedAt should not exist"),
        ("POST", "/{id}/tags", {"tags": ["a"], "mode": "add"}, "property mode should not exist"),
    ],
)
def test_unknown_properties_are_422_naming_them(
    tenant: Tenant,
    api: httpx.Client,
    contact_id: str,
    method: str,
    suffix: str,
    body: dict[str, Any],
    message: str,
) -> None:
    if method == "POST" and not suffix:
        body = {"locationId": tenant.location_id, **body}
    with unchanged(tenant):
        answer = api.request(method, "/contacts" + suffix.format(id=contact_id), json=body)
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["message"]


def test_unknown_nested_property_is_named_by_its_path(tenant: Tenant, api: httpx.Client) -> None:
    body = {"locationId": tenant.location_id, "dndSettings": {"SMS": {"status": "active", "x": 1}}}
    with unchanged(tenant):
        answer = api.post("/contacts/", json=body)
    assert answer.status_code == 422
    assert answer.json()["message"] == ["property dndSettings.SMS.x should not exist"]


def _too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text
    assert answer.json()["message"] == f"Request body is larger than the limit of {LIMIT} bytes"


@pytest.mark.parametrize("path", ["/contacts/", "/contacts/upsert", "/oauth/token"])
def test_oversized_body_with_content_length_is_413(
    tenant: Tenant, api: httpx.Client, path: str
) -> None:
    padding = "x" * LIMIT
    with unchanged(tenant):
        answer = api.post(path, json={"locationId": tenant.location_id, "source": padding})
    _too_large(answer)


def test_oversized_chunked_body_is_413(tenant: Tenant, api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"locationId": "' + tenant.location_id.encode() + b'", "source": "'
        for _ in range(LIMIT // 65_536 + 2):
            yield b"x" * 65_536
        yield b'"}'

    with unchanged(tenant):
        answer = api.post("/contacts/", content=chunks(), headers=JSON)
    assert "content-length" not in answer.request.headers
    assert answer.request.headers["transfer-encoding"] == "chunked"
    _too_large(answer)


def test_body_just_under_the_limit_is_read(tenant: Tenant, api: httpx.Client) -> None:
    # The limit is on bytes, not on a rounder number: a body one byte under it is parsed.
    head = b'{"locationId": "' + tenant.location_id.encode() + b'", "source": "'
    tail = b'", "firstName": 5}'
    raw = head + b"x" * (LIMIT - len(head) - len(tail)) + tail
    assert len(raw) == LIMIT
    with unchanged(tenant):
        answer = api.post("/contacts/", content=raw, headers=JSON)
    assert answer.status_code == 422
    assert "firstName must be a string" in answer.json()["message"]


@pytest.mark.parametrize(
    ("method", "template", "name"),
    [
        ("GET", "/contacts/{bad}", "contactId"),
        ("PUT", "/contacts/{bad}", "contactId"),
        ("DELETE", "/contacts/{bad}", "contactId"),
        ("GET", "/contacts/{bad}/tasks", "contactId"),
        ("GET", "/contacts/{ok}/tasks/{bad}", "taskId"),
        ("PUT", "/contacts/{ok}/tasks/{bad}/completed", "taskId"),
        ("GET", "/contacts/{ok}/notes/{bad}", "id"),
        ("DELETE", "/contacts/{ok}/notes/{bad}", "id"),
    ],
)
def test_malformed_ids_are_400_naming_the_parameter(
    tenant: Tenant, api: httpx.Client, contact_id: str, method: str, template: str, name: str
) -> None:
    for bad in ("short", "has spaces in it!!!!", "x" * 21, "ñ" * 20):
        path = template.format(ok=contact_id, bad=bad)
        # A valid body, so that the id is the only thing wrong.
        body = {"completed": True} if path.endswith("/completed") else {"firstName": "Renamed"}
        with unchanged(tenant):
            answer = api.request(method, path, json=body if method == "PUT" else None)
        assert answer.status_code == 400, (path, answer.text)
        message = answer.json()["message"]
        assert message.startswith(f"{name} "), message
        assert "is not a valid id" in message


def test_unknown_ids_are_404_naming_the_id(tenant: Tenant, api: httpx.Client) -> None:
    missing = new_id()
    with unchanged(tenant):
        answer = api.delete(f"/contacts/{missing}")
    assert answer.status_code == 404
    assert answer.json()["message"] == f"Contact with id {missing} not found"


def test_nul_characters_are_refused_on_every_backend(
    tenant: Tenant, api: httpx.Client, contact_id: str
) -> None:
    # PostgreSQL cannot store U+0000 in text; SQLite can. Refusing it keeps both alike.
    nul = "a\u0000b"
    writes = [
        ("POST", "/contacts/", {"locationId": tenant.location_id, "firstName": nul}),
        (
            "POST",
            "/contacts/upsert",
            {"locationId": tenant.location_id, "email": "n@example.com", "city": nul},
        ),
        ("PUT", f"/contacts/{contact_id}", {"lastName": nul}),
        ("POST", f"/contacts/{contact_id}/notes", {"body": nul}),
        ("POST", f"/contacts/{contact_id}/tags", {"tags": [nul]}),
        (
            "POST",
            "/contacts/search",
            {"locationId": tenant.location_id, "pageLimit": 5, "query": nul},
        ),
    ]
    with unchanged(tenant):
        for method, path, body in writes:
            answer = api.request(method, path, json=body)
            assert answer.status_code == 422, (method, path, answer.text)
        for params in ({"query": nul}, {"email": nul}):
            path = "/contacts/search/duplicate" if "email" in params else "/contacts/"
            answer = api.get(path, params={"locationId": tenant.location_id, **params})
            assert answer.status_code in (400, 422), (path, answer.text)


def _oauth_token(server: CrmServer, location_id: str, *, expired: bool, revoked: bool) -> str:
    token = mint_secret("at-")
    now = utcnow()
    with server.store.sessions() as s:
        client = OAuthClient(
            id=new_id(),
            company_id=new_id(),
            name="bad-input app",
            secret_hash=hash_token(mint_secret("cs-")),
            redirect_uris=["http://127.0.0.1/cb"],
            scopes="contacts.readonly contacts.write",
        )
        s.add(client)
        s.flush()
        s.add(
            OAuthToken(
                id=new_id(),
                client_id=client.id,
                location_id=location_id,
                access_hash=hash_token(token),
                scope="contacts.readonly contacts.write",
                access_expires_at=now + timedelta(hours=-1 if expired else 1),
                revoked_at=now if revoked else None,
            )
        )
        s.commit()
    return token


def test_each_bad_credential_gets_401_with_its_own_message(tenant: Tenant) -> None:
    server = tenant.server
    with server.store.sessions() as s:
        revoked_key = admin.create_api_key(s, tenant.location_id, "soon revoked")
        admin.revoke_api_key(s, revoked_key.id)
        s.commit()
    credentials = {
        "missing": None,
        "not bearer": f"Basic {tenant.key}",
        "garbage": "Bearer pit-00000000-0000-0000-0000-000000000000",
        "revoked key": f"Bearer {revoked_key.token}",
        "expired oauth": "Bearer "
        + _oauth_token(server, tenant.location_id, expired=True, revoked=False),
        "revoked oauth": "Bearer "
        + _oauth_token(server, tenant.location_id, expired=False, revoked=True),
    }
    messages = {}
    with unchanged(tenant):
        for label, value in credentials.items():
            headers = {"Version": "2021-07-28"}
            if value is not None:
                headers["Authorization"] = value
            answer = httpx.post(
                f"{tenant.url}/contacts/",
                json={"locationId": tenant.location_id, "firstName": "Nobody"},
                headers=headers,
            )
            assert answer.status_code == 401, (label, answer.text)
            body = answer.json()
            assert body["error"] == "Unauthorized"
            messages[label] = body["message"]
    assert len(set(messages.values())) == len(messages), messages
    assert "expired" in messages["expired oauth"]
    assert "revoked" in messages["revoked key"]
    assert "revoked" in messages["revoked oauth"]


def test_missing_version_is_401_and_a_wrong_one_400(tenant: Tenant) -> None:
    with unchanged(tenant), tenant.client(version=False) as client:
        missing = client.get(f"/contacts/{new_id()}")
        wrong = client.get(f"/contacts/{new_id()}", headers={"Version": "2021-04-15"})
    assert missing.status_code == 401
    assert missing.json()["message"] == "version header was not found."
    assert wrong.status_code == 400
    assert wrong.json()["message"].startswith("Invalid API version segment '2021-04-15'")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_415(
    tenant: Tenant, api: httpx.Client, content_type: str
) -> None:
    raw = f'{{"locationId": "{tenant.location_id}", "firstName": "Typed"}}'
    with unchanged(tenant):
        answer = api.post("/contacts/", content=raw, headers={"content-type": content_type})
    assert answer.status_code == 415, answer.text
    assert content_type in answer.json()["message"]


def _json_schema(node: Any, spec: dict[str, Any]) -> Any:
    """Return an OpenAPI 3.0 schema as JSON Schema: refs inlined, `nullable` as a null type."""
    if isinstance(node, list):
        return [_json_schema(v, spec) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _json_schema(spec["components"]["schemas"][name], spec)
    out = {k: _json_schema(v, spec) for k, v in node.items() if not k.startswith("x-")}
    out.pop("example", None)
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


# Every field of the create body, and one it does not have.
_FIELDS = [*reference_spec()["components"]["schemas"]["CreateContactDto"]["properties"], "extra"]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(st.sampled_from(_FIELDS), _values | st.text(max_size=40)),
    location=st.sampled_from(["mine", "missing", "other"]),
    top=st.one_of(st.none(), _values),
)
def test_random_json_never_breaks_create_contact(
    tenant: Tenant, api: httpx.Client, fields: dict[str, Any], location: str, top: Any
) -> None:
    if top is not None:
        body: Any = top
    else:
        body = dict(fields)
        if location == "mine":
            body["locationId"] = tenant.location_id
        elif location == "other":
            body["locationId"] = new_id()
    answer = api.post("/contacts/", json=body)
    assert answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == "application/json"
    if answer.status_code < 300:
        # The published schema says which fields may be null; the reference's, read with
        # null as "not sent", must hold for everything else.
        for spec, sent in (
            (published_spec(tenant.url), answer.json()),
            (reference_spec(), _without_nulls(answer.json())),
        ):
            response = spec["paths"]["/contacts/"]["post"]["responses"]["201"]
            schema = _json_schema(response["content"]["application/json"]["schema"], spec)
            jsonschema_rs.validate(schema, sent)
        assert answer.json()["contact"]["locationId"] == tenant.location_id
    else:
        assert isinstance(answer.json()["message"], str | list)
