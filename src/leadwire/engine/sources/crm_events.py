"""CRM events as a source of runs: the hooks that receive them, their decoding, their routing.

- A **CRM hook** is `POST /hooks/crm/{secret}` with the public key that verifies the CRM's
  signatures: the embedded CRM's Ed25519 key (`x-ghl-signature`) by default, or any Ed25519 or
  RSA key (HighLevel publishes its own; RSA checks the legacy `x-wh-signature`). The URL secret
  is kept only as its SHA-256, as for Pinterest hooks.
- **Decoding** reads HighLevel's event shape: `type`, `locationId`, the object's fields, and
  `webhookId` — the delivery id, the same on every retry — as the event id. An event without
  one gets an id hashed from its body without `timestamp` (which a CRM sets afresh on every
  attempt), so its redeliveries still share an id. A signed `timestamp` older than
  `REPLAY_WINDOW_S` is refused: a captured delivery cannot be replayed later.
- **Routing**: one run per flow whose latest version has a `crm_event` trigger naming the
  event's type and whose CRM connection's location is the event's location. The run id is
  `crm:<event id>:<flow id>` — no version in it, so a redelivery starts nothing even across a
  publish — and the run's subject (`lw_runs.lead_id`) is `crm:<event id>`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.engine.flows.catalog import CrmEvent
from leadwire.engine.flows.triggers import CrmEventTrigger
from leadwire.engine.sources.targets import FlowTarget, TriggeredRun
from leadwire.errors import BadRequestError, DecodeError, NotFoundError
from leadwire.store.models.triggers import CrmHookRow

CRM_HOOK_PATH = "/hooks/crm/{secret}"
TRIGGER = "crm_event"
REPLAY_WINDOW_S = 300
MAX_PUBLIC_KEY_CHARS = 4_000
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# A contact id goes into request paths: nothing but what the CRMs' ids are made of.
_CONTACT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TYPES = {event.value for event in CrmEvent}


class Scheme(StrEnum):
    """How a hook's key verifies: Ed25519 over `x-ghl-signature`, RSA over `x-wh-signature`."""

    ED25519 = "ed25519"
    RSA = "rsa"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scheme_of(public_key_pem: str) -> Scheme:
    """Return the scheme of a PEM public key; BadRequestError if it is neither kind."""
    if len(public_key_pem) > MAX_PUBLIC_KEY_CHARS:
        raise BadRequestError("the public key is too long to be a PEM public key")
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        raise BadRequestError(
            "the public key is not a PEM public key (-----BEGIN PUBLIC KEY-----)"
        ) from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Scheme.ED25519
    if isinstance(key, rsa.RSAPublicKey):
        return Scheme.RSA
    raise BadRequestError("the public key must be an Ed25519 or an RSA key")


@dataclass(frozen=True, slots=True)
class CrmHook:
    """A CRM hook as shown (never its URL secret)."""

    id: str
    name: str
    scheme: Scheme
    public_key: str
    created_at: datetime
    last_delivery_at: datetime | None


def to_crm_hook(row: CrmHookRow) -> CrmHook:
    """Return the shown part of a hook row."""
    return CrmHook(
        id=row.id,
        name=row.name,
        scheme=Scheme(row.scheme),
        public_key=row.public_key,
        created_at=row.created_at,
        last_delivery_at=row.last_delivery_at,
    )


def create_crm_hook(
    session: Session, *, name: str, public_key: str, secret: str | None = None
) -> tuple[CrmHook, str]:
    """Add a CRM hook; return it and its URL secret (shown once, stored only hashed)."""
    pem = public_key.strip() + "\n"
    scheme = scheme_of(pem)
    if session.scalars(select(CrmHookRow.id).where(CrmHookRow.name == name)).first():
        raise BadRequestError(f"a CRM hook named {name!r} exists already")
    secret = secret or secrets.token_urlsafe(32)
    row = CrmHookRow(
        id="ch_" + secrets.token_hex(8),
        name=name,
        secret_hash=_hash(secret),
        public_key=pem,
        scheme=scheme.value,
        last_delivery_at=None,
    )
    session.add(row)
    session.flush()
    return to_crm_hook(row), secret


def find_crm_hook(session: Session, secret: str) -> CrmHook | None:
    """Return the CRM hook whose URL secret is `secret`, or None."""
    if not 16 <= len(secret) <= 128:
        return None
    query = select(CrmHookRow).where(CrmHookRow.secret_hash == _hash(secret))
    row = session.scalars(query).first()
    return None if row is None else to_crm_hook(row)


def list_crm_hooks(session: Session) -> list[CrmHook]:
    """Return every CRM hook, by name."""
    return [to_crm_hook(r) for r in session.scalars(select(CrmHookRow).order_by(CrmHookRow.name))]


