"""settings carry a version (stale saves refused); credit-note numbers are searchable;
indexes for jobs by amount and tasks by title

``settings.version`` starts at 1 for the rows there are (core.business counts a key never
saved as version 0). The search index gets credit notes (number, client; a hit opens the
invoice credited): triggers and the existing rows. PostgreSQL's ``kind`` column is widened
for the name ``credit_note``. Only credit-note triggers and rows are touched: the other
kinds keep theirs. ``ix_jobs_total_id`` and ``ix_tasks_title_id`` serve the list sorts of
core.lists (jobs by amount, tasks by title) without sorting the whole table.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core import search_schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KINDS = ("credit_note",)


def upgrade() -> None:
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default="1")
        )
    dialect = op.get_bind().dialect.name
    if dialect != "sqlite":
        op.execute("ALTER TABLE search_index ALTER COLUMN kind TYPE VARCHAR(20)")
    # a database made by this build's 0002 has them already: made again either way
    for stmt in search_schema.drop_trigger_statements(dialect, KINDS):
        op.execute(stmt)
    for stmt in search_schema.create_trigger_statements(dialect, KINDS):
        op.execute(stmt)
    for stmt in search_schema.rebuild_statements(dialect, KINDS):
        op.execute(stmt)
    op.create_index("ix_jobs_total_id", "jobs", ["total_cents", "id"])
    op.create_index("ix_tasks_title_id", "tasks", ["title", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_title_id", table_name="tasks")
    op.drop_index("ix_jobs_total_id", table_name="jobs")
    dialect = op.get_bind().dialect.name
    for stmt in search_schema.drop_trigger_statements(dialect, KINDS):
        op.execute(stmt)
    index = "search_fts" if dialect == "sqlite" else "search_index"
    op.execute(f"DELETE FROM {index} WHERE kind = 'credit_note'")  # noqa: S608 - constants
    if dialect != "sqlite":
        op.execute("ALTER TABLE search_index ALTER COLUMN kind TYPE VARCHAR(10)")
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("version")
