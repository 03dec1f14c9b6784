"""`ContactsClient`: one connection to a location of the Contacts API (HighLevel or the embedded
CRM), every operation of `contacts-v2.openapi.json`.

Composition: the client *has* a session (the one httpx client, the rate budget, error
classification, logs), an auth (a static token, or OAuth tokens that refresh and rotate) and the
operation groups::

    client = ContactsClient.with_oauth(tokens, app, on_tokens=save_both_tokens,
                                       on_budget=limiter.observe)
    result = client.contacts.upsert(NewContact(email="ana@example.com", first_name="Ana"))
    client.tags.add(result.contact.id, ["pinterest"])
    client.tasks.ensure(result.contact.id, NewTask(title="Call", due_date=due), "lead-1:task")

Groups, with the reference's operationIds:

- `contacts`: get-contact, create-contact, update-contact, delete-contact, upsert-contact,
  get-duplicate-contact, get-appointments-for-contact, add-remove-contact-from-business;
- `lists`: get-contacts, search-contacts-advanced, get-contacts-by-businessId (and iterators);
- `tasks`: get-all-tasks, get-task, create-task, update-task, update-task-completed,
  delete-task (and `ensure`);
- `notes`: get-all-notes, get-note, create-note, update-note, delete-note (and `ensure`);
- `tags`: add-tags, remove-tags, create-association (the bulk tag update);
- `followers`: add-followers-contact, remove-followers-contact;
- `campaigns`: add-contact-to-campaign, remove-contact-from-campaign,
  remove-contact-from-every-campaign;
- `workflows`: add-contact-to-workflow, delete-contact-from-workflow.

Sync by design: the engine calls it from DBOS steps, which are sync functions.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from leadwire.connectors.contacts.auth import (
    DEFAULT_REFRESH_SKEW_S,
    HighLevelOAuth,
    StaticTokenAuth,
    TokensCallback,
    TokensHold,
)
from leadwire.connectors.contacts.listing import ContactListsApi
from leadwire.connectors.contacts.markers import Ensured
from leadwire.connectors.contacts.memberships import CampaignsApi, FollowersApi, WorkflowsApi
from leadwire.connectors.contacts.notes import NotesApi
from leadwire.connectors.contacts.oauth import (
    Clock,
    ContactsEndpoints,
    OAuthApp,
    TokenSet,
    utc_now,
)
from leadwire.connectors.contacts.ratelimits import RateBudget
from leadwire.connectors.contacts.records import ContactRecordsApi
from leadwire.connectors.contacts.session import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    BudgetCallback,
    ContactsSession,
)
from leadwire.connectors.contacts.tags import TagsApi
from leadwire.connectors.contacts.tasks import TasksApi
from leadwire.connectors.contacts.wire.notes import NewNote, Note
from leadwire.connectors.contacts.wire.tasks import NewTask, Task


class ContactsClient:
    """Typed client of one location's Contacts API; close it (or use `with`) when done."""

    def __init__(
        self,
        auth: httpx.Auth,
        location_id: str,
        *,
        endpoints: ContactsEndpoints | None = None,
        on_budget: BudgetCallback | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if not location_id:
            raise ValueError("a Contacts connection needs its location id")
        self.auth = auth
        self.location_id = location_id
        self.endpoints = endpoints or ContactsEndpoints()
        self.session = ContactsSession(
            auth,
            base_url=self.endpoints.api_base_url,
            timeout=timeout,
            limits=limits,
            transport=transport,
            clock=clock,
            on_budget=on_budget,
        )
        self.contacts = ContactRecordsApi(self.session, location_id)
        self.lists = ContactListsApi(self.session, location_id)
        self.tasks = TasksApi(self.session)
        self.notes = NotesApi(self.session)
        self.tags = TagsApi(self.session, location_id)
        self.followers = FollowersApi(self.session)
        self.campaigns = CampaignsApi(self.session)
        self.workflows = WorkflowsApi(self.session)

    @classmethod
    def with_token(
        cls,
        token: str,
        location_id: str,
        *,
        endpoints: ContactsEndpoints | None = None,
        on_budget: BudgetCallback | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> ContactsClient:
        """Return a client acting with an API key or private integration token."""
        return cls(
            StaticTokenAuth(token),
            location_id,
            endpoints=endpoints,
            on_budget=on_budget,
            transport=transport,
            clock=clock,
            timeout=timeout,
        )

    @classmethod
    def with_oauth(
        cls,
        tokens: TokenSet,
        app: OAuthApp,
        *,
        on_tokens: TokensCallback,
        location_id: str | None = None,
        hold_tokens: TokensHold | None = None,
        endpoints: ContactsEndpoints | None = None,
        on_budget: BudgetCallback | None = None,
        refresh_skew_s: float = DEFAULT_REFRESH_SKEW_S,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> ContactsClient:
        """Return a client acting with OAuth `tokens` (their location unless `location_id`)."""
        endpoints = endpoints or ContactsEndpoints()
        location = location_id or tokens.location_id
        if not location:
            raise ValueError("the tokens name no location: pass location_id")
        auth = HighLevelOAuth(
            tokens,
            app,
            on_tokens=on_tokens,
            endpoints=endpoints,
            hold_tokens=hold_tokens,
            refresh_skew_s=refresh_skew_s,
            clock=clock,
        )
        return cls(
            auth,
            location,
            endpoints=endpoints,
            on_budget=on_budget,
            transport=transport,
            clock=clock,
            timeout=timeout,
        )

    @property
    def tokens(self) -> TokenSet | None:
        """Return the OAuth tokens in use now (after any rotation), if this client has some."""
        return self.auth.tokens if isinstance(self.auth, HighLevelOAuth) else None

    @property
    def last_budget(self) -> RateBudget | None:
        """Return the rate budget the latest response stated, if any did."""
        return self.session.last_budget

    def ensure_task(self, contact_id: str, task: NewTask, marker: str) -> Ensured[Task]:
        """Create the task once per `marker`, however often this is retried (`tasks.ensure`)."""
        return self.tasks.ensure(contact_id, task, marker)

    def ensure_note(self, contact_id: str, note: NewNote, marker: str) -> Ensured[Note]:
        """Create the note once per `marker`, however often this is retried (`notes.ensure`)."""
        return self.notes.ensure(contact_id, note, marker)

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()

    def __enter__(self) -> ContactsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
