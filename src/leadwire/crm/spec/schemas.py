"""Schemas we add to the reference, and what we change in its schemas to say what we send.

Pure data. `leadwire.crm.openapi` stamps every addition with `x-leadwire-extension: true` and
records what each change replaced under `x-leadwire-original`.
"""

from __future__ import annotations

from typing import Any

from leadwire.crm.errors import REASONS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """Return a reference to the component schema `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


_TRACE_ID: Schema = {
    "type": "string",
    "description": "Identifies the request in the CRM's log; also sent as `X-Trace-Id`.",
    "example": "6f1c2a36-5d2b-4f7e-9a55-0c8f3b1e2d4a",
}


def _error(status: int, example: str) -> Schema:
    return {
        "type": "object",
        "description": f"The body of a {status} answer, in HighLevel's (NestJS) shape.",
        "required": ["statusCode", "message", "error", "traceId"],
        "properties": {
            "statusCode": {"type": "number", "example": status},
            "message": {"type": "string", "example": example},
            "error": {"type": "string", "example": REASONS[status]},
            "traceId": _TRACE_ID,
        },
    }


# Component schemas that are ours entirely.
ADDED_SCHEMAS: dict[str, Schema] = {
    "LeadwireForbiddenDTO": _error(403, "The token does not have access to this location."),
    "LeadwireNotFoundDTO": _error(404, "Contact with id seD4PfOuKoVMLkEZqohJ not found"),
    "LeadwirePayloadTooLargeDTO": _error(
        413, "Request body is larger than the limit of 1048576 bytes"
    ),
    "LeadwireUnsupportedMediaTypeDTO": _error(
        415, "Content-Type must be application/json, not text/plain"
    ),
    "LeadwireTooManyRequestsDTO": _error(
        429, "Too Many Requests: rate limit exceeded; retry after 7 s"
    ),
    "LeadwireDuplicateMetaDTO": {
        "type": "object",
        "description": "Which contact a refused duplicate matched (POST /contacts/).",
        "properties": {
            "contactId": {"type": "string", "example": "seD4PfOuKoVMLkEZqohJ"},
            "contactName": {"type": "string", "example": "rubika deo"},
            "matchingField": {"type": "string", "enum": ["email", "phone"]},
        },
    },
    "LeadwireSearchFilter": {
        "type": "object",
        "description": (
            "One condition (`field`, `operator`, `value`) or a group of them "
            "(`group` AND|OR with nested `filters`)."
        ),
        "properties": {
            "field": {"type": "string", "example": "email"},
            "operator": {
                "type": "string",
                "enum": [
                    "eq",
                    "not_eq",
                    "contains",
                    "not_contains",
                    "exists",
                    "not_exists",
                    "range",
                ],
            },
            "value": {"description": "A string, number, boolean, list or `{gt,gte,lt,lte}`."},
            "group": {"type": "string", "enum": ["AND", "OR"]},
            "filters": {"type": "array", "items": ref("LeadwireSearchFilter")},
        },
    },
    "LeadwireSearchSort": {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {
                "type": "string",
                "enum": [
                    "firstNameLowerCase",
                    "lastNameLowerCase",
                    "businessName",
                    "dateAdded",
                    "dateUpdated",
                    "email",
                    "dnd",
                    "source",
                ],
            },
            "direction": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
        },
    },
    "LeadwireSearchContactSchema": {
        "description": "A contact as search shows it, with the cursor that continues after it.",
        "allOf": [
            ref("GetContectByIdSchema"),
            {
                "type": "object",
                "properties": {
                    "address": {"type": "string", "nullable": True},
                    "businessName": {"type": "string", "nullable": True},
                    "validEmail": {"type": "boolean"},
                    "additionalEmails": {"type": "array", "items": {"type": "string"}},
                    "additionalPhones": {"type": "array", "items": {"type": "string"}},
                    "opportunities": {"type": "array", "items": {"type": "object"}},
                    "searchAfter": {
                        "type": "array",
                        "items": {},
                        "description": "Pass as `searchAfter` to get the contacts after this one.",
                    },
                },
            },
        ],
    },
    "LeadwireSearchContactsResponseDto": {
        "type": "object",
        "required": ["contacts", "total"],
        "properties": {
            "contacts": {"type": "array", "items": ref("LeadwireSearchContactSchema")},
            "total": {"type": "number", "example": 1},
        },
    },
    "LeadwireDuplicateContactResponseDto": {
        "type": "object",
        "description": "The contact an email or phone would duplicate; `contact` is null if none.",
        "required": ["contact"],
        "properties": {
            "contact": {"nullable": True, "allOf": [ref("GetContectByIdSchema")]},
        },
    },
}

# What the reference's empty POST /contacts/search body schema is filled with (ClickUp doc,
# contacts-api.md §5.2).
SEARCH_BODY: Schema = {
    "required": ["locationId", "pageLimit"],
    "additionalProperties": False,
    "properties": {
        "locationId": {"type": "string", "example": "ve9EPM428h8vShlRW1KT"},
        "query": {
            "type": "string",
            "maxLength": 75,
            "description": "Free text over names, email, phone and company.",
        },
        "page": {"type": "integer", "minimum": 1, "example": 1},
        "pageLimit": {"type": "integer", "minimum": 1, "maximum": 500, "example": 20},
        "searchAfter": {
            "type": "array",
            "maxItems": 10,
            "items": {},
            "description": "The `searchAfter` of the last contact of the previous page; "
            "not with `page`. Pages reach the first 10,000 results, searchAfter all of them.",
        },
        "filters": {"type": "array", "maxItems": 100, "items": ref("LeadwireSearchFilter")},
        "sort": {"type": "array", "maxItems": 3, "items": ref("LeadwireSearchSort")},
    },
}

# Properties we send that the reference's schemas lack (the reference lists no `required`,
# and real responses carry more than it documents: contacts-api.md §4.2).
ADDED_PROPERTIES: dict[str, dict[str, Schema]] = {
    "BadRequestDTO": {
        "meta": ref("LeadwireDuplicateMetaDTO"),
        "traceId": _TRACE_ID,
    },
    "UnauthorizedDTO": {"traceId": _TRACE_ID},
    "UnprocessableDTO": {"traceId": _TRACE_ID},
    "GetContectByIdSchema": {
        "inboundDndSettings": ref("InboundDndSettingsSchema"),
        "followers": {"type": "array", "items": {"type": "string"}},
    },
    "CreateContactSchema": {
        "name": {"type": "string", "example": "rubika deo"},
        "timezone": {"type": "string", "example": "Asia/Calcutta"},
        "inboundDndSettings": ref("InboundDndSettingsSchema"),
        "followers": {"type": "array", "items": {"type": "string"}},
        "attributionSource": ref("AttributionSource"),
        "lastAttributionSource": ref("AttributionSource"),
    },
    "ContactsSearchSuccessfulResponseDto": {"meta": ref("ContactsMetaSchema")},
}

# Properties we send as `null` when the contact, task or note has no value for them. The
# reference types them without `nullable`; live HighLevel responses carry nulls as well
# (contacts-api.md §3b).
NULLABLE: dict[str, tuple[str, ...]] = {
    "GetContectByIdSchema": (
        "name",
        "firstName",
        "lastName",
        "email",
        "emailLowerCase",
        "timezone",
        "companyName",
        "phone",
        "source",
        "assignedTo",
        "address1",
        "city",
        "state",
        "country",
        "postalCode",
        "website",
        "dateOfBirth",
        "firstNameLowerCase",
        "lastNameLowerCase",
        "fullNameLowerCase",
        "businessId",
        "attributionSource",
        "lastAttributionSource",
    ),
    "CreateContactSchema": (
        "name",
        "firstName",
        "lastName",
        "email",
        "emailLowerCase",
        "timezone",
        "companyName",
        "phone",
        "source",
        "assignedTo",
        "address1",
        "city",
        "state",
        "country",
        "postalCode",
        "website",
        "dateOfBirth",
        "firstNameLowerCase",
        "lastNameLowerCase",
        "fullNameLowerCase",
        "businessId",
        "attributionSource",
        "lastAttributionSource",
    ),
    "ContactsSearchSchema": ("email", "timezone", "country", "source", "businessId"),
    "ContactsMetaSchema": ("nextPageUrl", "startAfterId", "startAfter", "nextPage"),
    "TaskSchema": ("body", "assignedTo"),
    "GetNoteSchema": ("userId", "title", "color"),
}

# The reference types a custom field's value as a string; values are strings, numbers, lists
# or objects depending on the field's type (contacts-api.md §4.1), and we send them as stored.
ANY_VALUE: dict[str, tuple[str, ...]] = {"CustomFieldSchema": ("value",)}