def remove_crm_hook(session: Session, ref: str) -> CrmHook:
    """Delete the CRM hook whose id or name is `ref`; return it."""
    row = session.scalars(
        select(CrmHookRow).where((CrmHookRow.id == ref) | (CrmHookRow.name == ref))
    ).first()
    if row is None:
        raise NotFoundError(f"no CRM hook with id or name {ref!r}")
    hook = to_crm_hook(row)
    session.delete(row)
    return hook


@dataclass(frozen=True, slots=True)
class CrmEventIn:
    """A decoded event: its type, ids, and its body as received."""

    type: str
    event_id: str
    location_id: str
    contact_id: str | None
    body: dict[str, Any]

    @property
    def subject(self) -> str:
        """The runs' subject (`lw_runs.lead_id`): `crm:<event id>`."""
        return f"crm:{self.event_id}"

    @property
    def is_known(self) -> bool:
        """Whether a flow can name this type (others are acknowledged and ignored)."""
        return self.type in _TYPES

    @property
    def email(self) -> str | None:
        """A contact event's e-mail, as runs are searched by it."""
        email = self.body.get("email") if self.type.startswith("Contact") else None
        if not isinstance(email, str):
            return None
        return email.strip().lower()[:320] or None


def _event_id(body: dict[str, Any]) -> str:
    given = body.get("webhookId")
    if isinstance(given, str) and _SAFE_ID.fullmatch(given):
        return given
    if isinstance(given, str | int) and not isinstance(given, bool) and str(given):
        source = f"webhookId\n{given}"
    else:
        rest = {k: v for k, v in body.items() if k != "timestamp"}
        source = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256-" + hashlib.sha256(source.encode()).hexdigest()[:40]


def _contact_id(body: dict[str, Any], kind: str) -> str | None:
    value = body.get("contactId")
    if value is None and kind.startswith("Contact"):
        value = body.get("id")
    if value is None:
        return None
    if not isinstance(value, str) or not _CONTACT_ID.fullmatch(value):
        raise DecodeError("the event's contact id is not a CRM id")
    return value


def _check_age(body: dict[str, Any], now: datetime) -> None:
    stamp = body.get("timestamp")
    if not isinstance(stamp, str):
        return
    try:
        sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise DecodeError("the event's timestamp is not an ISO date-time") from None
    sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    window = timedelta(seconds=REPLAY_WINDOW_S)
    if not now - window <= sent <= now + window:
        raise DecodeError(
            f"the event's timestamp {stamp} is more than {REPLAY_WINDOW_S} s from now: "
            "a replayed delivery, or a clock that is off"
        )


def decode_event(body: bytes, *, now: datetime) -> CrmEventIn:
    """Read a (verified) event body; DecodeError naming what is wrong (never its data)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DecodeError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise DecodeError("the body is not a JSON object")
    kind, location = data.get("type"), data.get("locationId")
    if not isinstance(kind, str) or not 0 < len(kind) <= 64:
        raise DecodeError("the event has no `type`")
    if not isinstance(location, str) or not 0 < len(location) <= 64:
        raise DecodeError("the event has no `locationId`")
    _check_age(data, now)
    contact_id = _contact_id(data, kind)
    if contact_id is None and kind in _TYPES:
        raise DecodeError(f"the {kind} event names no contact (`contactId` or `id`)")
    return CrmEventIn(kind, _event_id(data), location, contact_id, data)


def event_payload(event: CrmEventIn, target: FlowTarget) -> dict[str, object]:
    """Return what a run of `target` for `event` carries (the executor plans from it)."""
    return target.payload(
        trigger=TRIGGER,
        subject=event.subject,
        event={
            "type": event.type,
            "event_id": event.event_id,
            "location_id": event.location_id,
            "contact_id": event.contact_id,
            "body": event.body,
        },
        contact_id=event.contact_id,
    )


def takes(target: FlowTarget, event: CrmEventIn) -> bool:
    """Return whether `target`'s trigger names the event's type (whatever its location)."""
    trigger = target.document.trigger
    return isinstance(trigger, CrmEventTrigger) and event.type in trigger.events


def event_runs(targets: Sequence[FlowTarget], event: CrmEventIn) -> list[TriggeredRun]:
    """Return a run per flow the event starts; ValueError if one taking it cannot run.

    A flow of the event's type that cannot say its location (no CRM connection, or an
    ambiguous one) might be the event's: refusing keeps the event unacknowledged, so the CRM
    delivers it again once the flow is fixed, rather than dropping it silently.
    """
    runs: list[TriggeredRun] = []
    for target in targets:
        if not takes(target, event):
            continue
        location = target.check_runnable()
        if location != event.location_id:
            continue
        runs.append(
            TriggeredRun(
                lead_id=event.subject,
                flow_id=target.flow_id,
                flow_version=target.version,
                location_id=location,
                payload=event_payload(event, target),
                email=event.email,
                run_key=f"crm:{event.event_id}:{target.flow_id}",
            )
        )
    return runs
