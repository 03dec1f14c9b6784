"""Markers and `ensure_task`/`ensure_note` against a scripted HighLevel without Idempotency-Key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.connectors.contacts.markers import check_marker, has_marker, token, with_marker
from leadwire.connectors.contacts.wire.notes import NewNote
from leadwire.connectors.contacts.wire.tasks import NewTask
from tests.connectors.contacts.fakes import CONTACT, FakeHighLevel

CONTACT_ID = str(CONTACT["id"])
DUE = datetime(2025, 12, 12, 9, 0, tzinfo=UTC)
MARKERS = st.from_regex(r"[A-Za-z0-9._:-]{1,100}", fullmatch=True)


@given(st.text(max_size=200), MARKERS)
def test_with_marker_is_idempotent_and_recognised(body: str, marker: str) -> None:
    marked = with_marker(body, marker)
    assert has_marker(marked, marker)
    assert marked.endswith(token(marker))
    assert with_marker(marked, marker) == marked
    assert marked.startswith(body.rstrip())


def test_a_marker_does_not_match_a_longer_one() -> None:
    assert not has_marker(with_marker("Call", "lead-1:task-10"), "lead-1:task-1")
    assert with_marker(None, "m1") == "[leadwire:m1]"
    assert with_marker("Call her", "m1") == "Call her\n\n[leadwire:m1]"


@pytest.mark.parametrize("bad", ["", "a b", "x" * 101, "[x]", "ü"])
def test_bad_markers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="1-100 characters"):
        check_marker(bad)


class Items:
    """A contact's tasks or notes, kept like a CRM without idempotency keys would."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: list[dict[str, Any]] = []

    def listing(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={f"{self.kind}s": self.items})

    def create(self, request: httpx.Request) -> httpx.Response:
        item = {
            "id": f"{self.kind[0].upper()}{len(self.items):019d}",
            **json.loads(request.content),
        }
        self.items.append(item)
        return httpx.Response(201, json={self.kind: item})


@pytest.mark.parametrize("kind", ["task", "note"])
def test_ensure_creates_once_across_retries(highlevel: FakeHighLevel, kind: str) -> None:
    store = Items(kind)
    path = f"/contacts/{CONTACT_ID}/{kind}s"
    highlevel.on("GET", path, store.listing)
    highlevel.on("POST", path, store.create)
    marker = f"lead-9:v2:{kind}"
    task = NewTask(title="Call Rosa", body="She asked about pricing", due_date=DUE)
    note = NewNote(body="Answers: budget=high")
    with highlevel.keyed_client() as client:
        results = [
            client.ensure_task(CONTACT_ID, task, marker)
            if kind == "task"
            else client.ensure_note(CONTACT_ID, note, marker)
            for _ in range(3)
        ]
    assert [r.created for r in results] == [True, False, False]
    assert len({r.item.id for r in results}) == 1
    assert len(store.items) == 1
    assert store.items[0]["body"].endswith(f"\n\n[leadwire:{marker}]")
    posts = [r for r in highlevel.api_requests() if r.method == "POST"]
    assert posts[0].headers["Idempotency-Key"] == f"leadwire:{kind}:{CONTACT_ID}:{marker}"


def test_ensure_ignores_items_with_other_markers(highlevel: FakeHighLevel) -> None:
    store = Items("note")
    store.items.append({"id": "N" * 20, "body": "older\n\n[leadwire:lead-1:note]"})
    path = f"/contacts/{CONTACT_ID}/notes"
    highlevel.on("GET", path, store.listing)
    highlevel.on("POST", path, store.create)
    with highlevel.keyed_client() as client:
        result = client.ensure_note(CONTACT_ID, NewNote(body="new"), "lead-2:note")
    assert result.created
    assert len(store.items) == 2
