"""Every router of the CRM, in one list, in the order they are matched."""

from __future__ import annotations

from fastapi import APIRouter

from leadwire.crm.routes import contacts, health

ROUTERS: list[APIRouter] = [health.router, contacts.router]
