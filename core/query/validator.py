"""Turn a structured query (JSON text or the parsed object) into a checked :class:`Query`.

Everything outside the whitelist of :mod:`core.query.schema` is refused with a
:class:`ValidationError` whose field is a path into the query (``where[1].value``) and whose
message says what is allowed, so a person, or a model, can fix the query in one go.
Relative dates are resolved here against ``today``; money becomes integer cents.

Decisions where the issue is silent:

* ``group_by`` without ``aggregate`` counts the rows of each group;
* with an aggregate, ``fields`` must be empty: the columns are the groups and aggregates;
* ``limit`` defaults to 100 and may be at most 1000 (the row cap); a larger one is refused
  rather than silently cut, so nobody mistakes a partial list for the whole;
* money values may be a JSON number or a string ("500", "1,250.00", "$80"); never a float
  from Python code (floats do not hold cents exactly);
* relative dates: ``today``, ``yesterday``, ``tomorrow``, ``start_of_week`` (Monday),
  ``start_of_month``, ``start_of_year``, each optionally followed by an offset
  ``+N``/``-N`` in ``d``ays, ``w``eeks, ``m``onths or ``y``ears (``-30d``,
  ``start_of_month-1m``); a date compared with a date-and-time field means the whole day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import ValidationError
from core.query.schema import (
    AGG_TYPES,
    AGGREGATE_FUNCTIONS,
    BOOLEAN,
    BUCKETS,
    DATE,
    DATETIME,
    ENTITIES,
    ENUM,
    GROUPABLE,
    INTEGER,
    MONEY,
    OPERATORS,
    OPS_BY_TYPE,
    SORTABLE,
    TAGS,
    TEXT,
    TOP_LEVEL,
    Entity,
    FieldDef,
    Relation,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # the row cap
MAX_QUERY_CHARS = 20_000
MAX_FIELDS = 80
MAX_CONDITIONS = 20
MAX_SORT = 5
MAX_AGGREGATES = 10
MAX_GROUPS = 3
MAX_LIST = 100
MAX_TEXT = 500
MAX_CENTS = 10**14
KEYS = ("entity", "fields", "where", "sort", "limit", "aggregate", "group_by")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class FieldRef:
    path: str  # as written: "balance", "client.name"
    entity: Entity  # the entity that owns the field
    field: FieldDef
    relation: Relation | None = None

    @property
    def type(self) -> str:
        return self.field.type


@dataclass(frozen=True)
class Condition:
    ref: FieldRef
    op: str
    value: Any  # checked and converted: cents, dates, a tuple for in/between, a bool for is_null


@dataclass(frozen=True)
class Aggregate:
    fn: str
    ref: FieldRef | None  # None: count(*)
    name: str


@dataclass(frozen=True)
class Group:
    ref: FieldRef
    bucket: str | None
    name: str


@dataclass(frozen=True)
class SortKey:
    name: str  # a field path, or a group/aggregate output name
    descending: bool
    ref: FieldRef | None = None  # the field, when sorting rows (not a summary)


@dataclass(frozen=True)
class Query:
    entity: Entity
    fields: tuple[FieldRef, ...]
    where: tuple[Condition, ...]
    sort: tuple[SortKey, ...]
    limit: int
    aggregates: tuple[Aggregate, ...]
    groups: tuple[Group, ...]
    today: dt.date

    @property
    def is_aggregate(self) -> bool:
        return bool(self.aggregates)

    def as_dict(self) -> dict[str, Any]:
        """The query in its complete, normalised JSON form (what ran)."""
        out: dict[str, Any] = {"entity": self.entity.name}
        if self.fields:
            out["fields"] = [f.path for f in self.fields]
        if self.where:
            out["where"] = [{"field": c.ref.path, "op": c.op, "value": _plain(c.ref, c.op, c.value)}
                            for c in self.where]
        if self.aggregates:
            out["aggregate"] = [{"fn": a.fn, **({"field": a.ref.path} if a.ref else {}),
                                 "as": a.name} for a in self.aggregates]
        if self.groups:
            out["group_by"] = [{"field": g.ref.path, **({"bucket": g.bucket} if g.bucket else {}),
                                "as": g.name} for g in self.groups]
        if self.sort:
            out["sort"] = [{"field": k.name, "dir": "desc" if k.descending else "asc"}
                           for k in self.sort]
        out["limit"] = self.limit
        return out


def _plain(ref: FieldRef, op: str, value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(ref, "eq", v) for v in value]
    if op == "is_null" or value is None:
        return value
    if ref.type == MONEY:
        from core.money import cents_to_decimal

        return str(cents_to_decimal(value))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- parsing


def parse_query(text: str) -> Any:
    """JSON text to a Python object; numbers with a fraction become exact Decimals."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("query", 'is empty; give a JSON object like {"entity": "invoices"}')
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError("query", f"is too long (at most {MAX_QUERY_CHARS:,} characters)")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number here")

    try:
        return json.loads(text, parse_float=Decimal, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            "query", f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ValidationError("query", f"is not valid JSON ({exc})") from None


def validate_query(raw: Any, *, today: dt.date) -> Query:
    """Check ``raw`` (a parsed JSON object) against the whitelist; see the module docstring."""
    if isinstance(raw, str):
        raw = parse_query(raw)
    if not isinstance(raw, dict):
        raise ValidationError("query", 'must be a JSON object like {"entity": "invoices"}')
    for key in raw:
        if key not in KEYS:
            raise ValidationError("query", f"unknown key {_show(key)}; allowed: {', '.join(KEYS)}")
    entity = _entity(raw.get("entity"))
    where = tuple(_condition(entity, item, f"where[{i}]", today)
                  for i, item in enumerate(_list(raw, "where", MAX_CONDITIONS)))
    aggregates = [_aggregate(entity, item, f"aggregate[{i}]")
                  for i, item in enumerate(_list(raw, "aggregate", MAX_AGGREGATES))]
    groups = [_group(entity, item, f"group_by[{i}]")
              for i, item in enumerate(_list(raw, "group_by", MAX_GROUPS))]
    if groups and not aggregates:
        aggregates = [Aggregate("count", None, "count")]
    raw_fields = _list(raw, "fields", MAX_FIELDS)
    if aggregates and raw_fields:
        raise ValidationError(
            "fields", "cannot be combined with aggregate: the result's columns are the group_by "
                      "fields and the aggregates (put the columns to group by in group_by)")
    fields = tuple(_field_ref(entity, f, f"fields[{i}]") for i, f in enumerate(raw_fields))
    if not aggregates and not fields:
        fields = tuple(_field_ref(entity, f, "fields") for f in entity.default_fields)
    _unique([f.path for f in fields], "fields")
    outputs = [g.name for g in groups] + [a.name for a in aggregates]
    _unique(outputs, "aggregate")
    sort = tuple(_sort(entity, item, f"sort[{i}]", fields, groups, aggregates)
                 for i, item in enumerate(_list(raw, "sort", MAX_SORT)))
    return Query(entity, fields, where, sort, _limit(raw.get("limit", DEFAULT_LIMIT)),
                 tuple(aggregates), tuple(groups), today)


# --------------------------------------------------------------------------- parts


def _show(value: Any, width: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return f"'{text[:width]}…'" if len(text) > width else f"'{text}'"


def _list(raw: dict[str, Any], key: str, most: int) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(key, "must be a list")
    if len(value) > most:
        raise ValidationError(key, f"has {len(value)} entries; at most {most}")
    return value


def _entity(value: Any) -> Entity:
    if value is None:
        raise ValidationError("entity", f"is required; one of: {', '.join(TOP_LEVEL)}")
    if not isinstance(value, str) or value not in TOP_LEVEL:
        raise ValidationError("entity", f"{_show(value)} is not something a query can read; "
                                        f"entities: {', '.join(TOP_LEVEL)}")
    return ENTITIES[value]


def _field_list(entity: Entity) -> str:
    text = ", ".join(entity.fields)
    if entity.relations:
        text += "; related: " + ", ".join(
            f"{name}.<{rel.target} field>" for name, rel in entity.relations.items())
    return text


def _field_ref(entity: Entity, value: Any, where: str) -> FieldRef:
    if not isinstance(value, str) or not value:
        raise ValidationError(where, f"must be a field name such as {_show(entity.default_fields[0])}")
    if value in entity.fields:
        return FieldRef(value, entity, entity.fields[value])
    head, dot, rest = value.partition(".")
    if not dot:
        raise ValidationError(where, f"{entity.name} have no field {_show(value)}; "
                                     f"fields: {_field_list(entity)}")
    relation = entity.relations.get(head)
    if relation is None:
        rels = ", ".join(entity.relations) or "none"
        raise ValidationError(where, f"{entity.name} have no related record {_show(head)} "
                                     f"(in {_show(value)}); related: {rels}")
    target = ENTITIES[relation.target]
    if "." in rest:
        raise ValidationError(where, f"{_show(value)} goes more than one step; use "
                                     f"{head}.<field> with a field of {target.name}")
    if rest not in target.fields:
        raise ValidationError(where, f"{head} ({target.name}) has no field {_show(rest)}; "
                                     f"fields: {', '.join(target.fields)}")
    return FieldRef(value, target, target.fields[rest], relation)


def _condition(entity: Entity, item: Any, where: str, today: dt.date) -> Condition:
    if not isinstance(item, dict):
        raise ValidationError(where, 'must be an object like {"field": "status", "op": "eq", '
                                     '"value": "paid"}')
    for key in item:
        if key not in ("field", "op", "value"):
            raise ValidationError(where, f"unknown key {_show(key)}; allowed: field, op, value")
    ref = _field_ref(entity, item.get("field"), f"{where}.field")
    op = item.get("op")
    if not isinstance(op, str) or op not in OPERATORS:
        raise ValidationError(f"{where}.op", f"{_show(op)} is not an operator; operators: "
                                             f"{', '.join(OPERATORS)}")
    allowed = OPS_BY_TYPE[ref.type]
    if op not in allowed:
        raise ValidationError(f"{where}.op", f"{op} does not apply to {ref.path} ({ref.type}); "
                                             f"use one of: {', '.join(allowed)}")
    at = f"{where}.value"
    if op == "is_null":
        value = item.get("value", True)
        if not isinstance(value, bool):
            raise ValidationError(at, "is_null takes true (is empty) or false (has a value)")
        return Condition(ref, op, value)
    if "value" not in item:
        raise ValidationError(at, f"is required for {op}")
    value = item["value"]
    if op in ("in", "between"):
        if not isinstance(value, list):
            raise ValidationError(at, f"{op} takes a list" + (" of two values [from, to]"
                                                               if op == "between" else ""))
        if op == "between" and len(value) != 2:
            raise ValidationError(at, "between takes exactly two values [from, to]")
        if op == "in" and not 1 <= len(value) <= MAX_LIST:
            raise ValidationError(at, f"in takes 1 to {MAX_LIST} values")
        values = tuple(_value(ref, v, f"{at}[{i}]", today) for i, v in enumerate(value))
        if op == "between" and _after(values[0], values[1]):
            raise ValidationError(at, "between: the first value is after the second")
        return Condition(ref, op, values)
    return Condition(ref, op, _value(ref, value, at, today, op=op))


def _after(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) != isinstance(b, dt.datetime):
        a = a if isinstance(a, dt.datetime) else dt.datetime.combine(a, dt.time())
        b = b if isinstance(b, dt.datetime) else dt.datetime.combine(b, dt.time())
    return bool(a > b)


def _value(ref: FieldRef, value: Any, at: str, today: dt.date, op: str = "eq") -> Any:
    kind = ref.type
    name = f"{ref.path} ({kind})"
    if kind in (TEXT, TAGS):
        if not isinstance(value, str):
            raise ValidationError(at, f"{name} takes text, not {_show(value)}")
        if len(value) > MAX_TEXT:
            raise ValidationError(at, f"is too long (at most {MAX_TEXT} characters)")
        if kind == TAGS:
            return value.strip().lower()
        return value
    if kind == ENUM:
        if not isinstance(value, str) or value not in ref.field.values:
            raise ValidationError(at, f"{_show(value)} is not a {ref.path}; one of: "
                                      f"{', '.join(ref.field.values)}")
        return value
    if kind == BOOLEAN:
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise ValidationError(at, f"{name} takes true or false, not {_show(value)}")
        return value
    if kind == INTEGER:
        return _integer(value, at, name)
    if kind == MONEY:
        return _cents(value, at, name)
    if kind in (DATE, DATETIME):
        return parse_date_value(value, at, today, allow_time=kind == DATETIME)
    raise AssertionError(kind)  # pragma: no cover


def _integer(value: Any, at: str, name: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(at, f"{name} takes a whole number, not {_show(value)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,15}\s*", value):
        number = int(value)
    else:
        raise ValidationError(at, f"{name} takes a whole number, not {_show(value)}")
    if abs(number) > MAX_CENTS:
        raise ValidationError(at, f"{number} is out of range")
    return number


def _cents(value: Any, at: str, name: str) -> int:
    hint = f'{name} takes an amount like "500" or "1250.00"'
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationError(at, f"{hint}, not {_show(value)}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        text = text[1:] if text.startswith("$") else text
        text = "-" + text[2:] if text.startswith("-$") else text
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(at, f"{hint}, not {_show(value)}") from None
    else:
        raise ValidationError(at, f"{hint}, not {_show(value)}")
    if not amount.is_finite():
        raise ValidationError(at, f"{hint}, not {_show(value)}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValidationError(at, f"{name}: {_show(value)} has more than two decimal places")
    if abs(cents) > MAX_CENTS:
        raise ValidationError(at, f"{name}: {_show(value)} is out of range")
    return int(cents)


_RELATIVE = re.compile(
    r"^(today|yesterday|tomorrow|start_of_week|start_of_month|start_of_year)?"
    r"\s*(?:([+-])\s*(\d{1,4})\s*([dwmy]))?$"
)
DATE_FORMS = ("an ISO date (2026-03-31), today, yesterday, tomorrow, start_of_week, "
              "start_of_month, start_of_year, or one of these with an offset such as -30d, "
              "+7d, -2w, start_of_month-1m, -1y")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def relative_date(text: str, today: dt.date) -> dt.date | None:
    """The date ``text`` names relative to ``today`` (see the module docstring), or None."""
    m = _RELATIVE.match(text.strip().lower())
    if not m or not (m.group(1) or m.group(2)):
        return None
    anchor = m.group(1) or "today"
    day = {
        "today": today,
        "yesterday": today - dt.timedelta(days=1),
        "tomorrow": today + dt.timedelta(days=1),
        "start_of_week": today - dt.timedelta(days=today.weekday()),
        "start_of_month": today.replace(day=1),
        "start_of_year": today.replace(month=1, day=1),
    }[anchor]
    if m.group(2):
        n = int(m.group(3)) * (1 if m.group(2) == "+" else -1)
        unit = m.group(4)
        try:
            if unit in ("d", "w"):
                day = day + dt.timedelta(days=n * (7 if unit == "w" else 1))
            else:
                day = _add_months(day, n * (12 if unit == "y" else 1))
        except OverflowError:
            return None
    return day


def parse_date_value(value: Any, at: str, today: dt.date, *,
                     allow_time: bool = False) -> dt.date | dt.datetime:
    """A date (or, for a date-and-time field, a datetime) from ISO text or a relative form."""
    forms = DATE_FORMS + (", or a date and time (2026-03-31T14:00)" if allow_time else "")
    if not isinstance(value, str):
        raise ValidationError(at, f"takes a date: {forms}; not {_show(value)}")
    text = value.strip()
    day = relative_date(text, today)
    if day is not None:
        return day
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    if allow_time:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return moment.replace(tzinfo=None) if moment.tzinfo is None else (
                moment.astimezone().replace(tzinfo=None))
    raise ValidationError(at, f"{_show(value)} is not a date; use {forms}")


def _aggregate(entity: Entity, item: Any, where: str) -> Aggregate:
    if not isinstance(item, dict):
        raise ValidationError(where, 'must be an object like {"fn": "sum", "field": "amount", '
                                     '"as": "total"}')
    for key in item:
        if key not in ("fn", "field", "as"):
            raise ValidationError(where, f"unknown key {_show(key)}; allowed: fn, field, as")
    fn = item.get("fn")
    if not isinstance(fn, str) or fn not in AGGREGATE_FUNCTIONS:
        raise ValidationError(f"{where}.fn", f"{_show(fn)} is not an aggregate function; one "
                                             f"of: {', '.join(AGGREGATE_FUNCTIONS)}")
    ref = None
    if item.get("field") is not None:
        ref = _field_ref(entity, item["field"], f"{where}.field")
        if fn != "count" and ref.type not in AGG_TYPES[fn]:
            raise ValidationError(f"{where}.field", f"{fn} does not apply to {ref.path} "
                                                    f"({ref.type}); it takes "
                                                    f"{' or '.join(AGG_TYPES[fn])} fields")
    elif fn != "count":
        raise ValidationError(f"{where}.field", f"{fn} needs a field")
    default = "count" if ref is None else f"{fn}_{ref.path.replace('.', '_')}"
    return Aggregate(fn, ref, _output_name(item.get("as", default), f"{where}.as"))


def _output_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(where, "a name must be lowercase letters, digits and _ "
                                     "(starting with a letter, at most 40)")
    return value


def _group(entity: Entity, item: Any, where: str) -> Group:
    if isinstance(item, str):
        item = {"field": item}
    if not isinstance(item, dict):
        raise ValidationError(where, 'must be a field name or an object like {"field": '
                                     '"received_on", "bucket": "month"}')
    for key in item:
        if key not in ("field", "bucket", "as"):
            raise ValidationError(where, f"unknown key {_show(key)}; allowed: field, bucket, as")
    ref = _field_ref(entity, item.get("field"), f"{where}.field")
    if ref.type not in GROUPABLE:
        raise ValidationError(f"{where}.field", f"cannot group by {ref.path} ({ref.type}); "
                                                f"group by {', '.join(GROUPABLE)} fields")
    bucket = item.get("bucket")
    if bucket is not None:
        if ref.type not in (DATE, DATETIME):
            raise ValidationError(f"{where}.bucket", f"buckets apply to dates; {ref.path} is "
                                                     f"{ref.type}")
        if not isinstance(bucket, str) or bucket not in BUCKETS:
            raise ValidationError(f"{where}.bucket", f"{_show(bucket)} is not a bucket; one of: "
                                                     f"{', '.join(BUCKETS)}")
    elif ref.type == DATETIME:
        raise ValidationError(f"{where}.bucket", f"{ref.path} is a date and time: give a "
                                                 f"bucket ({', '.join(BUCKETS)})")
    default = ref.path.replace(".", "_") + (f"_{bucket}" if bucket else "")
    return Group(ref, bucket, _output_name(item.get("as", default), f"{where}.as"))


def _sort(entity: Entity, item: Any, where: str, fields: tuple[FieldRef, ...],
          groups: list[Group], aggregates: list[Aggregate]) -> SortKey:
    if isinstance(item, str):
        item = {"field": item}
    if not isinstance(item, dict):
        raise ValidationError(where, 'must be an object like {"field": "due_date", "dir": "asc"}')
    for key in item:
        if key not in ("field", "dir"):
            raise ValidationError(where, f"unknown key {_show(key)}; allowed: field, dir")
    direction = item.get("dir", "asc")
    if direction not in ("asc", "desc"):
        raise ValidationError(f"{where}.dir", f"{_show(direction)} is not a direction; asc or desc")
    name = item.get("field")
    if aggregates:
        names = [g.name for g in groups] + [a.name for a in aggregates]
        by_path = {g.ref.path: g.name for g in groups}
        if isinstance(name, str) and name in by_path and name not in names:
            name = by_path[name]
        if not isinstance(name, str) or name not in names:
            raise ValidationError(f"{where}.field", f"sort a summary by one of its columns: "
                                                    f"{', '.join(names)}; not {_show(name)}")
        return SortKey(name, direction == "desc")
    ref = _field_ref(entity, name, f"{where}.field")
    if ref.type not in SORTABLE:
        raise ValidationError(f"{where}.field", f"cannot sort by {ref.path} ({ref.type})")
    return SortKey(ref.path, direction == "desc", ref)


def _limit(value: Any) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    if value < 1:
        raise ValidationError("limit", f"must be at least 1 (at most {MAX_LIMIT})")
    if value > MAX_LIMIT:
        raise ValidationError("limit", f"{value:,} is more than the {MAX_LIMIT:,} rows a query "
                                       "may return; use a smaller limit, narrow the where, or "
                                       "summarise with aggregate (count, sum)")
    return value


def _unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(where, f"{_show(name)} appears twice; give each column its "
                                         "own name (\"as\")")
        seen.add(name)
