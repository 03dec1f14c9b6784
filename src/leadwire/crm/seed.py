"""Demo data for a location: contacts with tags, tasks, notes, appointments and memberships.

Everything drawn comes from the `rng` the caller passes, so the same seed gives the same
people, tags, tasks and times (relative to `now`); ids are fresh, so seeding a location twice
adds to it instead of colliding. Objects of the location (users, businesses, campaigns,
workflows, custom fields) are found by name or key before being created, so they are not
duplicated by a second run. Emails and phones are reserved for examples (example.com/.org/.net,
US 555-01xx, UK 07700 900xxx) and unique in the location.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.ids import new_id
from leadwire.crm.models import (
    Appointment,
    Business,
    Campaign,
    CampaignMember,
    Contact,
    CustomField,
    Location,
    Note,
    Task,
    User,
    Workflow,
    WorkflowMember,
    utcnow,
)
from leadwire.crm.records.contacts import add_tags, new_contact

FIRST_NAMES = (
    "Ada", "Kwame", "Sofía", "Mei", "Arjun", "Olivia", "Mateo", "Fatima", "Lars", "Yuki",
    "Chloé", "Noah", "Amara", "Diego", "Ingrid", "Ravi", "Zainab", "Liam", "Aiko", "Tomás",
    "Priya", "Emeka", "Hannah", "Luca", "Nadia", "Oscar", "Leila", "Jonas", "Camila", "Wei",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Mensah", "García", "Chen", "Sharma", "Brown", "Rossi", "Haddad", "Nilsson",
    "Tanaka", "Dubois", "Smith", "Okafor", "Hernández", "Larsen", "Patel", "Khan", "Murphy",
    "Suzuki", "Silva", "Iyer", "Adeyemi", "Schmidt", "Bianchi", "Novak", "Johansson", "Nguyen",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "example.net")
US_AREA_CODES = ("212", "312", "415", "512", "206", "303", "617", "702")
SOURCES = ("pinterest lead ad", "website form", "referral", "facebook", "google ads", "webinar")
TAGS = ("lead", "hot", "warm", "cold", "newsletter", "vip", "spring promo", "follow up")
CITIES = (
    ("Austin", "TX", "US", "America/Chicago"),
    ("Seattle", "WA", "US", "America/Los_Angeles"),
    ("Brooklyn", "NY", "US", "America/New_York"),
    ("Manchester", "England", "GB", "Europe/London"),
)
STREETS = ("Market St", "Oak Ave", "High Street", "Maple Rd", "Elm St", "Station Road")

USERS = (
    ("Jordan Rivera", "jordan.rivera@example.com"),
    ("Sam Okafor", "sam.okafor@example.com"),
    ("Priya Natarajan", "priya.natarajan@example.com"),
)
BUSINESSES = ("Northwind Traders", "Bluebird Florists", "Summit Dental")
CAMPAIGNS = ("New lead nurture", "Spring promotion", "Re-engagement")
WORKFLOWS = ("Pinterest lead follow-up", "Appointment reminders", "Birthday greetings")
DRAFTS = frozenset({"Re-engagement", "Birthday greetings"})  # contacts are not put in these
INTERESTS = ("kitchen remodel", "bathroom", "garden design", "home office", "flooring")
CUSTOM_FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("contact.budget", "Budget", "MONETORY", ()),
    ("contact.household_size", "Household size", "NUMERICAL", ()),
    ("contact.preferred_channel", "Preferred channel", "SINGLE_OPTIONS", ("Email", "Phone", "SMS")),
    ("contact.interests", "Interests", "CHECKBOX", INTERESTS),
    ("contact.move_in_date", "Move-in date", "DATE", ()),
    ("contact.how_did_you_hear", "How did you hear about us?", "TEXT", ()),
)
TASK_TITLES = (
    "Call back", "Send brochure", "Follow up on quote", "Confirm appointment", "Ask for a review",
)  # fmt: skip
NOTE_BODIES = (
    "Asked about pricing for {interest}; prefers to be reached by {channel}.",
    "Came in through {source}. Interested in {interest}.",
    "Left a voicemail, will try again next week.",
    "Budget confirmed; wants a proposal before the end of the month.",
)
NOTE_COLORS = (None, None, "#FFAA00", "#4CAF50", "#2196F3")

UNIQUE_ATTEMPTS = 50

M = TypeVar("M", User, Business, Campaign, Workflow, CustomField)


@dataclass(frozen=True)
class SeedSummary:
    """What `seed_demo` added to the location."""

    location_id: str
    contact_ids: tuple[str, ...]
    tasks: int
    notes: int
    appointments: int
    users: int
    businesses: int
    campaigns: int
    workflows: int
    custom_fields: int

    @property
    def contacts(self) -> int:
        """How many contacts were created."""
        return len(self.contact_ids)


@dataclass
class _Location:
    """The location's objects the contacts are linked to."""

    id: str
    users: list[str]
    businesses: list[Business]
    campaigns: list[str]
    workflows: list[str]
    fields: dict[str, CustomField]
    emails: set[str]
    phones: set[str]
    calendar_id: str
    created: dict[str, int]


