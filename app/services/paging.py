"""One page of a longer list, as the services hand it to the pages and the API."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    limit: int
    capped: bool = False  # `total` is a lower bound: there are more than `total` (a search)

    @property
    def max_page(self) -> int:
        """ceil(total / limit): 0 for an empty list, as Polar counts it."""
        return math.ceil(self.total / self.limit) if self.limit else 0


def within(page: int, total: int, limit: int) -> int:
    """The asked-for page, or the last one when it is past the end (never below 1)."""
    return min(max(1, page), max(1, math.ceil(total / limit)))
