"""Task request DTOs (CreateTaskParams, UpdateTaskBody, UpdateTaskStatusParams) and TaskSchema."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from leadwire.crm.models import Task
from leadwire.crm.wire.common import StrictDto, iso_ms
from leadwire.crm.wire.dates import IsoDateTime

TITLE_MAX = 500
BODY_MAX = 50_000


class CreateTaskDto(StrictDto):
    """Body of `POST /contacts/{contactId}/tasks`."""

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, max_length=BODY_MAX)
    dueDate: IsoDateTime  # noqa: N815 - wire names
    completed: bool
    assignedTo: str | None = None  # noqa: N815


class UpdateTaskDto(StrictDto):
    """Body of `PUT /contacts/{contactId}/tasks/{taskId}`: every field optional."""

    title: str | None = Field(default=None, min_length=1, max_length=TITLE_MAX)
    body: str | None = Field(default=None, max_length=BODY_MAX)
    dueDate: IsoDateTime | None = None  # noqa: N815 - wire names
    completed: bool | None = None
    assignedTo: str | None = None  # noqa: N815

    @field_validator("title", "dueDate", "completed", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # These may be left out, but a task always has them: an explicit null cannot apply.
        if value is None:
            raise ValueError("should not be empty")
        return value


class TaskCompletedDto(StrictDto):
    """Body of `PUT /contacts/{contactId}/tasks/{taskId}/completed`."""

    completed: bool


def task_wire(task: Task) -> dict[str, Any]:
    """Return the task as the API shows it (TaskSchema)."""
    return {
        "id": task.id,
        "title": task.title,
        "body": task.body,
        "assignedTo": task.assigned_to,
        "dueDate": iso_ms(task.due_date),
        "completed": task.completed,
        "contactId": task.contact_id,
    }


def task_event(task: Task) -> dict[str, Any]:
    """Return the task as Task* webhook events carry it (TaskSchema plus `dateAdded`)."""
    return {**task_wire(task), "dateAdded": iso_ms(task.date_added)}