def seed_demo(
    session: Session,
    location_id: str,
    *,
    contacts: int = 25,
    rng: random.Random,
    now: datetime | None = None,
) -> SeedSummary:
    """Add `contacts` demo contacts and what hangs off them to the location. Caller commits."""
    if contacts < 0:
        raise ValueError(f"contacts must be 0 or more, not {contacts}")
    if session.get(Location, location_id) is None:
        raise ValueError(f"no location with id {location_id}")
    now = now or utcnow()
    place = _prepare(session, location_id)
    ids: list[str] = []
    counts = {"tasks": 0, "notes": 0, "appointments": 0}
    for _ in range(contacts):
        contact = _add_contact(session, place, rng, now)
        ids.append(contact.id)
        counts["tasks"] += _add_tasks(session, place, contact, rng, now)
        counts["notes"] += _add_notes(session, place, contact, rng)
        counts["appointments"] += _add_appointment(session, place, contact, rng, now)
        _add_memberships(session, place, contact, rng)
    session.flush()
    return SeedSummary(location_id=location_id, contact_ids=tuple(ids), **counts, **place.created)


def _prepare(session: Session, location_id: str) -> _Location:
    created: dict[str, int] = {}

    def find_or_add(kind: str, model: type[M], match: dict[str, Any], **extra: Any) -> M:
        found = session.scalar(select(model).filter_by(location_id=location_id, **match))
        if found is None:
            found = model(id=new_id(), location_id=location_id, **match, **extra)
            session.add(found)
            created[kind] = created.get(kind, 0) + 1
        else:
            created.setdefault(kind, 0)
        return found

    for name, email in USERS:
        find_or_add("users", User, {"email": email}, name=name)
    businesses = [
        find_or_add("businesses", Business, {"name": name}, date_added=utcnow())
        for name in BUSINESSES
    ]
    campaigns = [
        find_or_add("campaigns", Campaign, {"name": n}, status=_status(n)) for n in CAMPAIGNS
    ]
    workflows = [
        find_or_add("workflows", Workflow, {"name": n}, status=_status(n)) for n in WORKFLOWS
    ]
    fields = {
        key: find_or_add(
            "custom_fields",
            CustomField,
            {"key": key},
            name=name,
            data_type=data_type,
            options=list(options),
            extra={},
        )
        for key, name, data_type, options in CUSTOM_FIELDS
    }
    session.flush()
    # The location's own users (its owner, say) can be assignees and followers too; ordered by
    # name so that the same rng picks the same people in any location.
    users = session.scalars(
        select(User.id).where(User.location_id == location_id).order_by(User.name, User.id)
    )
    calendar = session.scalar(
        select(Appointment.calendar_id).where(Appointment.location_id == location_id).limit(1)
    )
    existing = session.execute(
        select(Contact.email_lower, Contact.phone).where(Contact.location_id == location_id)
    ).all()
    return _Location(
        id=location_id,
        users=list(users),
        calendar_id=calendar or new_id(),
        businesses=businesses,
        campaigns=[c.id for c in campaigns if c.status == "published"],
        workflows=[w.id for w in workflows if w.status == "published"],
        fields=fields,
        emails={row.email_lower for row in existing if row.email_lower},
        phones={row.phone for row in existing if row.phone},
        created=created,
    )


def _status(name: str) -> str:
    return "draft" if name in DRAFTS else "published"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _unique(
    rng: random.Random, taken: set[str], make: Callable[[random.Random], str]
) -> str | None:
    """Return a value of `make` not in `taken` (and take it), or None once they run short."""
    for _ in range(UNIQUE_ATTEMPTS):
        value = make(rng)
        if value not in taken:
            taken.add(value)
            return value
    return None


def _spare_email(base: str, taken: set[str]) -> str:
    # For large seeds, when the random spellings run short: the first free numbered one.
    number = 100
    while f"{base}{number}@example.com" in taken:
        number += 1
    taken.add(f"{base}{number}@example.com")
    return f"{base}{number}@example.com"


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return f"+1{rng.choice(US_AREA_CODES)}55501{rng.randrange(100):02d}"
    return f"+447700900{rng.randrange(1000):03d}"


def _add_contact(session: Session, place: _Location, rng: random.Random, now: datetime) -> Contact:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, country, zone = rng.choice(CITIES)
    contact = new_contact(place.id)
    contact.first_name, contact.last_name = first, last
    has_email, has_phone = rng.choice(((True, True), (True, True), (True, False), (False, True)))
    # The reserved phone ranges hold about 1,800 numbers: past that, contacts get an email only.
    phone = _unique(rng, place.phones, _phone) if has_phone else None
    if has_email or phone is None:
        base = f"{_ascii(first)}.{_ascii(last)}"
        contact.email = _unique(
            rng, place.emails, lambda r: f"{base}{r.randrange(100)}@{r.choice(DOMAINS)}"
        ) or _spare_email(base, place.emails)
        contact.email_lower = contact.email.lower()
    contact.phone = phone
    contact.address1 = f"{rng.randrange(1, 999)} {rng.choice(STREETS)}"
    contact.city, contact.state, contact.country, contact.timezone = city, state, country, zone
    contact.source = rng.choice(SOURCES)
    contact.assigned_to = rng.choice(place.users) if rng.random() < 0.6 else None
    contact.followers = rng.sample(place.users, k=rng.randrange(0, 3))
    if rng.random() < 0.35:
        business = rng.choice(place.businesses)
        contact.business_id, contact.company_name = business.id, business.name
    contact.custom_fields = _field_values(place, rng, now)
    contact.date_added = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 60))
    contact.date_updated = contact.date_added
    session.add(contact)
    # Written now: what hangs off it (tasks, appointments) refers to it by a bare foreign key,
    # which the unit of work does not order by.
    session.flush()
    tags = rng.sample(TAGS, k=rng.randrange(0, 4))
    if contact.source == "pinterest lead ad":
        tags.append("pinterest")
    add_tags(session, contact, tags)
    return contact


