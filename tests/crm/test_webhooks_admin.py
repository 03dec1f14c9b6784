"""Webhook administration: payload shapes, signing keys, subscriptions, pruning, the CLI."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from leadwire.cli.crm_webhooks import app as webhook_cli
from leadwire.crm import admin
from leadwire.crm.events import EventType, emit, webhook_payload
from leadwire.crm.ids import new_id
from leadwire.crm.models import WebhookDelivery, utcnow
from leadwire.crm.webhooks import outbox
from leadwire.crm.webhooks.signing import (
    KEY_FILE,
    Scheme,
    generate_keys,
    load_or_create_keys,
    verify_signature,
)
from leadwire.crm.webhooks.subscriptions import (
    SubscriptionError,
    create_subscription,
    deactivate_subscription,
    validate_url,
)
from tests.conftest import make_settings
from tests.crm.conftest import CrmServer, Tenant

CONTACT_WIRE = {
    "id": "c1",
    "name": "Ada Lovelace",
    "locationId": "L1",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "emailLowerCase": "ada@example.com",
    "type": "lead",
    "phone": None,
    "dnd": True,
    "dndSettings": {"SMS": {"status": "active"}},
    "inboundDndSettings": {},
    "tags": ["a"],
    "customFields": [{"id": "f1", "value": "x"}],
    "dateAdded": "2025-01-01T00:00:00.000Z",
    "followers": [],
}


def test_contact_payload_keeps_documented_fields_and_its_own_type() -> None:
    body = webhook_payload(EventType.CONTACT_CREATE, "L1", CONTACT_WIRE)
    assert body["type"] == "ContactCreate"  # not the contact's own `type: lead`
    assert body["locationId"] == "L1"
    assert body["email"] == "ada@example.com"
    assert body["customFields"] == [{"id": "f1", "value": "x"}]
    assert body["attachments"] == []
    for undocumented in ("emailLowerCase", "followers", "dndSettings", "phone"):
        assert undocumented not in body
    dnd = webhook_payload(EventType.CONTACT_DND_UPDATE, "L1", CONTACT_WIRE)
    assert dnd["dndSettings"] == {"SMS": {"status": "active"}}


def test_task_and_note_payloads_follow_their_schemas() -> None:
    task = {"id": "t1", "title": "Call", "body": "b", "contactId": "c1", "completed": True}
    task["dueDate"] = "2025-01-02T00:00:00.000Z"
    assert webhook_payload(EventType.TASK_COMPLETE, "L1", task) == {
        "type": "TaskComplete",
        "locationId": "L1",
        "id": "t1",
        "title": "Call",
        "body": "b",
        "contactId": "c1",
        "dueDate": "2025-01-02T00:00:00.000Z",
    }
    note = {"id": "n1", "body": "hi", "contactId": "c1", "userId": "u1", "dateAdded": "d"}
    assert webhook_payload(EventType.NOTE_CREATE, "L1", note) == {
        "type": "NoteCreate",
        "locationId": "L1",
        "id": "n1",
        "body": "hi",
        "contactId": "c1",
        "dateAdded": "d",
    }


def test_keys_are_created_once_private_to_the_owner_and_verify(tmp_path: Path) -> None:
    keys = load_or_create_keys(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_keys(tmp_path)
    assert again.public_pem(Scheme.RSA) == keys.public_pem(Scheme.RSA)
    assert again.public_pem(Scheme.ED25519) == keys.public_pem(Scheme.ED25519)
    assert "PRIVATE" not in repr(keys)
    body = b'{"type":"ContactCreate"}'
    headers = keys.signature_headers(body)
    assert verify_signature(keys.public_pem(Scheme.RSA), body, headers["x-wh-signature"])
    assert verify_signature(keys.public_pem(Scheme.ED25519), body, headers["x-ghl-signature"])
    stranger = generate_keys()
    assert not verify_signature(stranger.public_pem(Scheme.RSA), body, headers["x-wh-signature"])
    assert not verify_signature(keys.public_pem(Scheme.RSA), body, "not base64!")
    assert not verify_signature("not a key", body, headers["x-wh-signature"])


def test_a_key_file_others_can_read_is_made_private(tmp_path: Path) -> None:
    load_or_create_keys(tmp_path)
    path = tmp_path / KEY_FILE
    path.chmod(0o644)
    load_or_create_keys(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "must start with http:// or https://"),
        ("example.com/hook", "must start with http:// or https://"),
        ("https:///hook", "has no host"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "without spaces"),
    ],
)
def test_bad_urls_are_refused_with_a_clear_reason(url: str, message: str) -> None:
    with pytest.raises(SubscriptionError, match=message):
        validate_url(url)


def test_unknown_event_types_are_refused(tenant: Tenant) -> None:
    with tenant.server.store.sessions() as session, pytest.raises(SubscriptionError) as caught:
        create_subscription(session, tenant.location_id, "https://x.test/", ["ContactCreated"])
    assert "ContactCreated" in str(caught.value)
    assert "ContactCreate," in str(caught.value)


def test_deactivating_fails_pending_deliveries_and_stops_new_ones(tenant: Tenant) -> None:
    with tenant.server.store.sessions() as session:
        sub = create_subscription(session, tenant.location_id, "http://127.0.0.1:9/")
        assert emit(session, tenant.location_id, EventType.NOTE_CREATE, {"id": "n"}) == 1
        assert deactivate_subscription(session, sub.id)
        assert emit(session, tenant.location_id, EventType.NOTE_CREATE, {"id": "n2"}) == 0
        session.commit()
        rows = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
        ).all()
    assert [(r.status, r.last_error) for r in rows] == [("failed", "subscription deactivated")]


def test_prune_drops_old_finished_deliveries_only(tenant: Tenant) -> None:
    store = tenant.server.store
    now = utcnow()
    with store.sessions() as session:
        sub = create_subscription(session, tenant.location_id, "http://127.0.0.1:9/")
        session.commit()
    ages = {
        "old-delivered": ("delivered", timedelta(days=8)),
        "new-delivered": ("delivered", timedelta(days=6)),
        "old-failed": ("failed", timedelta(days=31)),
        "new-failed": ("failed", timedelta(days=29)),
    }
    ids = {name: new_id() for name in ages}
    with store.sessions() as session:
        for name, (status, age) in ages.items():
            session.add(
                WebhookDelivery(
                    id=ids[name],
                    subscription_id=sub.id,
                    event_type="NoteCreate",
                    payload={},
                    status=status,
                    attempts=1,
                    next_attempt_at=now - age,
                    date_added=now - age,
                    delivered_at=now - age if status == "delivered" else None,
                )
            )
        session.commit()
    outbox.prune(store, now)
    with store.read_sessions() as session:
        left = set(
            session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == sub.id)
            ).all()
        )
    assert left == {ids["new-delivered"], ids["new-failed"]}


def _cli(server: CrmServer, tmp_path: Path, *args: str) -> tuple[int, str]:
    url = server.store.engine.url.render_as_string(hide_password=False)
    settings = make_settings(tmp_path, crm_database_url=url)
    result = CliRunner().invoke(webhook_cli, list(args), obj=settings, env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_cli_adds_lists_shows_deliveries_and_removes(tenant: Tenant, tmp_path: Path) -> None:
    server = tenant.server
    code, out = _cli(
        server, tmp_path, "add", "--location", tenant.location_id, "--url", "ftp://x.test/"
    )
    assert code == 2
    assert "must start with http:// or https://" in out

    code, out = _cli(
        server,
        tmp_path,
        *("add", "-l", tenant.location_id, "--url", "http://127.0.0.1:9/hook?token=s3cret"),
        *("--event", "TaskCreate", "--event", "NoteCreate"),
    )
    assert code == 0, out
    sub_id = out.strip().splitlines()[-1]

    code, out = _cli(server, tmp_path, "list", "--location", tenant.location_id)
    assert code == 0, out
    assert sub_id in out
    assert "TaskCreate, NoteCreate" in out
    assert "s3cret" not in out

    with server.store.sessions() as session:
        emit(session, tenant.location_id, EventType.NOTE_CREATE, {"id": "n"})
        deactivate_subscription(session, sub_id)  # keep the row still: no dispatcher sends it
        session.commit()
    code, out = _cli(server, tmp_path, "deliveries", "--location", tenant.location_id)
    assert code == 0, out
    assert "NoteCreate" in out
    assert "subscription deactivated" in out

    assert _cli(server, tmp_path, "remove", sub_id)[0] == 0
    code, out = _cli(server, tmp_path, "remove", sub_id)
    assert code == 2
    assert f"no subscription with id {sub_id}" in out


@pytest.mark.parametrize("command", [[], ["add"], ["list"], ["remove"], ["deliveries"]])
def test_every_cli_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(webhook_cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_location_must_exist(crm_server: CrmServer) -> None:
    with crm_server.store.sessions() as session, pytest.raises(SubscriptionError, match="no loc"):
        create_subscription(session, "A" * 20, "https://x.test/")
    with crm_server.store.sessions() as session:
        location = admin.create_location(session, "hooks")
        assert create_subscription(session, location.id, " https://x.test/h ").url == (
            "https://x.test/h"
        )
        session.rollback()
