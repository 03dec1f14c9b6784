"""Loading a contact's tasks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError, not_found
from leadwire.crm.ids import is_valid_id
from leadwire.crm.models import Contact, Task


def load_task(session: Session, contact: Contact, task_id: str) -> Task:
    """Return the contact's task `task_id`; 400 for a malformed id, 404 if not the contact's."""
    if not is_valid_id(task_id):
        raise CrmError(400, f"taskId {task_id!r} is not a valid id (20 letters and digits)")
    task = session.get(Task, task_id)
    if task is None or task.contact_id != contact.id:
        raise not_found("Task", task_id)
    return task


def tasks_of(session: Session, contact: Contact) -> list[Task]:
    """Return the contact's tasks, soonest due first."""
    return list(
        session.scalars(
            select(Task)
            .where(Task.contact_id == contact.id)
            .order_by(Task.due_date, Task.date_added, Task.id)
        )
    )
