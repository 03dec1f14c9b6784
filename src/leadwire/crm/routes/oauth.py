"""OAuth 2.0 endpoints of the CRM (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["OAuth"])
