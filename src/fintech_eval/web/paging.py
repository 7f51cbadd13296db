"""Pagination of listings: ``?limit=&offset=`` in, the :class:`~.schemas.Page` envelope out
(``{"items": [...], "total": N, "limit": L, "offset": O}``; the next page is ``offset + limit`` while that is
below ``total``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

MAX_LIMIT = 500


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    def page(self, items: Sequence[Any], total: int | None = None) -> dict[str, Any]:
        """The envelope of ``items``: all of them sliced here, or (``total`` given) one page already cut."""
        if total is None:
            total, items = len(items), list(items[self.offset:self.offset + self.limit])
        return {"items": list(items), "total": int(total), "limit": self.limit, "offset": self.offset}


def paging(limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 50,
           offset: Annotated[int, Query(ge=0, le=2**31, description="Items to skip.")] = 0) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]
