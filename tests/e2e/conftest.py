"""Fixtures of the end-to-end suite: one stack of real processes per backend for the package."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.databases import postgres_database
from tests.e2e.leads import People
from tests.e2e.stack import Stack, running_stack, unique_tag

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember on the test item whether any phase of it failed (for `print_logs_on_failure`)."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(
    scope="package",
    params=[
        # One xdist group per backend: under `-n 2 --dist loadgroup` each backend's stack lives
        # in one test process, started once for all its scenarios.
        pytest.param("sqlite", marks=pytest.mark.xdist_group("e2e-sqlite")),
        pytest.param(
            "postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("e2e-postgres")]
        ),
    ],
)
def e2e_backend(request: pytest.FixtureRequest) -> str:
    """The engine database's backend (the CRM and the sandbox stay on SQLite files)."""
    value: str = request.param
    return value


@pytest.fixture(scope="package")
def stack(e2e_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The running stack of this backend, shared by every scenario; every process ends after."""
    root = tmp_path_factory.mktemp(f"e2e-{e2e_backend}")
    if e2e_backend == "postgres":
        with postgres_database() as url, running_stack(e2e_backend, root, url) as started:
            yield started
        return
    with running_stack(e2e_backend, root, None) as started:
        yield started


@pytest.fixture(scope="package")
def people(stack: Stack) -> People:
    """Unique people for this stack's leads."""
    return People(unique_tag())


@pytest.fixture(autouse=True)
def print_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the stack's process logs after a failed test (shown in the failure report)."""
    yield
    if request.node.stash.get(FAILED, False) and "stack" in request.fixturenames:
        found: Stack = request.getfixturevalue("stack")
        print(found.logs())


@pytest.fixture(autouse=True)
def clean_proxy(request: pytest.FixtureRequest) -> Iterator[None]:
    """Leave the CRM proxy without faults after each scenario, whatever happened in it."""
    yield
    if "stack" in request.fixturenames:
        proxy = request.getfixturevalue("stack").proxy
        with proxy.lock:
            proxy.faults.clear()
            proxy.delays.clear()
            proxy.holds.clear()
