"""The JSON API over a real socket, on SQLite and PostgreSQL: auth, search, timeline, inbox."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from leadwire.web import ApiTokens, create_app
from tests.servers import running
from tests.web.conftest import API_TOKEN, Web, end_run, make_lead


def _runs(web: Web, **params: object) -> list[dict[str, object]]:
    answer = web.api.get("/api/runs", params=params)
    assert answer.status_code == 200, answer.text
    runs: list[dict[str, object]] = answer.json()["runs"]
    return runs


@pytest.fixture
def flows(web: Web) -> tuple[str, str]:
    web.add_crm()
    return web.add_flow(), web.add_flow("lead-tags")


def test_the_api_needs_the_bearer_token_and_healthz_does_not(web: Web) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {API_TOKEN}"}):
        answer = web.http.get("/api/runs", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"] == "unauthorized"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert web.http.post("/api/inbox/replay", json={"all": True}).status_code == 401
    assert web.api.get("/api/runs").status_code == 200
    assert web.http.get("/healthz").json() == {"ok": True}


def test_without_a_configured_token_the_api_is_closed(web: Web) -> None:
    services = dataclasses.replace(web.services, tokens=ApiTokens(frozenset()))
    with running(create_app(services)) as url:
        answer = httpx.get(f"{url}/api/health", headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 401
    assert "LEADWIRE_API_TOKEN" in answer.json()["detail"]


def test_runs_are_found_by_lead_id_email_status_and_flow(web: Web, flows: tuple[str, str]) -> None:
    contact_flow, tags_flow = flows
    ada, grace = make_lead(), make_lead("Grace.Hopper@example.com")
    assert web.deliver([ada]).json()["accepted"] == 2
    assert web.deliver([grace]).json()["accepted"] == 2
    failed = f"lead:{grace.lead_id}:{tags_flow}:v1"
    end_run(web, failed, fail=True)

    assert {r["flow_id"] for r in _runs(web, lead_id=ada.lead_id)} == {contact_flow, tags_flow}
    by_email = _runs(web, email="  GRACE.hopper@EXAMPLE.com ")
    assert {r["lead_id"] for r in by_email} == {grace.lead_id}
    assert len(by_email) == 2
    (attention,) = _runs(web, status="needs_attention")
    assert attention["run_id"] == failed
    assert attention["error_type"] == "BadRequestError"
    assert {r["lead_id"] for r in _runs(web, flow_id=contact_flow)} == {ada.lead_id, grace.lead_id}
    assert _runs(web, lead_id=ada.lead_id, status="needs_attention") == []
    assert _runs(web, email="nobody@example.com") == []


def test_listing_is_newest_first_and_pages_with_a_cursor(web: Web, flows: tuple[str, str]) -> None:
    leads = [make_lead(f"p{i}@example.com") for i in range(4)]
    web.deliver(leads[:2])  # two leads, two flows: four runs received at the same moment
    web.deliver(leads[2:])
    everything = _runs(web, limit=500)
    assert len(everything) == 8
    keys = [(r["received_at"], r["run_id"]) for r in everything]
    assert keys == sorted(keys, reverse=True)
    assert {r["lead_id"] for r in everything[:4]} == {leads[2].lead_id, leads[3].lead_id}

    seen: list[object] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = web.api.get("/api/runs", params=params).json()
        assert len(page["runs"]) <= 3
        seen += [r["run_id"] for r in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r["run_id"] for r in everything]


BAD_PARAMETERS = [
    ({"limit": 0}, "'limit'"),
    ({"limit": 501}, "'limit'"),
    ({"limit": "ten"}, "'limit'"),
    ({"status": "lost"}, "'status'"),
    ({"cursor": "not-a-cursor"}, "'cursor'"),
    ({"cursor": "WzEsMl0"}, "'cursor'"),  # base64 of [1,2]
    ({"lead_id": ""}, "'lead_id'"),
]


def test_bad_query_parameters_are_422_naming_them(web: Web) -> None:
    for params, named in BAD_PARAMETERS:
        answer = web.api.get("/api/runs", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"] == "invalid_parameter"
        assert named in answer.json()["detail"], params


def test_a_runs_timeline_has_the_lead_each_step_and_its_inbox_item(
    web: Web, flows: tuple[str, str]
) -> None:
    _, tags_flow = flows
    lead = make_lead()
    web.deliver([lead])
    run_id = f"lead:{lead.lead_id}:{tags_flow}:v1"
    queued = web.api.get(f"/api/runs/{run_id}").json()
    assert (queued["run"]["status"], queued["steps"], queued["inbox"]) == ("queued", [], None)

    end_run(web, run_id, fail=True)
    timeline = web.api.get(f"/api/runs/{run_id}").json()
    run = timeline["run"]
    assert (run["status"], run["email"], run["crm_ids"]) == (
        "needs_attention",
        "ada.lovelace@example.com",
        {"contact": "ct_1"},
    )
    assert run["latency_ms"] == 45  # `end_run` ends the run 45 ms after it was received
    assert timeline["lead"]["lead_id"] == lead.lead_id
    assert {"question_type": "EMAIL", "answer": " Ada.Lovelace@Example.COM "}.items() <= (
        timeline["lead"]["answers"][1].items()
    )
    first, second = timeline["steps"]
    assert (first["step_id"], first["status"], first["summary"]) == (
        "contact",
        "ok",
        "POST /contacts/upsert → created",
    )
    assert (first["outputs"], first["crm_ids"], first["duration_ms"]) == (
        {"contact_id": "ct_1"},
        {"contact": "ct_1"},
        12,
    )
    assert (second["status"], second["error_message"], second["attempts"]) == (
        "failed",
        "tag is too long",
        1,
    )
    inbox = timeline["inbox"]
    assert (inbox["status"], inbox["failed_step"], inbox["error_type"]) == (
        "open",
        "tags",
        "BadRequestError",
    )
    missing = web.api.get("/api/runs/lead:0:flow_x:v1")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_inbox_replay_and_dismiss_one_with_clear_refusals(web: Web, flows: tuple[str, str]) -> None:
    contact_flow, _ = flows
    first, second = make_lead(), make_lead("b@example.com")
    web.deliver([first, second])
    replayed = f"lead:{first.lead_id}:{contact_flow}:v1"
    dismissed = f"lead:{second.lead_id}:{contact_flow}:v1"
    end_run(web, replayed, fail=True)
    end_run(web, dismissed, fail=True)
    items = web.api.get("/api/inbox").json()["items"]
    assert {i["run_id"] for i in items} == {replayed, dismissed}

    answer = web.api.post(f"/api/inbox/{replayed}/replay")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "run_id": replayed,
        "status": "replayed",
        "workflow_id": f"{replayed}/replay1",
    }
    run = web.api.get(f"/api/runs/{replayed}").json()["run"]
    assert (run["status"], run["workflow_id"]) == ("queued", f"{replayed}/replay1")
    again = web.api.post(f"/api/inbox/{replayed}/replay")
    assert again.status_code == 409
    assert "is replayed, not open" in again.json()["detail"]

    assert web.api.post(f"/api/inbox/{dismissed}/dismiss").json()["status"] == "dismissed"
    assert web.api.get(f"/api/runs/{dismissed}").json()["run"]["status"] == "dismissed"
    assert web.api.post(f"/api/inbox/{dismissed}/dismiss").status_code == 409
    assert web.api.post(f"/api/inbox/{dismissed}/replay").status_code == 409
    assert web.api.post("/api/inbox/lead:1:nope:v1/replay").status_code == 404

    assert web.api.get("/api/inbox").json()["items"] == []
    every = web.api.get("/api/inbox", params={"status": "all"}).json()["items"]
    assert {(i["run_id"], i["status"]) for i in every} == {
        (replayed, "replayed"),
        (dismissed, "dismissed"),
    }
    assert web.api.get("/api/inbox", params={"status": "gone"}).status_code == 422


def test_bulk_replay_by_flow_or_all_returns_counts(web: Web, flows: tuple[str, str]) -> None:
    contact_flow, tags_flow = flows
    leads = [make_lead(f"bulk{i}@example.com") for i in range(3)]
    web.deliver(leads)
    for lead in leads:
        end_run(web, f"lead:{lead.lead_id}:{contact_flow}:v1", fail=True)
    end_run(web, f"lead:{leads[0].lead_id}:{tags_flow}:v1", fail=True)

    for body in ({}, {"flow_id": contact_flow, "all": True}, {"all": False}, {"x": 1}):
        refused = web.api.post("/api/inbox/replay", json=body)
        assert refused.status_code == 422, body
    by_flow = web.api.post("/api/inbox/replay", json={"flow_id": contact_flow})
    assert by_flow.status_code == 200, by_flow.text
    assert (by_flow.json()["replayed"], by_flow.json()["remaining"]) == (3, 0)
    assert len(set(by_flow.json()["workflow_ids"])) == 3
    rest = web.api.post("/api/inbox/replay", json={"all": True}).json()
    assert (rest["replayed"], rest["remaining"]) == (1, 0)
    assert web.api.post("/api/inbox/replay", json={"all": True}).json()["replayed"] == 0


def test_health_counts_runs_by_status(web: Web, flows: tuple[str, str]) -> None:
    contact_flow, tags_flow = flows
    lead = make_lead()
    web.deliver([lead])
    end_run(web, f"lead:{lead.lead_id}:{contact_flow}:v1", fail=False)
    end_run(web, f"lead:{lead.lead_id}:{tags_flow}:v1", fail=True)
    health = web.api.get("/api/health").json()
    assert health["ok"] is True
    assert health["inbox_open"] == 1
    assert health["runs"]["succeeded"] == 1
    assert health["runs"]["needs_attention"] == 1
    assert health["runs"]["queued"] == 0
    assert set(health["runs"]) == {
        "queued",
        "waiting",
        "retrying",
        "succeeded",
        "needs_attention",
        "dismissed",
    }


def test_bad_bulk_replay_bodies_say_what_is_wrong(web: Web) -> None:
    cases = [
        (None, "the body: Field required"),
        (b"{", "the body is not valid JSON"),
        (b"{}", 'give "flow_id", or "all": true (not both)'),
        (b'{"all": true, "limit": 0}', "body field 'limit'"),
        (b'{"all": true, "extra": 1}', "body field 'extra'"),
    ]
    for content, detail in cases:
        answer = web.api.post(
            "/api/inbox/replay", content=content, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 422, answer.text
        assert detail in answer.json()["detail"], answer.json()
