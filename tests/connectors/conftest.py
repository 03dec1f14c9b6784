"""Fixtures of the connector tests: a fake Pinterest behind MockTransport, and its clock."""

from __future__ import annotations

import pytest

from tests.connectors.fakes import FakePinterest

# The contract suite runs against the sandbox its own tests use: same servers, same tenants.
from tests.sandbox.conftest import (  # noqa: F401 - fixtures, found by name
    sandbox_postgres,
    sandbox_server,
    sandbox_sqlite,
    tenant,
)


@pytest.fixture
def pinterest() -> FakePinterest:
    """A scripted Pinterest with a hand-moved clock."""
    return FakePinterest()
