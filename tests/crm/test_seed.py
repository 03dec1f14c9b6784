"""Demo data: realistic, linked to the location's objects, deterministic given the rng."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import phonenumbers
import pytest
from email_validator import validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadwire.crm.models import (
    Appointment,
    Business,
    CampaignMember,
    Contact,
    CustomField,
    Note,
    Task,
    User,
    WorkflowMember,
)
from leadwire.crm.records.contacts import normalise_tag, tags_of
from leadwire.crm.seed import SeedSummary, seed_demo
from tests.crm.conftest import CrmServer, Tenant, new_tenant

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _seed(server: CrmServer, location_id: str, seed: int, contacts: int = 25) -> SeedSummary:
    with server.store.sessions() as session:
        summary = seed_demo(
            session, location_id, contacts=contacts, rng=random.Random(seed), now=NOW
        )
        session.commit()
    return summary


def _content(session: Session, summary: SeedSummary) -> list[tuple[Any, ...]]:
    """Return what was seeded, per contact in creation order, without ids."""
    keys = dict(session.execute(select(CustomField.id, CustomField.key)).all())
    users = dict(session.execute(select(User.id, User.name)).all())
    rows = []
    for contact_id in summary.contact_ids:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        tasks = session.scalars(select(Task).where(Task.contact_id == contact_id)).all()
        notes = session.scalars(select(Note).where(Note.contact_id == contact_id)).all()
        rows.append(
            (
                contact.first_name,
                contact.last_name,
                contact.email,
                contact.phone,
                contact.source,
                contact.date_added,
                tuple(tags_of(session, contact_id)),
                tuple(sorted((keys[k], str(v)) for k, v in contact.custom_fields.items())),
                tuple(users[u] for u in contact.followers),
                sorted(
                    ((t.title, t.due_date, t.completed, users[t.assigned_to]) for t in tasks),
                    key=repr,
                ),
                sorted(((n.body, n.title, n.pinned) for n in notes), key=repr),
            )
        )
    return rows


def test_seed_is_realistic_and_linked(crm_server: CrmServer) -> None:
    tenant = new_tenant(crm_server)
    summary = _seed(crm_server, tenant.location_id, seed=1)
    assert summary.contacts == 25
    assert summary.tasks > 0
    assert summary.notes > 0
    assert summary.appointments > 0
    assert (summary.users, summary.businesses, summary.campaigns, summary.workflows) == (3, 3, 3, 3)
    with crm_server.store.read_sessions() as session:
        contacts = session.scalars(
            select(Contact).where(Contact.location_id == tenant.location_id)
        ).all()
        assert len(contacts) == 25
        assert len({(c.first_name, c.last_name) for c in contacts}) > 15
        emails = [c.email for c in contacts if c.email]
        phones = [c.phone for c in contacts if c.phone]
        assert all(c.email or c.phone for c in contacts)
        assert len(set(emails)) == len(emails) > 10
        assert len(set(phones)) == len(phones) > 10
        for email in emails:
            assert validate_email(email, check_deliverability=False).normalized == email
        for phone in phones:
            number = phonenumbers.parse(phone)
            assert phonenumbers.is_possible_number(number)
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
        assert len({c.source for c in contacts}) > 2
        location_users = set(
            session.scalars(select(User.id).where(User.location_id == tenant.location_id))
        )
        assert {c.assigned_to for c in contacts} - {None} <= location_users
        assert {f for c in contacts for f in c.followers} <= location_users
        businesses = dict(
            session.execute(
                select(Business.id, Business.name).where(Business.location_id == tenant.location_id)
            ).all()
        )
        assigned = [c for c in contacts if c.business_id]
        assert assigned
        assert all(businesses[c.business_id] == c.company_name for c in assigned)
        all_tags = [t for c in contacts for t in tags_of(session, c.id)]
        assert len(set(all_tags)) > 3
        assert all(normalise_tag(t) == t for t in all_tags)
        fields = session.scalars(
            select(CustomField).where(CustomField.location_id == tenant.location_id)
        ).all()
        assert len({f.data_type for f in fields}) >= 4
        values = [v for c in contacts for v in c.custom_fields.values()]
        assert {type(v) for v in values} >= {int, str, list}
        ids = [c.id for c in contacts]
        assert session.scalar(
            select(func.count()).select_from(Task).where(Task.contact_id.in_(ids))
        ) == (summary.tasks)
        appointments = session.scalars(
            select(Appointment).where(Appointment.location_id == tenant.location_id)
        ).all()
        assert len(appointments) == summary.appointments
        assert all(a.end_time > a.start_time for a in appointments)
        members = session.scalar(
            select(func.count())
            .select_from(CampaignMember)
            .where(CampaignMember.contact_id.in_(ids))
        )
        enrolled = session.scalar(
            select(func.count())
            .select_from(WorkflowMember)
            .where(WorkflowMember.contact_id.in_(ids))
        )
        assert members
        assert enrolled


def test_same_seed_same_content(crm_server: CrmServer) -> None:
    first, second, third = (new_tenant(crm_server) for _ in range(3))
    a = _seed(crm_server, first.location_id, seed=7, contacts=12)
    b = _seed(crm_server, second.location_id, seed=7, contacts=12)
    c = _seed(crm_server, third.location_id, seed=8, contacts=12)
    assert set(a.contact_ids).isdisjoint(b.contact_ids)
    with crm_server.store.read_sessions() as session:
        assert _content(session, a) == _content(session, b)
        assert _content(session, a) != _content(session, c)
    assert (a.tasks, a.notes, a.appointments) == (b.tasks, b.notes, b.appointments)


def test_seeding_twice_adds_contacts_but_not_location_objects(crm_server: CrmServer) -> None:
    tenant = new_tenant(crm_server)
    _seed(crm_server, tenant.location_id, seed=3, contacts=10)
    again = _seed(crm_server, tenant.location_id, seed=3, contacts=10)
    assert again.contacts == 10
    counts = (again.users, again.businesses, again.campaigns, again.workflows, again.custom_fields)
    assert counts == (0, 0, 0, 0, 0)
    with crm_server.store.read_sessions() as session:
        emails = session.scalars(
            select(Contact.email).where(
                Contact.location_id == tenant.location_id, Contact.email.is_not(None)
            )
        ).all()
        names = Counter(
            session.scalars(select(User.name).where(User.location_id == tenant.location_id))
        )
    assert len(emails) == len(set(emails))
    assert max(names.values()) == 1


def test_seeded_data_reads_through_the_api(crm_server: CrmServer) -> None:
    tenant: Tenant = new_tenant(crm_server)
    summary = _seed(crm_server, tenant.location_id, seed=5, contacts=8)
    with tenant.client() as api:
        tasks = sum(
            len(api.get(f"/contacts/{cid}/tasks").json()["tasks"]) for cid in summary.contact_ids
        )
        notes = sum(
            len(api.get(f"/contacts/{cid}/notes").json()["notes"]) for cid in summary.contact_ids
        )
        events = sum(
            len(api.get(f"/contacts/{cid}/appointments").json()["events"])
            for cid in summary.contact_ids
        )
        contact = api.get(f"/contacts/{summary.contact_ids[0]}")
    assert (tasks, notes, events) == (summary.tasks, summary.notes, summary.appointments)
    assert contact.status_code == 200


def test_refuses_unknown_location_and_negative_count(crm_server: CrmServer) -> None:
    tenant = new_tenant(crm_server)
    with crm_server.store.sessions() as session:
        with pytest.raises(ValueError, match="no location"):
            seed_demo(session, "Q" * 20, rng=random.Random(1))
        with pytest.raises(ValueError, match="0 or more"):
            seed_demo(session, tenant.location_id, contacts=-1, rng=random.Random(1))
