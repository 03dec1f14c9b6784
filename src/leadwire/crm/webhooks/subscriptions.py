"""Administration of webhook subscriptions and a look at their deliveries. Callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from leadwire.crm.events import EventType
from leadwire.crm.ids import new_id
from leadwire.crm.models import Location, WebhookDelivery, WebhookSubscription, utcnow

MAX_URL_LENGTH = 2000
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class SubscriptionError(ValueError):
    """A subscription request that cannot be honoured; the message says why and what to do."""


def validate_url(url: str) -> str:
    """Return `url` if it is an absolute http(s) URL with a host; raise SubscriptionError."""
    value = url.strip()
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a port out of range
    except ValueError as exc:
        raise SubscriptionError(f"webhook URL {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise SubscriptionError(
            f"webhook URL must start with http:// or https://; got {url!r}"
            + (f" (scheme {parts.scheme!r})" if parts.scheme else "")
        )
    if not host:
        raise SubscriptionError(f"webhook URL {url!r} has no host")
    if len(value) > MAX_URL_LENGTH or any(c.isspace() for c in value):
        raise SubscriptionError(
            f"webhook URL must be at most {MAX_URL_LENGTH} characters, without spaces"
        )
    return value


def validate_events(events: Iterable[str]) -> list[str]:
    """Return the event type names, deduplicated in order; raise SubscriptionError on unknown."""
    known = {e.value for e in EventType}
    names = list(dict.fromkeys(str(e) for e in events))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SubscriptionError(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return names


def create_subscription(
    session: Session, location_id: str, url: str, events: Iterable[str] = ()
) -> WebhookSubscription:
    """Subscribe `url` to the location's `events` (none listed: every event)."""
    if session.get(Location, location_id) is None:
        raise SubscriptionError(f"no location with id {location_id}")
    subscription = WebhookSubscription(
        id=new_id(),
        location_id=location_id,
        url=validate_url(url),
        events=validate_events(events),
        is_active=True,
        date_added=utcnow(),
    )
    session.add(subscription)
    session.flush()
    return subscription


def list_subscriptions(
    session: Session, location_id: str | None = None
) -> Sequence[WebhookSubscription]:
    """Return the subscriptions of a location (or of all), oldest first."""
    query = select(WebhookSubscription).order_by(
        WebhookSubscription.date_added, WebhookSubscription.id
    )
    if location_id is not None:
        query = query.where(WebhookSubscription.location_id == location_id)
    return session.scalars(query).all()


def delete_subscription(session: Session, subscription_id: str) -> bool:
    """Delete a subscription and its deliveries; return whether it existed."""
    session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    )
    result = session.execute(
        delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    )
    return bool(getattr(result, "rowcount", 0))


def deactivate_subscription(session: Session, subscription_id: str) -> bool:
    """Stop sending to a subscription: pending deliveries fail; return whether it was active."""
    result = session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.is_active.is_(True))
        .values(is_active=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == "pending",
        )
        .values(status="failed", last_error="subscription deactivated")
    )
    return True


def recent_deliveries(
    session: Session, location_id: str, *, limit: int = 20, status: str | None = None
) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
    """Return the location's latest deliveries, newest first, each with its subscription."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise SubscriptionError(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    query = (
        select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookDelivery.subscription_id == WebhookSubscription.id)
        .where(WebhookSubscription.location_id == location_id)
        .order_by(WebhookDelivery.date_added.desc(), WebhookDelivery.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return [(d, s) for d, s in session.execute(query).all()]
