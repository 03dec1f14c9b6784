"""Users of a location, as task assignees, note authors and followers."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.errors import unprocessable
from leadwire.crm.models import User


def unknown_users(session: Session, location_id: str, user_ids: Iterable[str]) -> list[str]:
    """Return the ids in `user_ids` that are not users of the location, in the order given."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return []
    known = set(
        session.scalars(select(User.id).where(User.location_id == location_id, User.id.in_(wanted)))
    )
    return [user_id for user_id in wanted if user_id not in known]


def check_user(session: Session, location_id: str, field: str, user_id: str | None) -> None:
    """Refuse (422) a `field` naming someone who is not a user of the location."""
    if user_id is not None and unknown_users(session, location_id, [user_id]):
        raise unprocessable(f"{field} {user_id!r} is not a user of this location")
