"""The receiver over a real socket, on SQLite and PostgreSQL: 2xx only once recorded, else why."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from leadwire.connectors.pinterest.envelope import encode_delivery
from leadwire.engine.secrets import KeyRing
from leadwire.engine.sources import FlowRoutes, remove_hook, run_payload
from leadwire.store.models.hooks import PinterestHookRow
from leadwire.store.models.runs import RunRow
from leadwire.web import create_app
from leadwire.web.hook_cache import HookDirectory, OpenHook
from leadwire.web.receiver import Receiver, Verdict
from tests.receivers import eventually
from tests.servers import running
from tests.web.conftest import Web, make_lead, new_key

LIMIT = 1_048_576


def test_a_delivery_is_recorded_before_the_200(web: Web) -> None:
    web.add_crm()
    flow_id = web.add_flow()
    lead = make_lead()
    answer = web.deliver([lead])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 1, "duplicates": 0, "leads": 1, "unmatched": 0}
    assert answer.headers["x-trace-id"]
    with web.store.read_sessions() as session:
        (run,) = session.scalars(select(RunRow).where(RunRow.lead_id == lead.lead_id)).all()
    assert (run.flow_id, run.flow_version, run.status) == (flow_id, 1, "queued")
    assert run.email == "ada.lovelace@example.com"
    assert run.location_id == "loc-web"
    assert web.workflows(lead) == [run.run_id]


def test_a_second_delivery_of_a_lead_counts_as_duplicate_and_starts_nothing(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    web.add_flow("lead-tags")
    lead, other = make_lead(), make_lead("grace@example.com")
    first = web.deliver([lead])
    assert first.json() == {"accepted": 2, "duplicates": 0, "leads": 1, "unmatched": 0}
    again = web.deliver([lead, other])
    assert again.status_code == 200
    assert again.json() == {"accepted": 2, "duplicates": 2, "leads": 2, "unmatched": 0}
    assert web.run_count(lead.lead_id) == 2
    assert len(web.workflows(lead)) == 2


def test_an_unknown_secret_is_404_and_says_nothing_more(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    body = web.deliver([make_lead()]).request.content
    for secret in ("x" * 43, web.secret[:-1] + ("A" if web.secret[-1] != "A" else "B"), "short"):
        answer = web.post_raw(body, secret)
        assert answer.status_code == 404
        assert answer.json()["error"] == "not_found"
        assert answer.json()["detail"] == "no such hook"
    assert web.run_count() == 1  # only the delivery to the right URL


def test_a_hook_removed_stops_answering(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    with web.store.sessions() as session:
        remove_hook(session, "pins")
        session.commit()
    assert web.deliver([make_lead()]).status_code == 404


@pytest.fixture
def quiet_records(web: Web) -> Iterator[None]:
    web.add_crm()
    web.add_flow()
    yield
    assert web.run_count() == 0


def _bad(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "bad_delivery"
    assert reason in body["detail"]


@pytest.mark.usefixtures("quiet_records")
def test_undecodable_bodies_are_400_with_the_reason_and_record_nothing(web: Web) -> None:
    lead = make_lead("secret.person@example.com")
    body = encode_delivery([lead], web.key)
    _bad(web.post_raw(b"not json"), "is not JSON")
    _bad(web.post_raw(b""), "is not JSON")
    _bad(web.post_raw(b"[]"), "non-empty JSON array")
    _bad(web.post_raw(body[: len(body) // 2]), "is not JSON")
    _bad(web.deliver([lead], key=new_key()), "does not decrypt with this subscription's key")
    items = json.loads(body)
    items[0]["lead_id"] = "12345"
    _bad(web.post_raw(json.dumps(items).encode()), "differs from the delivery's")
    items = json.loads(body)
    items[0]["advertiser_id"] = 42
    _bad(web.post_raw(json.dumps(items).encode()), "advertiser_id")
    # Whatever the reason, no lead data comes back.
    for raw in (body[:-3], json.dumps(items).encode()):
        assert "secret.person" not in web.post_raw(raw).text


def test_oversized_bodies_are_413_declared_or_chunked(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    answer = web.post_raw(b"[" + b" " * LIMIT + b"]")
    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(LIMIT // 65_536 + 2):
            yield b" " * 65_536
        yield b"]"

    chunked = web.http.post(f"/hooks/pinterest/{web.secret}", content=chunks())
    assert chunked.request.headers["transfer-encoding"] == "chunked"
    assert chunked.status_code == 413
    assert chunked.json()["error"] == "payload_too_large"
    assert web.run_count() == 0


def test_a_flow_without_a_crm_is_503_and_the_redelivery_after_the_fix_lands(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    web.add_flow()
    lead = make_lead()
    with caplog.at_level(logging.ERROR, logger="leadwire.web.receiver"):
        answer = web.deliver([lead])
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "60"
    assert "has no CRM connection" in answer.json()["detail"]
    assert web.run_count() == 0
    assert web.workflows(lead) == []
    assert any(
        "receiver.unroutable" in r.getMessage() and lead.lead_id in r.getMessage()
        for r in caplog.records
    )
    web.add_crm()
    retried = web.post_raw(answer.request.content)
    assert retried.status_code == 200
    assert retried.json()["accepted"] == 1
    assert web.run_count(lead.lead_id) == 1


def test_a_lead_no_flow_takes_is_200_unmatched_with_a_warning_naming_it(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    web.add_crm()
    web.add_flow(ad_account="111")
    taken, ignored = make_lead(ad_account="111"), make_lead("x.y@example.com")
    with caplog.at_level(logging.WARNING, logger="leadwire.web.receiver"):
        answer = web.deliver([taken, ignored])
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 1, "duplicates": 0, "leads": 2, "unmatched": 1}
    (warning,) = [r for r in caplog.records if "receiver.unmatched" in r.getMessage()]
    assert ignored.lead_id in warning.getMessage()
    assert taken.lead_id not in warning.getMessage()
    assert "x.y@example.com" not in caplog.text


def test_a_delivery_key_that_cannot_be_opened_is_500(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    web.add_crm()
    web.add_flow()
    stranger = KeyRing.from_file(web.settings.data_dir / "other-keys.json")
    with web.store.sessions() as session:
        row = session.get(PinterestHookRow, web.hook_id)
        assert row is not None
        row.delivery_key = stranger.seal(web.key.encode(), row.delivery_key_owner)
        session.commit()
    with caplog.at_level(logging.CRITICAL, logger="leadwire.web.receiver"):
        answer = web.deliver([make_lead()])
    assert answer.status_code == 500
    assert answer.json()["error"] == "key_unavailable"
    (record,) = [r for r in caplog.records if "receiver.key_unavailable" in r.getMessage()]
    assert web.hook_id in record.getMessage()
    assert web.key not in caplog.text
    assert web.run_count() == 0


def test_a_failure_to_record_is_503_with_retry_after(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    web.services.group.close()  # intake refuses from now on, as a database that is down
    answer = web.deliver([make_lead()])
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["detail"] == "could not record the leads durably; retry later"


def test_a_delivery_sets_last_delivery_at_once_a_minute(web: Web) -> None:
    web.add_crm()
    web.add_flow()

    def last() -> datetime | None:
        with web.store.read_sessions() as session:
            row = session.get(PinterestHookRow, web.hook_id)
            assert row is not None
            return row.last_delivery_at

    assert last() is None
    assert web.deliver([make_lead()]).status_code == 200
    # Written after the answer went out: wait for it.
    first = eventually(last)
    assert web.deliver([make_lead()]).status_code == 200
    assert last() == first  # not again within the minute


def test_the_run_payload_is_what_routing_builds(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    lead = make_lead()
    assert web.deliver([lead]).status_code == 200
    (status,) = web.services.intake.client.list_workflows(
        workflow_id_prefix=f"lead:{lead.lead_id}:", load_output=False
    )
    assert status.input is not None
    job = status.input["args"][0]
    (flow,) = web.services.routes.live()
    assert job["payload"] == json.loads(json.dumps(run_payload(lead, flow)))


def test_other_methods_and_paths_are_json_errors(web: Web) -> None:
    answer = web.http.get(f"/hooks/pinterest/{web.secret}")
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"
    missing = web.http.post("/hooks/pinterest/")
    assert missing.status_code == 404
    assert web.secret not in web.http.post(f"/hooks/x/{web.secret}/y").text


@given(data=st.data())
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
def test_damaged_deliveries_are_400_never_recorded_never_echoed(
    web: Web, data: st.DataObject
) -> None:
    if not web.services.routes.live():
        web.add_crm()
        web.add_flow()
    lead = make_lead("fuzzed.person@example.com")
    body = encode_delivery([lead], web.key)
    items = json.loads(body)
    blob: str = items[0]["encrypted_lead_data"]
    how = data.draw(st.sampled_from(["cut", "flip", "insert"]))
    if how == "cut":
        damaged = body[: data.draw(st.integers(0, len(body) - 1))]
    elif how == "flip":
        # Not the last characters: they may hold only padding bits, which decoding ignores.
        at = data.draw(st.integers(0, len(blob) - 4))
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        new = data.draw(st.sampled_from(alphabet).filter(lambda c: c != blob[at]))
        items[0]["encrypted_lead_data"] = blob[:at] + new + blob[at + 1 :]
        damaged = json.dumps(items).encode()
    else:
        at = data.draw(st.integers(0, len(body)))
        junk = data.draw(st.binary(min_size=1, max_size=8).filter(lambda b: not b.isspace()))
        damaged = body[:at] + junk + body[at:]
    answer = web.post_raw(damaged)
    if answer.status_code == 200:
        # Junk that still parses to the same delivery (e.g. digits inside a number) is fine
        # only if it decodes to a valid lead; it cannot decrypt to another one.
        assert how == "insert"
        return
    assert answer.status_code == 400, answer.text
    assert "fuzzed.person" not in answer.text
    assert web.run_count(lead.lead_id) == 0


def test_a_database_that_does_not_answer_is_503_not_a_drop(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    down = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/down", pool_pre_ping=False)
    sessions = sessionmaker(down)
    body = encode_delivery([make_lead()], web.key)
    no_hooks = dataclasses.replace(
        web.services, hooks=HookDirectory(sessions, sessions, web.services.ring)
    )
    no_flows = dataclasses.replace(web.services, routes=FlowRoutes(sessions))
    try:
        for services, detail in (
            (no_hooks, "could not look the hook up; retry later"),
            (no_flows, "could not read the live flows; retry later"),
        ):
            with running(create_app(services)) as url:
                answer = httpx.post(f"{url}/hooks/pinterest/{web.secret}", content=body)
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "5"
            assert answer.json()["detail"] == detail
    finally:
        down.dispose()
    assert web.run_count() == 0
    assert web.post_raw(body).status_code == 200  # and Pinterest's retry lands


def test_a_failure_nothing_expected_is_500_naming_its_trace_id(
    web: Web, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> Verdict:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Receiver, "start", broken)
    with caplog.at_level(logging.ERROR, logger="leadwire.web.errors"):
        answer = web.deliver([make_lead()])
    assert answer.status_code == 500
    trace = answer.headers["x-trace-id"]
    assert answer.json() == {
        "error": "internal_error",
        "detail": f"internal error (trace id {trace})",
        "trace_id": trace,
    }
    (record,) = [r for r in caplog.records if "web.unhandled" in r.getMessage()]
    assert trace in record.getMessage()
    assert web.secret not in caplog.text


def test_deliveries_with_the_hook_and_flows_cached_are_answered_alike(web: Web) -> None:
    web.add_crm()
    web.add_flow()
    store = web.store
    hooks = HookDirectory(store.read_sessions, store.sessions, web.services.ring, ttl_s=600)
    routes = FlowRoutes(store.read_sessions, ttl_s=600)
    reads: list[str] = []
    find = hooks.find

    def counted(secret: str) -> OpenHook | None:
        reads.append(secret)
        return find(secret)

    hooks.find = counted  # type: ignore[method-assign]
    services = dataclasses.replace(web.services, hooks=hooks, routes=routes)
    first, second = make_lead(), make_lead("grace@example.com")
    with running(create_app(services)) as url, httpx.Client(base_url=url) as http:

        def post(body: bytes) -> httpx.Response:
            return http.post(f"/hooks/pinterest/{web.secret}", content=body)

        assert post(encode_delivery([first], web.key)).json()["accepted"] == 1
        # From here on, the hook and the flows come from the caches: no read, no thread.
        answer = post(encode_delivery([first, second], web.key))
        assert answer.status_code == 200
        assert answer.json() == {"accepted": 1, "duplicates": 1, "leads": 2, "unmatched": 0}
        assert answer.headers["x-trace-id"]
        bad = post(encode_delivery([make_lead()], new_key()))
        assert bad.status_code == 400
        assert bad.json()["error"] == "bad_delivery"
        web.services.group.close()  # intake refuses from now on
        down = post(encode_delivery([make_lead()], web.key))
        assert down.status_code == 503
        assert down.headers["retry-after"] == "5"
    assert len(reads) == 1
    assert web.run_count(first.lead_id) == web.run_count(second.lead_id) == 1
