"""Leads for the end-to-end suite: unique people, submitted to the sandbox as a steady stream.

Every lead has an e-mail and a phone no other lead (and no seeded demo contact) has, so "one
contact per lead" is a fact the CRM can be checked against. Leads go in through the sandbox's
submit endpoint over HTTP, as a person filling in the form would, and so take the real path:
sandbox → encrypted webhook → receiver → durable runs → workers → CRM.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import phonenumbers

from tests.e2e.stack import Stack

US = "US"


@dataclass(frozen=True)
class Person:
    """What one lead answers, and how the CRM should hold it."""

    first_name: str
    email: str
    phone: str  # as typed into the form

    @property
    def e164(self) -> str | None:
        """The phone as the flows write it, or None when it is not a valid number."""
        try:
            parsed = phonenumbers.parse(self.phone, US)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(parsed):
            return None
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    def answers(self) -> dict[str, str]:
        """Return the demo contact form's answers, keyed by question type."""
        return {
            "FIRST_NAME": self.first_name,
            "LAST_NAME": "Tester",
            "EMAIL": self.email,
            "PHONE_NUMBER": self.phone,
            "ZIP_CODE": "10001",
            "CITY": "New York",
            "STATE_PROVINCE": "NY",
            "COUNTRY": "US",
            "GENDER": "female",
            "AGE": "34",
        }


@dataclass(frozen=True)
class Sent:
    """A lead the sandbox took: its id, who it was, and the subscriptions it was queued for."""

    lead_id: str
    person: Person
    subscriptions: tuple[str, ...]


class People:
    """Makes people with e-mails and phones unique within a stack."""

    def __init__(self, tag: str) -> None:
        self._tag = tag
        rng = random.Random(tag)
        # One NYC exchange per stack: valid numbers, unlike the seeded contacts' random ones.
        self._exchange = rng.randrange(230, 990)
        self._count = 0
        self._lock = threading.Lock()

    def next(self, label: str) -> Person:
        """Return a new person; `label` names the scenario in the e-mail."""
        with self._lock:
            self._count += 1
            n = self._count
        person = Person(
            first_name=f"Ada{n}",
            email=f"e2e.{self._tag}.{label}.{n}@example.com",
            phone=f"(212) {self._exchange:03d}-{n:04d}",
        )
        assert person.e164 is not None, person.phone
        return person


def submit(http: httpx.Client, stack: Stack, answers: Mapping[str, str]) -> tuple[str, list[str]]:
    """Submit one lead to the demo form; return its id and the subscriptions it goes to."""
    account = stack.demo.world.ad_account_id
    url = f"{stack.demo.sandbox_url}/sandbox/ad_accounts/{account}/lead_forms/{stack.form_id}/leads"
    response = http.post(url, json={"answers": dict(answers)})
    assert response.status_code == 200, response.text
    body = response.json()
    return str(body["lead_id"]), [str(s) for s in body["subscription_ids"]]


def sandbox_client(stack: Stack) -> httpx.Client:
    """Return an HTTP client acting as the demo ad account's owner."""
    token = stack.demo.world.token.access_token
    return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30.0)


class Stream(threading.Thread):
    """Submits people at a steady rate in the background; `sent` grows as it goes.

    With `pause_at`, it stops after that many leads (setting `paused`) until `resume` is set,
    so a test can break something at a known point in the middle of the stream.
    """

    def __init__(
        self, stack: Stack, people: list[Person], rate_per_s: float, pause_at: int | None = None
    ) -> None:
        super().__init__(name="e2e-stream", daemon=True)
        self.stack = stack
        self.people = people
        self.rate_per_s = rate_per_s
        self.pause_at = pause_at
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.sent: list[Sent] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        """Submit every person, paced from the start (a slow answer does not lower the rate)."""
        started = time.monotonic()
        try:
            with sandbox_client(self.stack) as http:
                for index, person in enumerate(self.people):
                    if index == self.pause_at:
                        self.paused.set()
                        self.resume.wait()
                        started = time.monotonic() - index / self.rate_per_s
                    time.sleep(max(0.0, started + index / self.rate_per_s - time.monotonic()))
                    lead_id, subscriptions = submit(http, self.stack, person.answers())
                    self.sent.append(Sent(lead_id, person, tuple(subscriptions)))
        except BaseException as exc:
            self.error = exc

    def wait_paused(self, timeout_s: float = 60.0) -> list[Sent]:
        """Wait until the stream pauses; return what it sent so far."""
        deadline = time.monotonic() + timeout_s
        while not self.paused.wait(0.1):
            if self.error is not None:
                raise self.error
            assert time.monotonic() < deadline, "the stream did not pause"
        return list(self.sent)

    def finish(self, timeout_s: float = 60.0) -> list[Sent]:
        """Wait until every person is submitted (resuming a paused stream); return them."""
        self.resume.set()
        self.join(timeout_s)
        assert not self.is_alive(), "the stream did not finish"
        if self.error is not None:
            raise self.error
        assert len(self.sent) == len(self.people)
        return list(self.sent)


def stream(
    stack: Stack, people: list[Person], rate_per_s: float, *, pause_at: int | None = None
) -> Stream:
    """Start submitting `people` at `rate_per_s`; return the running stream."""
    running = Stream(stack, people, rate_per_s, pause_at)
    running.start()
    return running
