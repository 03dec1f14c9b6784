"""Fixtures of the Contacts connector tests: a scripted HighLevel, and the real embedded CRM.

The contract suite runs against the same CRM servers as the CRM's own tests; importing the
fixtures (rather than `pytest_plugins`, which only a root conftest may declare) works per
xdist worker like every other session fixture.
"""

from __future__ import annotations

import pytest

from tests.connectors.contacts.fakes import FakeHighLevel
from tests.crm.conftest import (  # noqa: F401 - fixtures, found by name
    crm_postgres,
    crm_server,
    crm_sqlite,
)


@pytest.fixture
def highlevel() -> FakeHighLevel:
    """A scripted HighLevel with a hand-moved clock."""
    return FakeHighLevel()
