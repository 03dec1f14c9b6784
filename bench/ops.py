"""The operations measured, as request builders, and the seeding of contacts they act on.

Each operation draws its target contact from the seeded ones with a fixed random seed, so two
runs of the bench send the same sequence. Requests that create something are numbered from a
counter that survives across runs (warm-up, closed-loop, open-loop), so no run repeats an
earlier one by accident.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass

from bench.client import Endpoint
from bench.load import MakeRequest

SEED_TAGS = ["bench", "seed"]
# A lead's task, as a flow adds it; the due date is far enough out never to be "overdue".
TASK_DUE = "2031-01-15T09:00:00.000Z"


@dataclass(frozen=True)
class Operation:
    """One measured operation: a short name, the route it hits, and its request builder."""

    name: str
    route: str
    make: MakeRequest
    note: str


def seed_email(k: int) -> str:
    """Return the email of the k-th seeded contact."""
    return f"seed-{k}@bench.example.com"


def seed_phone(k: int) -> str:
    """Return the phone of the k-th seeded contact, unique up to 50,000 contacts."""
    return f"+1{415 + k // 10_000}555{k % 10_000:04d}"


def seed_requests(endpoint: Endpoint, location_id: str, count: int) -> list[bytes]:
    """Return `count` create-contact requests for distinct leads."""
    return [
        endpoint.request(
            "POST",
            "/contacts/",
            {
                "locationId": location_id,
                "firstName": f"Seed{k}",
                "lastName": "Lead",
                "email": seed_email(k),
                "phone": seed_phone(k),
                "source": "bench",
                "tags": SEED_TAGS,
            },
        )
        for k in range(count)
    ]


def contact_ids(answers: list[tuple[int, bytes]]) -> list[str]:
    """Return the ids of the contacts the seeding created; raise if any request failed."""
    ids: list[str] = []
    for status, body in answers:
        if status != 201:
            raise RuntimeError(f"seeding failed: {status} {body[:300]!r}")
        ids.append(json.loads(body)["contact"]["id"])
    return ids


def operations(
    endpoint: Endpoint, location_id: str, ids: list[str], run_tag: str
) -> list[Operation]:
    """Return the four measured operations against the seeded contacts `ids`."""
    seq = itertools.count()

    get_rng, upsert_rng, tag_rng, task_rng = (random.Random(s) for s in (1, 2, 3, 4))

    def get(_: int) -> bytes:
        return endpoint.request("GET", f"/contacts/{get_rng.choice(ids)}")

    def upsert(_: int) -> bytes:
        n = next(seq)
        if n % 2 == 0:
            # A new lead: no contact has this email or phone, so upsert creates.
            email, phone, first = f"lead-{run_tag}-{n}@bench.example.com", None, f"New{n}"
        else:
            # A lead seen before: upsert finds the seeded contact by email and updates it.
            k = upsert_rng.randrange(len(ids))
            email, phone, first = seed_email(k), seed_phone(k), f"Again{n}"
        body: dict[str, object] = {
            "locationId": location_id,
            "firstName": first,
            "lastName": "Lead",
            "email": email,
            "source": "pinterest",
        }
        if phone is not None:
            body["phone"] = phone
        return endpoint.request("POST", "/contacts/upsert", body)

    def tags(_: int) -> bytes:
        n = next(seq)
        # A small tag vocabulary: most requests add one new tag and repeat one already there.
        body = {"tags": ["pinterest-lead", f"form-{n % 8}"]}
        return endpoint.request("POST", f"/contacts/{tag_rng.choice(ids)}/tags", body)

    def tasks(_: int) -> bytes:
        n = next(seq)
        body = {
            "title": f"Call lead {n}",
            "body": "Asked for a quote on the Pinterest form.",
            "dueDate": TASK_DUE,
            "completed": False,
        }
        key = {"Idempotency-Key": f"bench-{run_tag}-task-{n}"}
        target = task_rng.choice(ids)
        return endpoint.request("POST", f"/contacts/{target}/tasks", body, headers=key)

    return [
        Operation("get", "GET /contacts/{id}", get, "a random seeded contact"),
        Operation("upsert", "POST /contacts/upsert", upsert, "half new leads, half updates"),
        Operation("tags", "POST /contacts/{id}/tags", tags, "two tags, one usually present"),
        Operation("tasks", "POST /contacts/{id}/tasks", tasks, "with an Idempotency-Key"),
    ]
