"""The published OpenAPI document of the CRM (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
