"""Lead ads subscriptions: create, get, list, delete; keys that are 32 bytes and never in clear."""

from __future__ import annotations

import base64
import json
import os
import stat
import time

import httpx
from sqlalchemy import LargeBinary, select

from leadwire.sandbox.keys import master_key_path
from leadwire.sandbox.models import Base
from tests.sandbox.conftest import Tenant


def _path(tenant: Tenant, suffix: str = "") -> str:
    return f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions{suffix}"


def test_create_returns_a_fresh_aes_256_key_without_padding(
    tenant: Tenant, api: httpx.Client
) -> None:
    before_ms = int(time.time() * 1000) - 1000
    answer = api.post(
        _path(tenant),
        json={"webhook_url": "https://example.com/hook", "lead_form_id": tenant.contact_form},
    )
    assert answer.status_code == 200, answer.text
    sub = answer.json()
    assert set(sub) == {
        "id",
        "ad_account_id",
        "lead_form_id",
        "webhook_url",
        "api_version",
        "created_time",
        "cryptographic_key",
        "cryptographic_algorithm",
        "user_account_id",
    }
    assert sub["cryptographic_algorithm"] == "AES-256-GCM"
    key = sub["cryptographic_key"]
    assert len(key) == 43
    assert not key.endswith("=")
    assert len(base64.b64decode(key + "=")) == 32
    assert sub["created_time"] >= before_ms  # milliseconds
    assert sub["user_account_id"] == tenant.user_id
    assert sub["lead_form_id"] == tenant.contact_form
    assert sub["api_version"] == "v5"
    other = api.post(_path(tenant), json={"webhook_url": "https://example.com/all"}).json()
    assert other["lead_form_id"] is None
    assert other["cryptographic_key"] != key


def test_get_list_and_delete(tenant: Tenant, api: httpx.Client) -> None:
    created = api.post(_path(tenant), json={"webhook_url": "http://127.0.0.1:9/hook"}).json()
    got = api.get(_path(tenant, f"/{created['id']}"))
    assert got.status_code == 200
    assert got.json() == created
    listed = api.get(_path(tenant)).json()
    assert listed == {"items": [created], "bookmark": None}
    deleted = api.delete(_path(tenant, f"/{created['id']}"))
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = api.get(_path(tenant, f"/{created['id']}"))
    assert gone.status_code == 404
    assert gone.json()["code"] == 404
    assert api.delete(_path(tenant, f"/{created['id']}")).status_code == 404


def test_one_subscription_per_form_and_one_per_account(tenant: Tenant, api: httpx.Client) -> None:
    form_body = {"webhook_url": "https://a.example.com", "lead_form_id": tenant.contact_form}
    first = api.post(_path(tenant), json=form_body).json()
    again = api.post(_path(tenant), json={**form_body, "webhook_url": "https://b.example.com"})
    assert again.status_code == 400
    assert again.json()["code"] == 1
    assert first["id"] in again.json()["message"]
    assert api.post(_path(tenant), json={"webhook_url": "https://c.example.com"}).status_code == 200
    second_account_level = api.post(_path(tenant), json={"webhook_url": "https://d.example.com"})
    assert second_account_level.status_code == 400
    other_form = {"webhook_url": "https://a.example.com", "lead_form_id": tenant.project_form}
    assert api.post(_path(tenant), json=other_form).status_code == 200


def test_bad_subscription_requests(tenant: Tenant, api: httpx.Client) -> None:
    for body in (
        {},
        {"webhook_url": "ftp://example.com"},
        {"webhook_url": "not a url"},
        {"webhook_url": 5},
        {"webhook_url": "https://x.example.com", "lead_form_id": "abc"},
    ):
        answer = api.post(_path(tenant), json=body)
        assert answer.status_code == 400, body
        assert answer.json()["code"] == 1
    unknown_form = api.post(
        _path(tenant),
        json={"webhook_url": "https://x.example.com", "lead_form_id": "123456789012345"},
    )
    assert unknown_form.status_code == 404
    assert unknown_form.json()["code"] == 4842


def test_subscription_keys_are_never_stored_in_clear(tenant: Tenant, api: httpx.Client) -> None:
    keys = [
        api.post(_path(tenant), json={"webhook_url": "https://example.com/x"}).json()[
            "cryptographic_key"
        ],
        api.post(
            _path(tenant),
            json={"webhook_url": "https://example.com/y", "lead_form_id": tenant.contact_form},
        ).json()["cryptographic_key"],
    ]
    needles: list[bytes] = []
    for key in keys:
        raw = base64.b64decode(key + "=")
        needles += [key.encode(), raw, base64.b64encode(raw), raw.hex().encode()]
    scanned = 0
    with tenant.server.store.read_sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(column.type, LargeBinary):
                        data = bytes(value)
                    else:
                        data = json.dumps(value, default=str).encode()
                    scanned += 1
                    for needle in needles:
                        assert needle not in data, f"{table.name}.{column.name} holds a key"
    assert scanned > 0
    path = master_key_path(tenant.server.settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
