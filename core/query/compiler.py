"""Compile a checked :class:`~core.query.validator.Query` into one SQLAlchemy ``SELECT``.

Every value from the query is a bound parameter; the only names in the SQL are the
whitelist's columns and labels this module makes up (``c0``, ``g0``, ``a0``, ``rel_client``).
One statement serves SQLite and PostgreSQL; where they differ (date buckets, day
differences, text aggregation) the schema's builders pick by dialect.

Decisions where the issue is silent: rows sort with empty values last in either direction,
text ignoring (ASCII) case, and always end on the entity's id so pages are stable; a summary
sorts by its group columns unless told otherwise. A date compared with a date-and-time field
covers the whole day (``eq 2026-03-02`` is from midnight to the next midnight).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, func, literal_column, not_, or_, select, type_coerce
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from core.query.schema import DATETIME, INTEGER, MONEY, TAGS, TEXT, Ctx, tag_condition
from core.query.validator import Condition, FieldRef, Group, Query

DECIMAL = "decimal"  # the average of whole numbers, as a decimal string


@dataclass(frozen=True)
class OutputColumn:
    """A column of the result: its name, type (a field type, or "decimal" for an average of
    whole numbers) and what redaction needs to know."""

    name: str
    type: str
    personal: str | None = None
    free_text: bool = False
    average: bool = False  # two SQL columns (sum, count), divided exactly in Python


@dataclass(frozen=True)
class Compiled:
    statement: Select[Any]
    columns: tuple[OutputColumn, ...]
    limit: int  # the statement fetches limit + 1 rows to tell whether there were more


class _From:
    """The entity's table plus the outer joins its relations need, added as they are used."""

    def __init__(self, query: Query) -> None:
        self.base = query.entity.table
        self.from_: Any = self.base
        self.aliases: dict[str, Any] = {}

    def table(self, ref: FieldRef) -> Any:
        relation = ref.relation
        if relation is None:
            return self.base
        if relation.name not in self.aliases:
            prev = self.base
            for i, (table, local, remote) in enumerate(relation.steps):
                last = i == len(relation.steps) - 1
                alias = table.alias(f"rel_{relation.name}" + ("" if last else f"_{i}"))
                self.from_ = self.from_.outerjoin(alias, prev.c[local] == alias.c[remote])
                prev = alias
            self.aliases[relation.name] = prev
        return self.aliases[relation.name]


def compile_query(query: Query, dialect: str) -> Compiled:
    ctx = Ctx(dialect=dialect, today=query.today)
    src = _From(query)

    def expr(ref: FieldRef) -> ColumnElement[Any]:
        return ref.field.build(ctx, src.table(ref))

    conditions = [_condition(ctx, src, c, expr(c.ref)) for c in query.where]
    if query.is_aggregate:
        stmt, columns = _summary(ctx, query, expr)
    else:
        stmt, columns = _rows(query, src, expr)
    stmt = stmt.select_from(src.from_)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return Compiled(stmt.limit(query.limit + 1), tuple(columns), query.limit)


def _output(ref: FieldRef, name: str, type_: str | None = None) -> OutputColumn:
    return OutputColumn(name, type_ or ref.type, ref.field.personal, ref.field.free_text)


def _rows(query: Query, src: _From, expr: Any) -> tuple[Select[Any], list[OutputColumn]]:
    columns = [_output(f, f.path) for f in query.fields]
    stmt = select(*[expr(f).label(f"c{i}") for i, f in enumerate(query.fields)])
    order = []
    for key in query.sort:
        assert key.ref is not None
        value = expr(key.ref)
        if key.ref.type == TEXT:
            value = func.lower(value)
        order.append((value.desc() if key.descending else value.asc()).nulls_last())
    order.append(src.base.c.id.asc())
    return stmt.order_by(*order), columns


def _bucket(ctx: Ctx, value: Any, bucket: str | None) -> Any:
    if bucket is None:
        return value
    if ctx.dialect == "postgresql":
        if bucket == "week":
            return type_coerce(func.to_char(func.date_trunc("week", value), "YYYY-MM-DD"), String())
        fmt = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"}[bucket]
        return type_coerce(func.to_char(value, fmt), String())
    if bucket == "day":
        return type_coerce(func.date(value), String())
    if bucket == "week":  # the Monday of the week: next Sunday (or today), then back six days
        return type_coerce(func.date(value, "weekday 0", "-6 days"), String())
    fmt = {"month": "%Y-%m", "year": "%Y"}[bucket]
    return type_coerce(func.strftime(fmt, value), String())


