"""What the first screen shows, read with the standard library's ``sqlite3`` before
SQLAlchemy is loaded.

Importing SQLAlchemy and mapping the models takes longer than Textual needs to draw a whole
screen. On the embedded SQLite database at the current schema, ``tssg-crm`` therefore reads
the business name and currency and the Clients list's first page here, shows them, and
loads the rest of the app (:func:`core.runtime.open_runtime`) after that first frame.
Anything else (a PostgreSQL URL, a missing file, a database that needs migrating or that
cannot be read) returns ``None`` and the app starts the ordinary way, migrating first.

The page is exactly :func:`core.lists.list_clients`'s first page of the default view
(archived hidden, by name), cursor included; a test holds the two to the same rows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from core.paging import Page
from core.revisions import head_revision
from core.rows import ClientRow

SQLITE_HEADER = b"SQLite format 3\x00"

# core.lists.list_clients(status=None, sort="name") as SQLAlchemy compiles it for SQLite
_FIRST_CLIENTS = """
SELECT c.id, c.name, c.company_name, c.kind, c.status,
       coalesce((SELECT contacts.email FROM contacts WHERE contacts.client_id = c.id
                 ORDER BY contacts.is_primary DESC, contacts.id LIMIT 1), ''),
       coalesce((SELECT contacts.phone FROM contacts WHERE contacts.client_id = c.id
                 ORDER BY contacts.is_primary DESC, contacts.id LIMIT 1), ''),
       (SELECT coalesce(sum(invoices.balance_cents), 0) FROM invoices
         WHERE invoices.client_id = c.id AND invoices.status IN ('issued', 'partially_paid')),
       c.sort_name, c.id
  FROM clients AS c
 WHERE c.status != 'archived'
 ORDER BY c.sort_name ASC, c.id ASC
 LIMIT ?
"""


def is_sqlite_file(path: Path) -> bool:
    """True when ``path`` starts with the SQLite header (an empty file counts as new, not SQLite)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


@dataclass(frozen=True)
class FirstLook:
    business_name: str
    currency: str
    clients: Page[ClientRow]  # the default view's first page


def first_look(database: str, page_size: int) -> FirstLook | None:
    """Read the first screen from ``database`` (a file path, not a URL), or None when the app
    must start the ordinary way."""
    if "://" in database:
        return None
    path = Path(database).expanduser()
    if not path.is_file() or not is_sqlite_file(path):
        return None
    try:
        conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA query_only = 1")
        conn.execute("BEGIN")  # one snapshot for all three reads
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if version is None or version[0] != head_revision():
            return None
        stored = conn.execute("SELECT value FROM settings WHERE key = 'business'").fetchone()
        business = json.loads(stored[0]) if stored and stored[0] else {}
        if not isinstance(business, dict):
            return None  # not what this build writes: the ordinary start says what is wrong
        rows = conn.execute(_FIRST_CLIENTS, (page_size + 1,)).fetchall()
        conn.execute("COMMIT")
    except (sqlite3.Error, ValueError):  # no such table, a corrupt value: the ordinary way says
        return None
    finally:
        conn.close()
    more = len(rows) > page_size
    rows = rows[:page_size]
    page = Page(
        [ClientRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7])) for r in rows],
        (rows[-1][-2], rows[-1][-1]) if more and rows else None,
    )
    return FirstLook(
        business_name=str(business.get("name") or ""),
        currency=str(business.get("currency") or "USD"),
        clients=page,
    )
