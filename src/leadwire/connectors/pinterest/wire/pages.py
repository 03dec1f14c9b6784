"""The bookmark page every Pinterest list operation answers with."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """`{"items": [...], "bookmark": <string|null>}`; a null or empty bookmark ends the list."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    items: list[T]
    bookmark: str | None = None