def _summary(ctx: Ctx, query: Query, expr: Any) -> tuple[Select[Any], list[OutputColumn]]:
    selected: list[Any] = []
    columns: list[OutputColumn] = []
    labels: dict[str, str] = {}
    for i, group in enumerate(query.groups):
        label = f"g{i}"
        selected.append(_bucket(ctx, expr(group.ref), group.bucket).label(label))
        labels[group.name] = label
        columns.append(_group_output(group))
    for i, agg in enumerate(query.aggregates):
        label = f"a{i}"
        labels[agg.name] = label
        if agg.ref is None:
            selected.append(func.count().label(label))
            columns.append(OutputColumn(agg.name, INTEGER))
            continue
        value = expr(agg.ref)
        if agg.fn == "count":
            selected.append(func.count(value).label(label))
            columns.append(OutputColumn(agg.name, INTEGER))
        elif agg.fn == "sum":
            selected.append(func.coalesce(func.sum(value), 0).label(label))
            columns.append(OutputColumn(agg.name, agg.ref.type))
        elif agg.fn == "avg":
            selected.append(func.sum(value).label(label))
            selected.append(func.count(value).label(f"{label}n"))
            kind = MONEY if agg.ref.type == MONEY else DECIMAL
            columns.append(OutputColumn(agg.name, kind, average=True))
        else:
            fn = func.min if agg.fn == "min" else func.max
            selected.append(fn(value).label(label))
            columns.append(OutputColumn(agg.name, agg.ref.type))
    stmt = select(*selected)
    # Grouped and sorted by label: on PostgreSQL an expression with bound parameters in the
    # select list does not match the "same" expression in GROUP BY (each binds its own).
    if query.groups:
        stmt = stmt.group_by(*[literal_column(f"g{i}") for i in range(len(query.groups))])
    order = []
    for key in query.sort:
        column: ColumnElement[Any] = literal_column(labels[key.name])
        order.append((column.desc() if key.descending else column.asc()).nulls_last())
    if not query.sort:
        order = [literal_column(f"g{i}").asc().nulls_last() for i in range(len(query.groups))]
    return stmt.order_by(*order), columns


def _group_output(group: Group) -> OutputColumn:
    kind = "text" if group.bucket else group.ref.type
    return OutputColumn(group.name, kind, group.ref.field.personal, group.ref.field.free_text)


# --------------------------------------------------------------------------- conditions


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _moment_bounds(value: dt.date | dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """(start, end of the day) for a date; (the moment, None) for a datetime."""
    if isinstance(value, dt.datetime):
        return value, None
    return _day_start(value), _day_start(value + dt.timedelta(days=1))


def _datetime_condition(value_expr: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "between":
        start, _ = _moment_bounds(value[0])
        low, high = _moment_bounds(value[1])
        return and_(value_expr >= start, value_expr < high if high is not None else value_expr <= low)
    if op == "in":
        return or_(*[_datetime_condition(value_expr, "eq", v) for v in value])
    start, end = _moment_bounds(value)
    if end is None:  # an exact moment
        return _plain_condition(value_expr, op, value)
    within = and_(value_expr >= start, value_expr < end)
    return {
        "eq": within,
        "ne": or_(value_expr < start, value_expr >= end, value_expr.is_(None)),
        "lt": value_expr < start,
        "lte": value_expr < end,
        "gt": value_expr >= end,
        "gte": value_expr >= start,
    }[op]


def _plain_condition(value_expr: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "eq":
        return value_expr == value  # type: ignore[no-any-return]
    if op == "ne":
        return value_expr.is_distinct_from(value)  # type: ignore[no-any-return]
    if op == "lt":
        return value_expr < value  # type: ignore[no-any-return]
    if op == "lte":
        return value_expr <= value  # type: ignore[no-any-return]
    if op == "gt":
        return value_expr > value  # type: ignore[no-any-return]
    if op == "gte":
        return value_expr >= value  # type: ignore[no-any-return]
    if op == "in":
        return value_expr.in_(list(value))  # type: ignore[no-any-return]
    if op == "between":
        return and_(value_expr >= value[0], value_expr <= value[1])
    if op == "contains":
        return value_expr.icontains(value, autoescape=True)  # type: ignore[no-any-return]
    if op == "startswith":
        return value_expr.istartswith(value, autoescape=True)  # type: ignore[no-any-return]
    raise AssertionError(op)  # pragma: no cover - the validator allows no other


def _condition(ctx: Ctx, src: _From, cond: Condition, value_expr: Any) -> ColumnElement[bool]:
    ref, op, value = cond.ref, cond.op, cond.value
    if ref.type == TAGS:
        table = src.table(ref)
        if op == "is_null":
            none = tag_condition(ctx, table, None)
            return none if value else not_(none)
        return tag_condition(ctx, table, value)
    if op == "is_null":
        if ref.type == TEXT:  # the app stores "no email" as an empty text
            empty = or_(value_expr.is_(None), value_expr == "")
            return empty if value else not_(empty)
        return value_expr.is_(None) if value else value_expr.is_not(None)  # type: ignore[no-any-return]
    if ref.type == DATETIME:
        return _datetime_condition(value_expr, op, value)
    return _plain_condition(value_expr, op, value)
