"""search index (FTS5 on SQLite, tsvector + GIN on PostgreSQL) with sync triggers

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from core import search_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for stmt in search_schema.create_table_statements(dialect, detail="full"):
        op.execute(stmt)
    for stmt in search_schema.create_trigger_statements(dialect):
        op.execute(stmt)
    for stmt in search_schema.rebuild_statements(dialect):
        op.execute(stmt)


def downgrade() -> None:
    for stmt in search_schema.drop_statements(op.get_bind().dialect.name):
        op.execute(stmt)
