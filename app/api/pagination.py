"""Polar's list shape: {"items": [...], "pagination": {"total_count", "max_page"}}.

`page` starts at 1; `limit` defaults to 10 and is capped at 100 (silently, as Polar does);
`max_page = ceil(total_count / limit)`, so 0 for an empty list.
"""
from __future__ import annotations

import math
from typing import Generic, TypeVar

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_LIMIT = 100


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=1_000_000, description="Page number, defaults to 1.")
    limit: int = Field(10, ge=1, description="Size of a page, defaults to 10. Maximum is 100.")

    @field_validator("limit")
    @classmethod
    def _cap(cls, value: int) -> int:
        return min(value, MAX_LIMIT)


class Pagination(BaseModel):
    total_count: int
    max_page: int


class ListResource(BaseModel, Generic[T]):
    items: list[T]
    pagination: Pagination


def max_page(total: int, limit: int) -> int:
    return math.ceil(total / limit) if limit else 0


def listing(items: list, total: int, limit: int) -> dict:
    """The list body, ready for JSON; items are response models or their JSON bodies already."""
    return {
        "items": [item.model_dump(mode="json") if isinstance(item, BaseModel) else item
                  for item in items],
        "pagination": {"total_count": total, "max_page": max_page(total, limit)},
    }


def paginate(session: Session, stmt, order_by: tuple, page: int, limit: int) -> tuple[list, int]:
    """One page of a read-only query and the total count (two queries)."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.order_by(*order_by).offset((page - 1) * limit).limit(limit)))
    return rows, total