def _field_values(place: _Location, rng: random.Random, now: datetime) -> dict[str, Any]:
    fields = place.fields
    values: dict[str, Any] = {}
    if rng.random() < 0.7:
        values[fields["contact.budget"].id] = rng.randrange(5, 200) * 100
    if rng.random() < 0.5:
        values[fields["contact.household_size"].id] = rng.randrange(1, 7)
    if rng.random() < 0.7:
        values[fields["contact.preferred_channel"].id] = rng.choice(("Email", "Phone", "SMS"))
    if rng.random() < 0.6:
        values[fields["contact.interests"].id] = rng.sample(INTERESTS, k=rng.randrange(1, 3))
    if rng.random() < 0.4:
        moving = now + timedelta(days=rng.randrange(14, 180))
        values[fields["contact.move_in_date"].id] = moving.date().isoformat()
    if rng.random() < 0.3:
        values[fields["contact.how_did_you_hear"].id] = rng.choice(("A friend", "Pinterest pin"))
    return values


def _add_tasks(
    session: Session, place: _Location, contact: Contact, rng: random.Random, now: datetime
) -> int:
    count = rng.randrange(0, 4)
    for _ in range(count):
        due = now + timedelta(hours=rng.randrange(-5 * 24, 14 * 24))
        session.add(
            Task(
                id=new_id(),
                contact_id=contact.id,
                location_id=place.id,
                title=f"{rng.choice(TASK_TITLES)}: {contact.first_name} {contact.last_name}",
                body=rng.choice((None, "Check the lead's answers before calling.")),
                assigned_to=rng.choice(place.users),
                due_date=due.replace(minute=0, second=0, microsecond=0),
                completed=due < now and rng.random() < 0.6,
                date_added=contact.date_added,
                date_updated=contact.date_added,
            )
        )
    return count


def _add_notes(session: Session, place: _Location, contact: Contact, rng: random.Random) -> int:
    count = rng.randrange(0, 3)
    for index in range(count):
        body = rng.choice(NOTE_BODIES).format(
            interest=rng.choice(INTERESTS),
            channel=rng.choice(("email", "phone", "text")),
            source=contact.source,
        )
        session.add(
            Note(
                id=new_id(),
                contact_id=contact.id,
                location_id=place.id,
                body=body,
                user_id=rng.choice(place.users),
                title=rng.choice((None, "Call summary", "Lead details")),
                color=rng.choice(NOTE_COLORS),
                pinned=rng.random() < 0.15,
                date_added=contact.date_added + timedelta(minutes=10 * (index + 1)),
            )
        )
    return count


def _add_appointment(
    session: Session, place: _Location, contact: Contact, rng: random.Random, now: datetime
) -> int:
    if rng.random() >= 0.4:
        return 0
    day = (now + timedelta(days=rng.randrange(-10, 21))).replace(
        hour=rng.randrange(9, 17), minute=rng.choice((0, 30)), second=0, microsecond=0
    )
    is_past = day < now
    status = rng.choice(("showed", "noshow", "cancelled") if is_past else ("confirmed", "new"))
    owner = rng.choice(place.users)
    session.add(
        Appointment(
            id=new_id(),
            contact_id=contact.id,
            location_id=place.id,
            calendar_id=place.calendar_id,
            title=f"Consultation with {contact.first_name} {contact.last_name}",
            status="booked" if status != "cancelled" else "cancelled",
            appointment_status=status,
            assigned_user_id=owner,
            notes=rng.choice((None, "Bring samples.")),
            address=rng.choice((None, contact.address1)),
            start_time=day,
            end_time=day + timedelta(minutes=rng.choice((30, 60))),
            users=[owner],
            date_added=contact.date_added,
            date_updated=contact.date_added,
        )
    )
    return 1


def _add_memberships(
    session: Session, place: _Location, contact: Contact, rng: random.Random
) -> None:
    if place.campaigns and rng.random() < 0.5:
        session.add(CampaignMember(contact_id=contact.id, campaign_id=rng.choice(place.campaigns)))
    if place.workflows and rng.random() < 0.4:
        session.add(
            WorkflowMember(
                contact_id=contact.id,
                workflow_id=rng.choice(place.workflows),
                event_start_time=contact.date_added,
            )
        )
