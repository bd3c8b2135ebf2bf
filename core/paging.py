"""Keyset pagination: lists read one page at a time in SQL, never a whole table.

A page is fetched with ``WHERE (sort_key, id) > (:last_key, :last_id) ORDER BY sort_key, id
LIMIT n`` (``<`` and DESC for descending sorts), so page 10,000 costs the same as page 1
given an index on ``(sort_key, id)``. The cursor is the last row's (sort_key, id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # imported by after() itself: Page and Cursor are needed before SQLAlchemy
    from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")

Cursor = tuple[Any, ...]
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_cursor: Cursor | None  # None: this was the last page

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def after(keys: Sequence[Any], cursor: Cursor, descending: bool) -> ColumnElement[bool]:
    """``(k1, k2, ...) > cursor`` written out as OR/AND so every backend can use the index.

    A NULL sort value sorts first ascending (as SQLite does); rows with NULL keys are
    compared on the remaining keys only.
    """
    from sqlalchemy import and_, or_

    clauses = []
    for i, key in enumerate(keys):
        value = cursor[i]
        equal = [keys[j] == cursor[j] if cursor[j] is not None else keys[j].is_(None) for j in range(i)]
        step: ColumnElement[bool] | None
        if value is None:
            # NULLs sort first ascending / last descending
            step = key.is_not(None) if not descending else None
        else:
            step = key < value if descending else key > value
            if descending:
                step = or_(step, key.is_(None))
        if step is not None:
            clauses.append(and_(*equal, step))
    return or_(*clauses)
