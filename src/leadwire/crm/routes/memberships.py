"""Contacts API routes: memberships (being written)."""

from __future__ import annotations

from leadwire.crm.routes import CrmRouter

router = CrmRouter(prefix="/contacts", tags=["Contacts"])
