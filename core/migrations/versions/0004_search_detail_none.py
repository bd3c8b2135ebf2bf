"""search index on SQLite: FTS5 ``detail = none`` (row ids only in the doclists)

Search only ever asks for prefix terms joined by AND, which needs no token positions; without
them the index is a third of the size and a two-word search is ~20x faster at a million
clients (see bench/README.md). FTS5 cannot change ``detail`` in place, so the table is made
again and refilled from the source tables, with its triggers. PostgreSQL is unchanged.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from core import search_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _remake(detail: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for stmt in search_schema.drop_statements("sqlite"):
        op.execute(stmt)
    for stmt in search_schema.create_table_statements("sqlite", detail=detail):
        op.execute(stmt)
    for stmt in search_schema.create_trigger_statements("sqlite"):
        op.execute(stmt)
    for stmt in search_schema.rebuild_statements("sqlite"):
        op.execute(stmt)
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


def upgrade() -> None:
    _remake("none")


def downgrade() -> None:
    _remake("full")
