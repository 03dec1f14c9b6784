"""Tasks of a contact: CreateTaskParams, UpdateTaskBody, UpdateTaskStatusParams and TaskSchema."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from leadwire.connectors.contacts.wire.base import WireIn, WireOut, WireTime


class NewTask(WireOut):
    """Body of `POST /contacts/{contactId}/tasks`; `completed` is required on the wire."""

    always_sent: ClassVar[frozenset[str]] = frozenset({"completed"})

    title: str = Field(min_length=1)
    due_date: WireTime
    body: str | None = None
    completed: bool = False
    assigned_to: str | None = None


class TaskUpdate(WireOut):
    """Body of `PUT /contacts/{contactId}/tasks/{taskId}`: only the fields set are changed."""

    title: str | None = Field(default=None, min_length=1)
    body: str | None = None
    due_date: WireTime | None = None
    completed: bool | None = None
    assigned_to: str | None = None


class TaskCompletion(WireOut):
    """Body of `PUT /contacts/{contactId}/tasks/{taskId}/completed`."""

    completed: bool


class Task(WireIn):
    """A task as the API shows it (TaskSchema)."""

    id: str
    title: str | None = None
    body: str | None = None
    assigned_to: str | None = None
    due_date: datetime | None = None
    completed: bool = False
    contact_id: str | None = None


class TaskEnvelope(WireIn):
    """`{"task": Task}`."""

    task: Task


class TaskList(WireIn):
    """`{"tasks": [Task]}` (not paginated)."""

    tasks: list[Task] = Field(default_factory=list)
