"""docs/sandbox.md's walkthrough, as a new user does it: subscribe a local URL, send leads, see
them arrive encrypted and decoded by `leadwire sandbox catch`."""

from __future__ import annotations

import threading

import httpx

from leadwire.cli.sandbox_catch import catch_app
from leadwire.connectors.pinterest.leads import Lead, QuestionType
from tests.receivers import eventually
from tests.sandbox.conftest import Tenant
from tests.sandbox.test_deliveries import generated_answers
from tests.servers import bound_socket, running


def test_a_subscribed_local_url_gets_each_lead_encrypted_and_catch_decodes_it(
    tenant: Tenant,
) -> None:
    caught: list[Lead] = []
    lock = threading.Lock()

    def keep(lead: Lead) -> None:
        with lock:
            caught.append(lead)

    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    base = f"/ad_accounts/{tenant.ad_account_id}"
    with tenant.client() as api:
        created = api.post(
            f"{base}/leads/subscriptions",
            json={"webhook_url": f"http://{host}:{port}/", "lead_form_id": tenant.contact_form},
        )
        assert created.status_code == 200, created.text
        key = created.json()["cryptographic_key"]
        with running(catch_app(key, keep), sock=sock):
            answers = generated_answers(tenant.server.store, tenant.contact_form)
            test_lead = api.post(
                f"{base}/lead_forms/{tenant.contact_form}/test", json={"answers": answers}
            )
            assert test_lead.status_code == 200, test_lead.text
            submitted = api.post(
                f"{tenant.url}/sandbox{base}/lead_forms/{tenant.contact_form}/leads",
                json={"answers": answers},
            )
            assert submitted.status_code == 200, submitted.text
            eventually(lambda: len(caught) == 2)

    by_test = {lead.is_test: lead for lead in caught}
    assert set(by_test) == {True, False}
    assert by_test[False].lead_id == submitted.json()["lead_id"]
    for lead in caught:
        assert lead.lead_form_id == tenant.contact_form
        assert lead.ad_account_id == tenant.ad_account_id
        assert [a.value for a in lead.answers] == answers
        email = lead.answer(QuestionType.EMAIL)
        assert email is not None
        assert "@" in email.value


def test_catch_refuses_what_it_cannot_decode_with_a_400() -> None:
    with running(catch_app("A" * 43, lambda lead: None)) as url:
        answer = httpx.post(f"{url}/", content=b"not json", timeout=10)
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"]
