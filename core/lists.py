"""Keyset-paged list queries, one per entity, each returning plain row dataclasses.

Filters are optional keyword arguments; ``sort`` names one of the sorts the list offers.
See :mod:`core.paging` for how pages and cursors work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.db import Database
from core.errors import ValidationError
from core.models import Client, ClientTag, Contact, Invoice
from core.paging import DEFAULT_PAGE_SIZE, Cursor, Page, fetch_page

OPEN_STATUSES = ("issued", "partially_paid")


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    company_name: str
    kind: str
    status: str
    email: str
    phone: str
    balance_cents: int


CLIENT_SORTS = ("name", "created")


def _primary_contact_col(column):
    return (
        select(column)
        .where(Contact.client_id == Client.id)
        .order_by(Contact.is_primary.desc(), Contact.id)
        .limit(1)
        .scalar_subquery()
    )


def client_balance_expr():
    """Sum of open invoice balances for the row's client (uses the partial index)."""
    return (
        select(func.coalesce(func.sum(Invoice.balance_cents), 0))
        .where(Invoice.client_id == Client.id, Invoice.status.in_(OPEN_STATUSES))
        .scalar_subquery()
    )


def list_clients(
    db: Database,
    *,
    status: str | None = None,
    tag: str | None = None,
    sort: str = "name",
    descending: bool = False,
    cursor: Cursor | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    include_archived: bool = False,
) -> Page[ClientRow]:
    if sort not in CLIENT_SORTS:
        raise ValidationError("sort", f"must be one of: {', '.join(CLIENT_SORTS)}")
    key = Client.sort_name if sort == "name" else Client.created_at
    stmt = select(
        Client.id,
        Client.name,
        Client.company_name,
        Client.kind,
        Client.status,
        func.coalesce(_primary_contact_col(Contact.email), ""),
        func.coalesce(_primary_contact_col(Contact.phone), ""),
        client_balance_expr(),
        key,
    )
    if status:
        stmt = stmt.where(Client.status == status)
    elif not include_archived:
        stmt = stmt.where(Client.status != "archived")
    if tag:
        stmt = stmt.where(
            Client.id.in_(select(ClientTag.client_id).where(ClientTag.tag == tag.strip().lower()))
        )
    with db.read() as s:
        return fetch_page(
            s,
            stmt,
            [key, Client.id],
            cursor=cursor,
            limit=limit,
            descending=descending,
            to_row=lambda r: ClientRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7])),
            key_of=lambda r: (_jsonable(r[8]), r[0]),
        )


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
