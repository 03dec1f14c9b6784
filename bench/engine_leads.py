"""Leads for the engine bench: unique people, as encrypted Pinterest deliveries ready to send.

Every lead has an id, e-mail and phone no other lead of the run has, so each lands as a new
contact. Deliveries are encrypted (`encode_delivery`, AES-256-GCM under the hook's key) and
framed as HTTP requests before any measurement starts: the load generator only writes bytes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from leadwire.connectors.pinterest.envelope import encode_delivery
from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)

AD_ACCOUNT = "549755885175"
FORM = "7001"


@dataclass(frozen=True)
class Person:
    """One lead's identity: what the flow maps into the contact."""

    first_name: str
    last_name: str
    email: str
    phone: str


class People:
    """Makes leads unique within a run (ids, e-mails and phones)."""

    def __init__(self, seed: int | None = None) -> None:
        rng = random.Random(seed)
        self._tag = rng.randrange(10**9, 10**10)
        self._count = 0

    def person(self, n: int) -> Person:
        """Return the n-th person of the run (valid, distinct New York numbers)."""
        return Person(
            first_name=f"Ada{n}",
            last_name="Bench",
            email=f"bench.{self._tag}.{n}@example.com",
            phone=f"(212) {230 + n // 10_000:03d}-{n % 10_000:04d}",
        )

    def leads(self, count: int) -> list[Lead]:
        """Return the next `count` leads."""
        start, self._count = self._count, self._count + count
        return [self.lead(n) for n in range(start, start + count)]

    def lead(self, n: int) -> Lead:
        """Return the n-th lead of the run."""
        who = self.person(n)
        return Lead(
            lead_id=LeadId(f"{self._tag}{n:09d}"),
            ad_account_id=AdAccountId(AD_ACCOUNT),
            lead_form_id=LeadFormId(FORM),
            created_time=datetime.now(UTC).replace(microsecond=0),
            answers=(
                Answer(QuestionType.FIRST_NAME, None, (who.first_name,)),
                Answer(QuestionType.LAST_NAME, None, (who.last_name,)),
                Answer(QuestionType.EMAIL, None, (who.email,)),
                Answer(QuestionType.PHONE_NUMBER, None, (who.phone,)),
                Answer(QuestionType.CUSTOM, "What is your budget?", ("$5,000 - $10,000",)),
            ),
        )


def delivery_request(host: str, port: int, path: str, lead: Lead, key: str) -> bytes:
    """Return the HTTP request delivering `lead` alone, as Pinterest would, encrypted."""
    body = encode_delivery([lead], key)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def delivery_requests(
    host: str, port: int, path: str, leads: Sequence[Lead], key: str
) -> list[bytes]:
    """Return one delivery request per lead."""
    return [delivery_request(host, port, path, lead, key) for lead in leads]
