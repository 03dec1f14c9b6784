"""The Contacts catalog as data: every operation a flow step may call, and the CRM's event types.

A copy of `contacts-v2.openapi.json` (operationId, method, path, query parameters, body, scope) —
the engine does not import the embedded CRM, and a test checks this table against the reference
file so the two cannot drift. The event types are HighLevel's marketplace webhook names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """The OAuth scope an operation needs."""

    READ = "contacts.readonly"
    WRITE = "contacts.write"


class LocationIn(StrEnum):
    """Where an operation takes `locationId` (filled in from the connection when missing)."""

    QUERY = "query"
    BODY = "body"


@dataclass(frozen=True)
class Operation:
    """One operation of the Contacts API v2."""

    operation_id: str
    method: str
    path: str
    query: tuple[str, ...] = ()
    has_body: bool = False
    location_in: LocationIn | None = None
    scope: Scope = Scope.WRITE

    @property
    def path_params(self) -> tuple[str, ...]:
        """Return the names of the path's `{parameters}`, in order."""
        return tuple(re.findall(r"\{(\w+)\}", self.path))


_R, _W = Scope.READ, Scope.WRITE
_Q, _B = LocationIn.QUERY, LocationIn.BODY
_C = "/contacts/{contactId}"

OPERATIONS: dict[str, Operation] = {
    op.operation_id: op
    for op in (
        Operation("get-contact", "GET", _C, scope=_R),
        Operation("update-contact", "PUT", _C, has_body=True),
        Operation("delete-contact", "DELETE", _C),
        Operation("create-contact", "POST", "/contacts/", has_body=True, location_in=_B),
        Operation(
            "get-contacts",
            "GET",
            "/contacts/",
            ("locationId", "startAfterId", "startAfter", "query", "limit"),
            location_in=_Q,
            scope=_R,
        ),
        Operation("upsert-contact", "POST", "/contacts/upsert", has_body=True, location_in=_B),
        Operation(
            "search-contacts-advanced",
            "POST",
            "/contacts/search",
            has_body=True,
            location_in=_B,
            scope=_R,
        ),
        Operation(
            "get-duplicate-contact",
            "GET",
            "/contacts/search/duplicate",
            ("locationId", "number", "email"),
            location_in=_Q,
            scope=_R,
        ),
        Operation(
            "get-contacts-by-businessId",
            "GET",
            "/contacts/business/{businessId}",
            ("limit", "locationId", "skip", "query"),
            location_in=_Q,
            scope=_R,
        ),
        Operation("get-all-tasks", "GET", f"{_C}/tasks", scope=_R),
        Operation("create-task", "POST", f"{_C}/tasks", has_body=True),
        Operation("get-task", "GET", f"{_C}/tasks/{{taskId}}", scope=_R),
        Operation("update-task", "PUT", f"{_C}/tasks/{{taskId}}", has_body=True),
        Operation("delete-task", "DELETE", f"{_C}/tasks/{{taskId}}"),
        Operation(
            "update-task-completed", "PUT", f"{_C}/tasks/{{taskId}}/completed", has_body=True
        ),
        Operation("get-all-notes", "GET", f"{_C}/notes", scope=_R),
        Operation("create-note", "POST", f"{_C}/notes", has_body=True),
        Operation("get-note", "GET", f"{_C}/notes/{{id}}", scope=_R),
        Operation("update-note", "PUT", f"{_C}/notes/{{id}}", has_body=True),
        Operation("delete-note", "DELETE", f"{_C}/notes/{{id}}"),
        Operation("add-tags", "POST", f"{_C}/tags", has_body=True),
        Operation("remove-tags", "DELETE", f"{_C}/tags", has_body=True),
        Operation("get-appointments-for-contact", "GET", f"{_C}/appointments", scope=_R),
        Operation(
            "create-association",
            "POST",
            "/contacts/bulk/tags/update/{type}",
            has_body=True,
            location_in=_B,
        ),
        Operation(
            "add-remove-contact-from-business",
            "POST",
            "/contacts/bulk/business",
            has_body=True,
            location_in=_B,
        ),
        Operation("add-followers-contact", "POST", f"{_C}/followers", has_body=True),
        Operation("remove-followers-contact", "DELETE", f"{_C}/followers", has_body=True),
        Operation(
            "add-contact-to-campaign", "POST", f"{_C}/campaigns/{{campaignId}}", has_body=True
        ),
        Operation("remove-contact-from-campaign", "DELETE", f"{_C}/campaigns/{{campaignId}}"),
        Operation("remove-contact-from-every-campaign", "DELETE", f"{_C}/campaigns/removeAll"),
        Operation(
            "add-contact-to-workflow", "POST", f"{_C}/workflow/{{workflowId}}", has_body=True
        ),
        Operation(
            "delete-contact-from-workflow", "DELETE", f"{_C}/workflow/{{workflowId}}", has_body=True
        ),
    )
}


class CrmEvent(StrEnum):
    """Event types of the CRM's event webhooks (HighLevel's marketplace webhook names)."""

    CONTACT_CREATE = "ContactCreate"
    CONTACT_UPDATE = "ContactUpdate"
    CONTACT_DELETE = "ContactDelete"
    CONTACT_TAG_UPDATE = "ContactTagUpdate"
    CONTACT_DND_UPDATE = "ContactDndUpdate"
    TASK_CREATE = "TaskCreate"
    TASK_COMPLETE = "TaskComplete"
    TASK_DELETE = "TaskDelete"
    NOTE_CREATE = "NoteCreate"
    NOTE_UPDATE = "NoteUpdate"
    NOTE_DELETE = "NoteDelete"
