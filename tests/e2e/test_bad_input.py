"""Malformed answers, end to end: a lead lands with what is valid and its run says what was
left out; a lead with nothing to find its contact by stops with a reason in the inbox, once.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from leadwire.store.models.runs import InboxRow, RunStatus
from tests.e2e.checks import (
    assert_accounted_for,
    landed,
    plan_summary,
    runs_by_lead,
    wait_until_ended,
)
from tests.e2e.leads import People, stream
from tests.e2e.stack import Stack

pytestmark = pytest.mark.slow

NOT_AN_EMAIL = "jane.doe(at)example"
NOT_A_PHONE = "555-01"


def test_a_malformed_email_or_phone_is_left_out_and_recorded(stack: Stack, people: People) -> None:
    bad_email = replace(people.next("bad-email"), email=NOT_AN_EMAIL)
    bad_phone = replace(people.next("bad-phone"), phone=NOT_A_PHONE)
    assert bad_phone.e164 is None
    sent = stream(stack, [bad_email, bad_phone], 10.0).finish()
    wait_until_ended(stack, sent)
    assert_accounted_for(stack, sent)  # every run succeeded with what was valid
    runs = runs_by_lead(stack, [s.lead_id for s in sent])

    email_lead, phone_lead = sent
    for run in runs[email_lead.lead_id]:
        assert "left out contact.email" in plan_summary(stack, run.run_id), run.flow_id
    found = landed(stack, bad_email)
    assert (found.by_email, len(found.by_phone)) == ((), 1)
    assert found.contacts == ((None, bad_email.e164),)
    assert (found.tasks, found.notes) == (1, 1)

    for run in runs[phone_lead.lead_id]:
        assert "left out contact.phone" in plan_summary(stack, run.run_id), run.flow_id
    found = landed(stack, bad_phone)
    assert len(found.by_email) == 1
    assert found.contacts == ((bad_phone.email, None),)
    assert (found.tasks, found.notes) == (1, 1)


def test_a_lead_with_no_usable_email_or_phone_stops_with_a_reason(
    stack: Stack, people: People
) -> None:
    nobody = replace(people.next("nobody"), email=NOT_AN_EMAIL, phone=NOT_A_PHONE)
    (sent,) = stream(stack, [nobody], 10.0).finish()
    wait_until_ended(stack, [sent])
    runs = runs_by_lead(stack, [sent.lead_id])[sent.lead_id]
    assert len(runs) == stack.flows
    assert {r.status for r in runs} == {RunStatus.NEEDS_ATTENTION.value}
    with stack.app_store.read_sessions() as session:
        inbox = session.scalars(select(InboxRow).where(InboxRow.lead_id == sent.lead_id)).all()
    assert len(inbox) == stack.flows
    for item in inbox:
        assert "email, phone" in item.error_message, item.error_message
        assert item.attempts == 1, "a fatal mapping error is never retried"
    assert landed(stack, nobody).contacts == ()
