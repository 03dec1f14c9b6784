"""The steps of a flow. Text values marked "template" may hold `{{ expressions }}`.

Every step has an `id` (unique in the flow; it keys the step's idempotency keys and its place in
the run timeline) and `on_error`: when a value cannot be mapped, `skip_field` leaves that field out
and records the problem, `stop` stops the run with the problem as its reason.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, JsonValue, StringConstraints, field_validator, model_validator

from leadwire.engine.flows.timing import duration_s
from leadwire.engine.flows.triggers import Duration, Strict

StepId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$"),
    Field(description="Unique in the flow: lower-case letters, digits, `-` and `_`."),
]
TemplateText = Annotated[str, Field(max_length=20_000, description="A template.")]
ConditionText = Annotated[
    str, Field(min_length=1, max_length=2_000, description="A condition (an expression).")
]
StageName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9 _-]{0,39}$")]
CustomFieldKey = Annotated[
    str,
    StringConstraints(pattern=r"^(id:[A-Za-z0-9]{1,40}|[A-Za-z0-9_.]{1,100})$"),
    Field(description="A custom field's key (`contact.budget`), or `id:<field id>`."),
]


class OnError(StrEnum):
    """What a mapping problem does to the run."""

    SKIP_FIELD = "skip_field"
    STOP = "stop"


class ContactField(StrEnum):
    """The contact fields of the Contacts API's upsert a flow may map."""

    FIRST_NAME = "firstName"
    LAST_NAME = "lastName"
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS1 = "address1"
    CITY = "city"
    STATE = "state"
    POSTAL_CODE = "postalCode"
    COUNTRY = "country"
    WEBSITE = "website"
    TIMEZONE = "timezone"
    COMPANY_NAME = "companyName"
    SOURCE = "source"
    DATE_OF_BIRTH = "dateOfBirth"
    GENDER = "gender"
    ASSIGNED_TO = "assignedTo"
    DND = "dnd"


class StepBase(Strict):
    """What every step has."""

    id: StepId
    name: str | None = Field(default=None, max_length=200, description="Shown in the timeline.")
    on_error: OnError = OnError.SKIP_FIELD


class UpsertContact(StepBase):
    """Create the lead's contact, or update the one with its email or phone (`/contacts/upsert`)."""

    type: Literal["upsert_contact"]
    fields: dict[ContactField, TemplateText] = Field(min_length=1)
    custom_fields: dict[CustomFieldKey, TemplateText] = Field(default_factory=dict)
    initial_stage: StageName | None = Field(
        default=None, description="Lifecycle stage given to a contact this step creates."
    )


class AddTags(StepBase):
    """Add tags (fixed or computed; a template giving a list adds each) to the contact."""

    type: Literal["add_tags"]
    tags: list[TemplateText] = Field(min_length=1, max_length=100)


class Due(Strict):
    """When a task is due: in `hours`, or in `business_days` (at `at`, local time)."""

    hours: float | None = Field(default=None, gt=0, le=24 * 365)
    business_days: int | None = Field(default=None, ge=0, le=365)
    at: str | None = Field(
        default=None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Time of day, `HH:MM` in the flow's time zone (quote it in YAML).",
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.hours is None) == (self.business_days is None):
            raise ValueError("give exactly one of `hours` and `business_days`")
        if self.at is not None and self.business_days is None:
            raise ValueError("`at` goes with `business_days`")
        return self


class AddTask(StepBase):
    """Add a follow-up task to the contact."""

    type: Literal["add_task"]
    title: TemplateText
    body: TemplateText | None = None
    due: Due
    assignee: TemplateText | None = Field(default=None, description="A user id (template).")


class AddNote(StepBase):
    """Add a note to the contact."""

    type: Literal["add_note"]
    body: TemplateText
    title: TemplateText | None = None
    user_id: TemplateText | None = None


class Rule(Strict):
    """A route's rule: when `when` holds, its `steps` run (and no later rule is tried)."""

    name: str | None = Field(default=None, max_length=200)
    when: ConditionText
    steps: list[Step] = Field(default_factory=list, max_length=100)


class Route(StepBase):
    """Run the steps of the first rule that holds, else the `default` steps."""

    type: Literal["route"]
    rules: list[Rule] = Field(min_length=1, max_length=50)
    default: list[Step] = Field(default_factory=list, max_length=100)


class FilterStep(StepBase):
    """Stop the run as `filtered` (not failed) unless `continue_if` holds."""

    type: Literal["filter"]
    continue_if: ConditionText
    reason: TemplateText = "the lead did not meet the filter's condition"


class Enrich(StepBase):
    """Write answers and preferences into the contact's custom fields (`PUT /contacts/{id}`)."""

    type: Literal["enrich"]
    custom_fields: dict[CustomFieldKey, TemplateText] = Field(min_length=1)


class SetStage(StepBase):
    """Move the contact to a lifecycle stage (see the flow's `lifecycle`)."""

    type: Literal["set_stage"]
    stage: StageName


class Delay(StepBase):
    """Wait before the next step (durably: a restart does not shorten or repeat the wait)."""

    type: Literal["delay"]
    duration: Duration

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        duration_s(value)
        return value


class Webhook(StepBase):
    """Send the lead to an outside URL, signed with the flow's secret (docs/flows.md)."""

    type: Literal["webhook"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s{}]+$", max_length=2000)]
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    body: JsonValue = Field(
        default=None, description="JSON whose texts are templates; none: the standard payload."
    )


class ContactsOperation(StepBase):
    """Call any operation of the Contacts catalog by its operationId."""

    type: Literal["contacts_operation"]
    operation: str = Field(examples=["add-contact-to-workflow"])
    path: dict[str, TemplateText] = Field(
        default_factory=dict, description="Path parameters; `contactId` defaults to the contact."
    )
    query: dict[str, TemplateText] = Field(default_factory=dict)
    body: JsonValue = Field(default=None, description="JSON whose texts are templates.")


Step = Annotated[
    UpsertContact
    | AddTags
    | AddTask
    | AddNote
    | Route
    | FilterStep
    | Enrich
    | SetStage
    | Delay
    | Webhook
    | ContactsOperation,
    Field(discriminator="type"),
]
STEP_TYPES = (
    "upsert_contact",
    "add_tags",
    "add_task",
    "add_note",
    "route",
    "filter",
    "enrich",
    "set_stage",
    "delay",
    "webhook",
    "contacts_operation",
)
Rule.model_rebuild()
Route.model_rebuild()
