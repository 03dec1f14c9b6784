"""Tasks of a contact: list, get, create, update, complete, delete — and `ensure`, which creates
a task once however often a step is retried (see `markers`)."""

from __future__ import annotations

import logging

from leadwire.connectors.contacts.markers import Ensured, has_marker, idempotency_key, with_marker
from leadwire.connectors.contacts.session import ContactsSession, idempotency_header, path_id
from leadwire.connectors.contacts.wire.contacts import Succeeded
from leadwire.connectors.contacts.wire.tasks import (
    NewTask,
    Task,
    TaskCompletion,
    TaskEnvelope,
    TaskList,
    TaskUpdate,
)

logger = logging.getLogger(__name__)


class TasksApi:
    """The tasks of contacts (`/contacts/{contactId}/tasks`)."""

    def __init__(self, session: ContactsSession) -> None:
        self._session = session

    @staticmethod
    def _path(contact_id: str, op: str, task_id: str | None = None) -> str:
        path = f"contacts/{path_id('contactId', contact_id, op)}/tasks"
        return path if task_id is None else f"{path}/{path_id('taskId', task_id, op)}"

    def list(self, contact_id: str) -> list[Task]:
        """Return every task of the contact (the API does not paginate them)."""
        op = "get-all-tasks"
        return self._session.fetch("GET", self._path(contact_id, op), TaskList, op).tasks

    def get(self, contact_id: str, task_id: str) -> Task:
        """Return one task."""
        op = "get-task"
        return self._session.fetch(
            "GET", self._path(contact_id, op, task_id), TaskEnvelope, op
        ).task

    def create(self, contact_id: str, task: NewTask, *, idempotency_key: str | None = None) -> Task:
        """Create a task; the same `idempotency_key` creates it once (on CRMs that honour it)."""
        op = "create-task"
        answer = self._session.fetch(
            "POST",
            self._path(contact_id, op),
            TaskEnvelope,
            op,
            body=task.wire(),
            headers=idempotency_header(idempotency_key),
        )
        return answer.task

    def update(self, contact_id: str, task_id: str, changes: TaskUpdate) -> Task:
        """Change the fields set in `changes`."""
        op = "update-task"
        path = self._path(contact_id, op, task_id)
        return self._session.fetch("PUT", path, TaskEnvelope, op, body=changes.wire()).task

    def set_completed(self, contact_id: str, task_id: str, completed: bool = True) -> Task:
        """Mark the task completed (or not) (`PUT …/tasks/{taskId}/completed`)."""
        op = "update-task-completed"
        path = f"{self._path(contact_id, op, task_id)}/completed"
        body = TaskCompletion(completed=completed).wire()
        return self._session.fetch("PUT", path, TaskEnvelope, op, body=body).task

    def delete(self, contact_id: str, task_id: str) -> bool:
        """Delete the task."""
        op = "delete-task"
        path = self._path(contact_id, op, task_id)
        return self._session.fetch("DELETE", path, Succeeded, op).succeded

    def ensure(self, contact_id: str, task: NewTask, marker: str) -> Ensured[Task]:
        """Return the contact's task carrying `marker`, creating it (marked) if there is none.

        Safe to retry after a crash or a lost answer: the look-up reads the contact's tasks
        directly (not the eventually consistent search index). Two calls racing each other
        could both create; the engine runs one step of a lead at a time.
        """
        marked = task.model_copy(update={"body": with_marker(task.body, marker)})
        for existing in self.list(contact_id):
            if has_marker(existing.body, marker):
                logger.info("contacts.ensure.found kind=task contact_id=%s", contact_id)
                return Ensured(existing, created=False)
        key = idempotency_key("task", contact_id, marker)
        created = self.create(contact_id, marked, idempotency_key=key)
        return Ensured(created, created=True)
