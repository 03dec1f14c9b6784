"""Liveness of the CRM, outside the authenticated API."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    """Answer that the CRM is up."""
    return {"status": "ok"}
