"""The structured query language (DESIGN section 6): a whitelisted JSON query over the
business's records, validated, compiled with bound parameters and run read-only.

The same queries serve ``tssg-crm query``, the TUI's query bar and the AI assistant, which
never sees the database. Parts: :mod:`.schema` (the whitelist), :mod:`.validator`,
:mod:`.compiler`, :mod:`.execute`, :mod:`.describe` (what people and models are told).
"""

from core.query.compiler import Compiled, OutputColumn, compile_query
from core.query.describe import query_json_schema, schema_text
from core.query.execute import (
    QueryRefused,
    QueryResult,
    display,
    read_only_connection,
    run_query,
)
from core.query.schema import ENTITIES, TOP_LEVEL
from core.query.validator import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Query,
    parse_date_value,
    parse_query,
    relative_date,
    validate_query,
)

__all__ = [
    "DEFAULT_LIMIT",
    "ENTITIES",
    "MAX_LIMIT",
    "TOP_LEVEL",
    "Compiled",
    "OutputColumn",
    "Query",
    "QueryRefused",
    "QueryResult",
    "compile_query",
    "display",
    "parse_date_value",
    "parse_query",
    "query_json_schema",
    "read_only_connection",
    "relative_date",
    "run_query",
    "schema_text",
    "validate_query",
]
