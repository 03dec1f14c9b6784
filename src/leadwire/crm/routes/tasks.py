"""Contacts API routes: a contact's tasks (list, get, create, update, complete, delete).

Events: TaskCreate on create, TaskComplete when `completed` turns true (by either PUT), and
TaskDelete; a task created already completed sends TaskCreate only.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from leadwire.crm import idempotency
from leadwire.crm.deps import ReadDb, Reader, WriteDb, Writer
from leadwire.crm.events import EventType, emit
from leadwire.crm.idempotency import IdempotencyKey
from leadwire.crm.ids import new_id
from leadwire.crm.models import Task, utcnow
from leadwire.crm.records.contacts import load_contact
from leadwire.crm.records.tasks import load_task, tasks_of
from leadwire.crm.records.users import check_user
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.tasks import (
    CreateTaskDto,
    TaskCompletedDto,
    UpdateTaskDto,
    task_event,
    task_wire,
)

router = CrmRouter(prefix="/contacts", tags=["Tasks"])


@router.get("/{contactId}/tasks", operation_id="get-all-tasks")
async def get_all_tasks(contactId: str, caller: Reader, db: ReadDb) -> dict[str, Any]:  # noqa: N803
    """Return every task of the contact, soonest due first (the API does not paginate them)."""
    contact = load_contact(db, caller, contactId)
    return {"tasks": [task_wire(task) for task in tasks_of(db, contact)]}


@router.get("/{contactId}/tasks/{taskId}", operation_id="get-task")
async def get_task(contactId: str, taskId: str, caller: Reader, db: ReadDb) -> dict[str, Any]:  # noqa: N803
    """Return one task of the contact."""
    contact = load_contact(db, caller, contactId)
    return {"task": task_wire(load_task(db, contact, taskId))}


@router.post("/{contactId}/tasks", operation_id="create-task", status_code=201)
def create_task(
    contactId: str,  # noqa: N803
    body: CreateTaskDto,
    caller: Writer,
    db: WriteDb,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a task on the contact; the same Idempotency-Key creates it once."""
    contact = load_contact(db, caller, contactId)

    def create() -> tuple[int, dict[str, Any]]:
        check_user(db, contact.location_id, "assignedTo", body.assignedTo)
        now = utcnow()
        task = Task(
            id=new_id(),
            contact_id=contact.id,
            location_id=contact.location_id,
            title=body.title,
            body=body.body,
            assigned_to=body.assignedTo,
            due_date=body.dueDate,
            completed=body.completed,
            date_added=now,
            date_updated=now,
        )
        db.add(task)
        db.flush()
        emit(db, contact.location_id, EventType.TASK_CREATE, task_event(task))
        return 201, {"task": task_wire(task)}

    digest = idempotency.fingerprint("POST", f"/contacts/{contact.id}/tasks", body)
    return idempotency.run_once(db, caller, key, digest, create)


@router.put("/{contactId}/tasks/{taskId}", operation_id="update-task")
def update_task(
    contactId: str,  # noqa: N803
    taskId: str,  # noqa: N803
    body: UpdateTaskDto,
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Change the fields sent; leave the rest as they are."""
    contact = load_contact(db, caller, contactId)
    task = load_task(db, contact, taskId)
    sent = body.model_fields_set
    if "assignedTo" in sent:
        check_user(db, contact.location_id, "assignedTo", body.assignedTo)
        task.assigned_to = body.assignedTo
    if "title" in sent and body.title is not None:
        task.title = body.title
    if "body" in sent:
        task.body = body.body
    if "dueDate" in sent and body.dueDate is not None:
        task.due_date = body.dueDate
    if body.completed is not None:
        _set_completed(db, task, body.completed)
    task.date_updated = utcnow()
    db.commit()
    return {"task": task_wire(task)}


@router.put("/{contactId}/tasks/{taskId}/completed", operation_id="update-task-completed")
def update_task_completed(
    contactId: str,  # noqa: N803
    taskId: str,  # noqa: N803
    body: TaskCompletedDto,
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Mark the task completed or not completed."""
    contact = load_contact(db, caller, contactId)
    task = load_task(db, contact, taskId)
    _set_completed(db, task, body.completed)
    task.date_updated = utcnow()
    db.commit()
    return {"task": task_wire(task)}


@router.delete("/{contactId}/tasks/{taskId}", operation_id="delete-task")
def delete_task(
    contactId: str,  # noqa: N803
    taskId: str,  # noqa: N803
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Delete the task."""
    contact = load_contact(db, caller, contactId)
    task = load_task(db, contact, taskId)
    emit(db, contact.location_id, EventType.TASK_DELETE, task_event(task))
    db.delete(task)
    db.commit()
    return {"succeded": True}


def _set_completed(session: Session, task: Task, completed: bool) -> None:
    was = task.completed
    task.completed = completed
    if completed and not was:
        session.flush()
        emit(session, task.location_id, EventType.TASK_COMPLETE, task_event(task))
