"""`leadwire demo`: send sandbox leads through a running `leadwire up` and report what landed.

Leads are submitted over HTTP to the sandbox (as people filling in the demo form), so they take
the real path: sandbox → encrypted webhook delivery → receiver → durable runs → embedded CRM.
The report reads the runs from the app store and checks each lead's contact, tags, tasks and
notes in the CRM through the Contacts API.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from leadwire.connectors.pinterest.ratelimits import parse_retry_after
from leadwire.crm.models import Contact, ContactTag, Note, Task
from leadwire.crm.store import CrmStore
from leadwire.engine.connections.model import PinterestConfig
from leadwire.engine.connections.records import load_credentials
from leadwire.engine.secrets import KeyRing
from leadwire.sandbox.admin import DEMO_ACCOUNT_NAME
from leadwire.sandbox.answers import Value
from leadwire.sandbox.generator import LeadGenerator
from leadwire.sandbox.models import Ad, AdAccount, LeadForm
from leadwire.sandbox.store import SandboxStore
from leadwire.stack.provision import PINTEREST_CONNECTION
from leadwire.store.app import AppStore
from leadwire.store.models.runs import RunRow, RunStatus

DONE = frozenset({RunStatus.SUCCEEDED.value, RunStatus.NEEDS_ATTENTION.value})


@dataclass
class Sent:
    """A lead the demo submitted, and when."""

    lead_id: str
    email: str
    sent_at: datetime


@dataclass
class Landed:
    """What the demo found in the CRM for its leads."""

    leads: int
    runs: int
    runs_succeeded: int
    contacts: int
    tags: int
    tasks: int
    notes: int
    new_contacts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    unfinished: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float | None:
        """Return a percentile of the lead-to-CRM latencies (ms), if any were measured."""
        if not self.latencies_ms:
            return None
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        cuts = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return cuts[round(fraction * 100) - 1]


def demo_form(sandbox: SandboxStore) -> tuple[str, str, list[dict[str, Any]]]:
    """Return the demo ad account, its first lead form used by an ad, and that form's questions."""
    with sandbox.read_sessions() as session:
        account = session.scalar(select(AdAccount).where(AdAccount.name == DEMO_ACCOUNT_NAME))
        if account is None:
            raise LookupError("no demo ad account: start `leadwire up` first")
        form = session.scalar(
            select(LeadForm)
            .join(Ad, Ad.lead_form_id == LeadForm.id)
            .where(LeadForm.ad_account_id == account.id)
            .order_by(Ad.id)
        )
        if form is None:
            raise LookupError("the demo ad account has no lead ad: start `leadwire up` again")
        return account.id, form.id, [dict(q) for q in form.questions]


def _unique_answers(
    generator: LeadGenerator, questions: Sequence[dict[str, Any]], seen: set[str]
) -> tuple[list[Value], str]:
    # Two fake people may share a name (so an e-mail) or a phone number; the CRM would rightly
    # merge them. The demo wants one contact per lead, so it asks for another person instead.
    kinds = {"EMAIL", "PHONE_NUMBER"}
    at = [i for i, q in enumerate(questions) if q["question_type"] in kinds]
    for _ in range(50):
        answers = generator.answers(questions)
        keys = {str(answers[i]).strip().lower() for i in at}
        if not keys & seen:
            seen |= keys
            email = next(
                (str(answers[i]) for i in at if questions[i]["question_type"] == "EMAIL"), ""
            )
            return answers, email.strip().lower()
    raise RuntimeError("could not make a person with a new e-mail")


