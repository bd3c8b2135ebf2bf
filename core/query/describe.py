"""The query language described for people and models: :func:`schema_text` is what
``tssg-crm query --schema`` prints and, word for word, what the AI model is told;
:func:`query_json_schema` is the JSON Schema a provider's tool declares for its input.
Both are generated from the whitelist, so they cannot drift from what the validator accepts.
"""

from __future__ import annotations

from typing import Any

from core.query.schema import (
    AGG_TYPES,
    AGGREGATE_FUNCTIONS,
    BUCKETS,
    ENTITIES,
    ENUM,
    OPERATORS,
    OPS_BY_TYPE,
    TOP_LEVEL,
    Entity,
)
from core.query.validator import DATE_FORMS, DEFAULT_LIMIT, MAX_LIMIT

_HEADER = f"""\
STRUCTURED QUERY LANGUAGE

A query is one JSON object. To list records:
  {{"entity": "invoices",
   "fields": ["number", "client.name", "balance", "due_date"],
   "where": [{{"field": "status", "op": "in", "value": ["issued", "partially_paid"]}},
             {{"field": "days_overdue", "op": "gt", "value": 60}}],
   "sort": [{{"field": "balance", "dir": "desc"}}],
   "limit": 50}}
To summarise (count, add up, average) instead:
  {{"entity": "payments",
   "aggregate": [{{"fn": "sum", "field": "amount", "as": "total"}}],
   "group_by": [{{"field": "received_on", "bucket": "month"}}],
   "where": [{{"field": "received_on", "op": "gte", "value": "-365d"}}]}}

Rules:
- entity is required, one of:
  {", ".join(TOP_LEVEL)}.
- fields: the columns to return (default: a few useful ones). A related record's field is
  written relation.field, one step only, e.g. "client.name".
- where: every condition must hold. The operators are
  {" ".join(OPERATORS)}; which apply depends on the field's type:
{chr(10).join(f"    {kind}: {' '.join(ops)}" for kind, ops in OPS_BY_TYPE.items())}
  "in" takes a list; "between" takes [from, to] (both included); "is_null" takes true (empty)
  or false (has a value). contains and startswith ignore case; eq on text is exact.
- Values: text as strings; money as decimal strings in the business currency ("500",
  "1250.00"); whole numbers as numbers; true/false; dates as
  {DATE_FORMS}.
  A date compared with a date-and-time field covers that whole day.
- sort: a list of {{"field", "dir": "asc"|"desc"}}; empty values sort last.
- limit: 1 to {MAX_LIMIT}, default {DEFAULT_LIMIT}. For totals or counts use aggregate, not a
  long list.
- aggregate: a list of {{"fn", "field", "as"}}; fn is {", ".join(AGGREGATE_FUNCTIONS)}.
  count needs no field; the others take fields of these types:
  {"; ".join(f"{fn}: {'/'.join(types)}" for fn, types in AGG_TYPES.items())}.
  With aggregate, leave out fields: the result has one row per group with the group_by
  columns and the aggregates (named by "as").
- group_by: a list of field names or {{"field", "bucket"}}; bucket ({", ".join(BUCKETS)}) groups
  a date by day (2026-03-31), week (its Monday, 2026-03-30), month (2026-03) or year (2026);
  a date-and-time field needs a bucket. group_by without aggregate counts rows per group.
  Groups without rows do not appear.
- Results: money is a decimal string in the business currency, dates are ISO (2026-03-31),
  dates and times are 2026-03-31T14:00:00 (local time), tags are lists.
"""


def _entity_text(entity: Entity) -> str:
    lines = [f"{entity.name}: {entity.description}"]
    for f in entity.fields.values():
        kind = f"enum: {', '.join(f.values)}" if f.type == ENUM else f.type
        lines.append(f"  {f.name} ({kind}): {f.description}")
    for name, rel in entity.relations.items():
        target = ENTITIES[rel.target]
        lines.append(f"  {name}.<field>: {rel.description}; any field of {target.name}")
    return "\n".join(lines)


def schema_text() -> str:
    """The whole language, and every entity with its fields (what the model is told)."""
    parts = [_HEADER, "ENTITIES AND FIELDS", ""]
    for name in TOP_LEVEL:
        parts.append(_entity_text(ENTITIES[name]))
        parts.append("")
    parts.append(_entity_text(ENTITIES["staff"]).replace(
        "staff:", "staff (reachable only as a related record, e.g. assignee.name):", 1))
    return "\n".join(parts) + "\n"


def query_json_schema() -> dict[str, Any]:
    """JSON Schema of a query, for a provider's tool declaration (the validator is the
    judge; this only guides the model)."""
    condition = {
        "type": "object",
        "properties": {"field": {"type": "string"}, "op": {"type": "string", "enum": list(OPERATORS)},
                       "value": {}},
        "required": ["field", "op"],
    }
    return {
        "type": "object",
        "properties": {
            "entity": {"type": "string", "enum": list(TOP_LEVEL)},
            "fields": {"type": "array", "items": {"type": "string"}},
            "where": {"type": "array", "items": condition},
            "sort": {"type": "array", "items": {
                "type": "object",
                "properties": {"field": {"type": "string"},
                               "dir": {"type": "string", "enum": ["asc", "desc"]}},
                "required": ["field"]}},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "aggregate": {"type": "array", "items": {
                "type": "object",
                "properties": {"fn": {"type": "string", "enum": list(AGGREGATE_FUNCTIONS)},
                               "field": {"type": "string"}, "as": {"type": "string"}},
                "required": ["fn"]}},
            "group_by": {"type": "array", "items": {
                "type": "object",
                "properties": {"field": {"type": "string"},
                               "bucket": {"type": "string", "enum": list(BUCKETS)},
                               "as": {"type": "string"}},
                "required": ["field"]}},
        },
        "required": ["entity"],
    }
