"""Tags of a contact (add, remove) and of many contacts at once (the bulk tag update).

Tags are sets: adding one twice or removing an absent one succeeds, so a retried step is
harmless. Never set tags through `update` unless replacing all of them is meant.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadwire.connectors.contacts.session import ContactsSession, path_id
from leadwire.connectors.contacts.wire.memberships import (
    BulkTagAction,
    BulkTagsBody,
    BulkTagsResult,
    TagList,
    TagsBody,
)


class TagsApi:
    """Add and remove tags."""

    def __init__(self, session: ContactsSession, location_id: str) -> None:
        self._session = session
        self._location_id = location_id

    def add(self, contact_id: str, tags: Sequence[str]) -> list[str]:
        """Add tags to the contact; return its tags as the API answers them."""
        op = "add-tags"
        path = f"contacts/{path_id('contactId', contact_id, op)}/tags"
        body = TagsBody(tags=list(tags)).wire()
        return self._session.fetch("POST", path, TagList, op, body=body).tags

    def remove(self, contact_id: str, tags: Sequence[str]) -> list[str]:
        """Remove tags from the contact (a JSON body on a DELETE, as the API wants)."""
        op = "remove-tags"
        path = f"contacts/{path_id('contactId', contact_id, op)}/tags"
        body = TagsBody(tags=list(tags)).wire()
        return self._session.fetch("DELETE", path, TagList, op, body=body).tags

    def update_many(
        self,
        action: BulkTagAction,
        contact_ids: Sequence[str],
        tags: Sequence[str],
        *,
        remove_all_tags: bool | None = None,
    ) -> BulkTagsResult:
        """Add or remove `tags` on many contacts; each contact's outcome is in `responses`."""
        op = "create-association"  # sic: the reference's operationId for the bulk tag update
        body = BulkTagsBody(
            contacts=list(contact_ids),
            tags=list(tags),
            location_id=self._location_id,
            **({} if remove_all_tags is None else {"remove_all_tags": remove_all_tags}),
        )
        path = f"contacts/bulk/tags/update/{BulkTagAction(action).value}"
        return self._session.fetch("POST", path, BulkTagsResult, op, body=body.wire())