def send_leads(
    app_store: AppStore,
    ring: KeyRing,
    sandbox: SandboxStore,
    *,
    count: int,
    rate: float,
    seed: int,
    on_sent: Callable[[], object] = lambda: None,
) -> list[Sent]:
    """Submit `count` leads to the demo form at `rate` per second; return them."""
    account, form, questions = demo_form(sandbox)
    credentials = load_credentials(app_store, ring, PINTEREST_CONNECTION)
    config = credentials.connection.config
    assert isinstance(config, PinterestConfig)
    base = config.api_base_url.removesuffix("/v5")
    url = f"{base}/sandbox/ad_accounts/{account}/lead_forms/{form}/leads"
    token = credentials.secrets.access_token or ""
    generator = LeadGenerator("en_US", seed)
    seen: set[str] = set()
    sent: list[Sent] = []
    started = time.monotonic()
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as http:
        for index in range(count):
            # Paced from the start, so a slow answer does not lower the rate.
            time.sleep(max(0.0, started + index / rate - time.monotonic()))
            answers, email = _unique_answers(generator, questions, seen)
            at = datetime.now(UTC)
            response = http.post(url, json={"answers": answers})
            while response.status_code == 429:
                # Test leads count against Pinterest's write limit (the sandbox: 400 a
                # minute): a rate above it waits as told, then goes on.
                time.sleep(parse_retry_after(response.headers, response.text, at) or 1.0)
                at = datetime.now(UTC)
                response = http.post(url, json={"answers": answers})
            if response.status_code != 200:
                raise RuntimeError(
                    f"the sandbox refused lead {index + 1}: {response.status_code} "
                    f"{response.text[:300]}"
                )
            sent.append(Sent(str(response.json()["lead_id"]), email, at))
            on_sent()
    return sent


def wait_for_runs(
    app_store: AppStore,
    sent: Sequence[Sent],
    *,
    flows: int,
    timeout_s: float,
    on_progress: Callable[[int], object] = lambda _done: None,
) -> int:
    """Wait until every lead's runs (one per live flow) ended; return how many leads are done."""
    lead_ids = [s.lead_id for s in sent]
    deadline = time.monotonic() + timeout_s
    done = 0
    while True:
        with app_store.read_sessions() as session:
            rows = session.execute(
                select(RunRow.lead_id, func.count())
                .where(RunRow.lead_id.in_(lead_ids), RunRow.status.in_(DONE))
                .group_by(RunRow.lead_id)
            ).all()
        done = sum(1 for _lead, n in rows if n >= flows)
        on_progress(done)
        if done >= len(lead_ids) or time.monotonic() >= deadline:
            return done
        time.sleep(0.25)


def report(app_store: AppStore, crm: CrmStore, sent: Sequence[Sent], *, flows: int) -> Landed:
    """Read the demo leads' runs and count what they put in the embedded CRM."""
    lead_ids = [s.lead_id for s in sent]
    with app_store.read_sessions() as session:
        runs = session.scalars(select(RunRow).where(RunRow.lead_id.in_(lead_ids))).all()
    by_lead: dict[str, list[RunRow]] = {}
    for run in runs:
        by_lead.setdefault(run.lead_id, []).append(run)
    landed = Landed(
        leads=len(sent),
        runs=len(runs),
        runs_succeeded=sum(1 for r in runs if r.status == RunStatus.SUCCEEDED.value),
        contacts=0,
        tags=0,
        tasks=0,
        notes=0,
    )
    contact_ids: set[str] = set()
    for lead in sent:
        mine = by_lead.get(lead.lead_id, [])
        landed.failures += [
            (r.run_id, f"{r.error_type}: {r.error_message}")
            for r in mine
            if r.status == RunStatus.NEEDS_ATTENTION.value
        ]
        finished = [r.finished_at for r in mine if r.finished_at is not None]
        if len(mine) < flows or len(finished) < len(mine):
            landed.unfinished += 1
        elif mine:
            landed.latencies_ms.append((max(finished) - lead.sent_at).total_seconds() * 1000)
        contact_ids |= {str(r.crm_ids["contact"]) for r in mine if r.crm_ids.get("contact")}
    # Counted in the embedded CRM's own tables: the demo must not spend the location's API
    # budget (the engine may still be using it) to look. Tasks and notes are those added since
    # the demo began: a lead may match a contact that was there before (same e-mail or
    # phone), with tasks of its own.
    since = min((s.sent_at for s in sent), default=datetime.now(UTC))
    with crm.read_sessions() as session:
        ids = sorted(contact_ids)

        def count(model: Any, *where: Any) -> int:
            owner = model.id if model is Contact else model.contact_id
            query = select(func.count()).select_from(model).where(owner.in_(ids), *where)
            return int(session.scalar(query) or 0)

        landed.contacts = count(Contact)
        landed.new_contacts = count(Contact, Contact.date_added >= since)
        landed.tags = count(ContactTag)
        landed.tasks = count(Task, Task.date_added >= since)
        landed.notes = count(Note, Note.date_added >= since)
    return landed
