"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:00:32.895441
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_audit_events_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sort_name", sa.String(length=300), nullable=False),
        sa.Column("company_name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("custom_fields", sa.Text(), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('person','company')", name=op.f("ck_clients_kind")),
        sa.CheckConstraint(
            "status IN ('lead','active','archived')", name=op.f("ck_clients_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index("ix_clients_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_clients_sort_name_id", ["sort_name", "id"], unique=False)
        batch_op.create_index(
            "ix_clients_status_sort_name_id", ["status", "sort_name", "id"], unique=False
        )

    op.create_table(
        "number_sequences",
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("next_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("doc_type", "scope", name=op.f("pk_number_sequences")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
        sa.UniqueConstraint("name", name=op.f("uq_tax_rates_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner','admin','office','technician')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("line1", sa.String(length=300), nullable=False),
        sa.Column("line2", sa.String(length=300), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("region", sa.String(length=120), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("validated_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('billing','service')", name=op.f("ck_addresses_kind")),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_addresses_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_addresses_line1_id", ["line1", "id"], unique=False)

    op.create_table(
        "client_tags",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_tags_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "tag", name=op.f("pk_client_tags")),
    )
    with op.batch_alter_table("client_tags", schema=None) as batch_op:
        batch_op.create_index("ix_client_tags_tag", ["tag", "client_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("phone_national", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("sms_opted_out_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_contacts_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_contacts_email", ["email"], unique=False)
        batch_op.create_index("ix_contacts_name_id", ["name", "id"], unique=False)
        batch_op.create_index("ix_contacts_phone", ["phone"], unique=False)

    op.create_table(
        "price_book_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"],
            ["tax_rates.id"],
            name=op.f("fk_price_book_items_tax_rate_id_tax_rates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_book_items")),
    )
    with op.batch_alter_table("price_book_items", schema=None) as batch_op:
        batch_op.create_index("ix_price_book_items_name", ["name"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("linked_type", sa.String(length=20), nullable=True),
        sa.Column("linked_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("priority IN ('low','normal','high')", name=op.f("ck_tasks_priority")),
        sa.CheckConstraint("status IN ('open','done')", name=op.f("ck_tasks_status")),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tasks_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_tasks_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_tasks_status_due", ["status", "due_date", "id"], unique=False)

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("deposit_kind", sa.String(length=10), nullable=False),
        sa.Column("deposit_value", sa.String(length=40), nullable=False),
        sa.Column("changes_requested", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rounding_rule", sa.String(length=30), nullable=False),
        sa.Column("discount_kind", sa.String(length=10), nullable=False),
        sa.Column("discount_value", sa.String(length=40), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft','sent','approved','declined')", name=op.f("ck_proposals_status")
        ),
        sa.ForeignKeyConstraint(
            ["address_id"], ["addresses.id"], name=op.f("fk_proposals_address_id_addresses")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_proposals_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("number", name=op.f("uq_proposals_number")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index("ix_proposals_client_id", ["client_id", "id"], unique=False)
        batch_op.create_index("ix_proposals_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_proposals_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_proposals_total_id", ["total_cents", "id"], unique=False)
        batch_op.create_index("ix_proposals_sent_at_id", ["sent_at", "id"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("held_from", sa.String(length=20), nullable=True),
        sa.Column("billing", sa.String(length=10), nullable=False),
        sa.Column("recurrence", sa.String(length=20), nullable=False),
        sa.Column("recurrence_interval", sa.Integer(), nullable=False),
        sa.Column("recurrence_until", sa.Date(), nullable=True),
        sa.Column("recurrence_count", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rounding_rule", sa.String(length=30), nullable=False),
        sa.Column("discount_kind", sa.String(length=10), nullable=False),
        sa.Column("discount_value", sa.String(length=40), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("billing IN ('per_job','per_visit')", name=op.f("ck_jobs_billing")),
        sa.CheckConstraint(
            "status IN ('unscheduled','scheduled','in_progress','completed','invoiced','cancelled','on_hold')",
            name=op.f("ck_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["address_id"], ["addresses.id"], name=op.f("fk_jobs_address_id_addresses")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_jobs_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_jobs_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("number", name=op.f("uq_jobs_number")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_client_id", ["client_id", "id"], unique=False)
        batch_op.create_index("ix_jobs_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_jobs_title_id", ["title", "id"], unique=False)
        batch_op.create_index("ix_jobs_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "proposal_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price_book_item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("tax_rate", sa.String(length=40), nullable=False),
        sa.Column("discount_kind", sa.String(length=10), nullable=False),
        sa.Column("discount_value", sa.String(length=40), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["price_book_item_id"],
            ["price_book_items.id"],
            name=op.f("fk_proposal_lines_price_book_item_id_price_book_items"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_lines_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"], ["tax_rates.id"], name=op.f("fk_proposal_lines_tax_rate_id_tax_rates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_lines")),
    )
    with op.batch_alter_table("proposal_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_lines_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("terms_days", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("paid_cents", sa.Integer(), nullable=False),
        sa.Column("credited_cents", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rounding_rule", sa.String(length=30), nullable=False),
        sa.Column("discount_kind", sa.String(length=10), nullable=False),
        sa.Column("discount_value", sa.String(length=40), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('standard','deposit')", name=op.f("ck_invoices_kind")),
        sa.CheckConstraint(
            "status IN ('draft','issued','partially_paid','paid','void')",
            name=op.f("ck_invoices_status"),
        ),
        sa.CheckConstraint("balance_cents >= 0", name=op.f("ck_invoices_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_invoices_client_id_clients")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_invoices_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_invoices_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_client_id", ["client_id", "id"], unique=False)
        batch_op.create_index(
            "ix_invoices_issue_date", ["issue_date", "id", "status", "total_cents"], unique=False
        )
        batch_op.create_index("ix_invoices_issued_at_id", ["issued_at", "id"], unique=False)
        batch_op.create_index("ix_invoices_due_date_id", ["due_date", "id"], unique=False)
        batch_op.create_index("ix_invoices_total_id", ["total_cents", "id"], unique=False)
        batch_op.create_index("ix_invoices_balance_id", ["balance_cents", "id"], unique=False)
        batch_op.create_index(
            "ix_invoices_open_client",
            ["client_id", "balance_cents", "due_date", "status"],
            unique=False,
            sqlite_where=sa.text("status IN ('issued','partially_paid')"),
            postgresql_where=sa.text("status IN ('issued','partially_paid')"),
        )
        batch_op.create_index(
            "ix_invoices_open_due",
            ["due_date", "client_id", "balance_cents", "status"],
            unique=False,
            sqlite_where=sa.text("status IN ('issued','partially_paid')"),
            postgresql_where=sa.text("status IN ('issued','partially_paid')"),
        )
        batch_op.create_index("ix_invoices_status_id", ["status", "id"], unique=False)

    op.create_table(
        "credit_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voids_invoice", sa.Boolean(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_credit_notes_amount_positive")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_credit_notes_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
    )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_notes_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_credit_notes_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "job_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price_book_item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("tax_rate", sa.String(length=40), nullable=False),
        sa.Column("discount_kind", sa.String(length=10), nullable=False),
        sa.Column("discount_value", sa.String(length=40), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_job_lines_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_lines_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["price_book_item_id"],
            ["price_book_items.id"],
            name=op.f("fk_job_lines_price_book_item_id_price_book_items"),
        ),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"], ["tax_rates.id"], name=op.f("fk_job_lines_tax_rate_id_tax_rates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_lines")),
    )
    with op.batch_alter_table("job_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_lines_job_id"), ["job_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("stripe_session_id", sa.String(length=200), nullable=True),
        sa.Column("stripe_payment_intent", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "method IN ('cash','check','bank','card','stripe','credit')",
            name=op.f("ck_payments_method"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents",
            name=op.f("ck_payments_refund_le"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_payments_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("stripe_session_id", name=op.f("uq_payments_stripe_session_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(
            "ix_payments_received_on", ["received_on", "id", "amount_cents", "method"], unique=False
        )
        batch_op.create_index("ix_payments_amount_id", ["amount_cents", "id"], unique=False)

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled','in_progress','completed','cancelled')",
            name=op.f("ck_visits_status"),
        ),
        sa.CheckConstraint("ends_at >= starts_at", name=op.f("ck_visits_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_visits_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_visits_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_visits_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_job_id", ["job_id", "starts_at"], unique=False)
        batch_op.create_index("ix_visits_starts_at", ["starts_at", "id"], unique=False)

    op.create_table(
        "client_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_credits_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_client_credits_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_client_credits_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_credits")),
    )
    with op.batch_alter_table("client_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_credits_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("job_line_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price_book_item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("tax_rate_id", sa.Integer(), nullable=True),
        sa.Column("tax_rate", sa.String(length=40), nullable=False),
        sa.Column("discount_kind", sa.String(length=10), nullable=False),
        sa.Column("discount_value", sa.String(length=40), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_line_id"], ["job_lines.id"], name=op.f("fk_invoice_lines_job_line_id_job_lines")
        ),
        sa.ForeignKeyConstraint(
            ["price_book_item_id"],
            ["price_book_items.id"],
            name=op.f("fk_invoice_lines_price_book_item_id_price_book_items"),
        ),
        sa.ForeignKeyConstraint(
            ["tax_rate_id"], ["tax_rates.id"], name=op.f("fk_invoice_lines_tax_rate_id_tax_rates")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_invoice_lines_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refunded_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_refunds_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)

    op.create_table(
        "service_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("minutes_spent", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("logged_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_service_logs_client_id_clients")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_service_logs_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["users.id"], name=op.f("fk_service_logs_technician_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_service_logs_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_logs")),
    )
    with op.batch_alter_table("service_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_logs_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_logs_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_logs_visit_id"), ["visit_id"], unique=False)
        batch_op.create_index("ix_service_logs_logged_on_id", ["logged_on", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_service_logs_logged_on_id")
        batch_op.drop_index(batch_op.f("ix_service_logs_visit_id"))
        batch_op.drop_index(batch_op.f("ix_service_logs_job_id"))
        batch_op.drop_index(batch_op.f("ix_service_logs_client_id"))

    op.drop_table("service_logs")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_invoice_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("client_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_credits_client_id"))

    op.drop_table("client_credits")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_starts_at")
        batch_op.drop_index("ix_visits_job_id")

    op.drop_table("visits")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_amount_id")
        batch_op.drop_index("ix_payments_received_on")
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payments_client_id"))

    op.drop_table("payments")
    with op.batch_alter_table("job_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_lines_job_id"))

    op.drop_table("job_lines")
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_notes_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_credit_notes_client_id"))

    op.drop_table("credit_notes")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_balance_id")
        batch_op.drop_index("ix_invoices_total_id")
        batch_op.drop_index("ix_invoices_due_date_id")
        batch_op.drop_index("ix_invoices_issued_at_id")
        batch_op.drop_index("ix_invoices_status_id")
        batch_op.drop_index(
            "ix_invoices_open_due",
            sqlite_where=sa.text("status IN ('issued','partially_paid')"),
            postgresql_where=sa.text("status IN ('issued','partially_paid')"),
        )
        batch_op.drop_index(
            "ix_invoices_open_client",
            sqlite_where=sa.text("status IN ('issued','partially_paid')"),
            postgresql_where=sa.text("status IN ('issued','partially_paid')"),
        )
        batch_op.drop_index("ix_invoices_issue_date")
        batch_op.drop_index("ix_invoices_client_id")

    op.drop_table("invoices")
    with op.batch_alter_table("proposal_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_lines_proposal_id"))

    op.drop_table("proposal_lines")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_created_at_id")
        batch_op.drop_index("ix_jobs_title_id")
        batch_op.drop_index("ix_jobs_status_id")
        batch_op.drop_index("ix_jobs_client_id")

    op.drop_table("jobs")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_proposals_sent_at_id")
        batch_op.drop_index("ix_proposals_total_id")
        batch_op.drop_index("ix_proposals_created_at_id")
        batch_op.drop_index("ix_proposals_status_id")
        batch_op.drop_index("ix_proposals_client_id")

    op.drop_table("proposals")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status_due")
        batch_op.drop_index(batch_op.f("ix_tasks_client_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("price_book_items", schema=None) as batch_op:
        batch_op.drop_index("ix_price_book_items_name")

    op.drop_table("price_book_items")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_name_id")
        batch_op.drop_index("ix_contacts_phone")
        batch_op.drop_index("ix_contacts_email")
        batch_op.drop_index(batch_op.f("ix_contacts_client_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("client_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_client_tags_tag")

    op.drop_table("client_tags")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_addresses_line1_id")
        batch_op.drop_index(batch_op.f("ix_addresses_client_id"))

    op.drop_table("addresses")
    op.drop_table("users")
    op.drop_table("tax_rates")
    op.drop_table("settings")
    op.drop_table("number_sequences")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index("ix_clients_status_sort_name_id")
        batch_op.drop_index("ix_clients_sort_name_id")
        batch_op.drop_index("ix_clients_created_at_id")

    op.drop_table("clients")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_entity")
        batch_op.drop_index(batch_op.f("ix_audit_events_client_id"))

    op.drop_table("audit_events")
