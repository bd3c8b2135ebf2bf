"""The quick start's first screen (core.first_look): the same rows as core.lists, or None
whenever the app must start the ordinary way. SQLite only: it is the embedded database's
quick path (PostgreSQL always starts the ordinary way, checked below)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core import business, clients, invoices
from core.db import Database
from core.first_look import first_look
from core.lists import list_clients
from core.revisions import head_revision
from core.text import clean_line
from tests.core.factories import line, make_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_file(sqlite_template, tmp_path):
    target = tmp_path / "crm.sqlite3"
    shutil.copyfile(sqlite_template, target)
    os.chmod(target, 0o600)
    database = Database(str(target))
    yield database, target
    database.dispose()


def _book(db: Database, names: list[str]) -> None:
    """Clients with the things the list shows: contacts (the primary not first), open and
    paid invoices, archived clients (hidden), names that differ only in case (ties)."""
    for i, name in enumerate(names):
        contacts = [
            clients.ContactData(name="Second", email=f"second{i}@example.com", phone="+12175550100"),
            clients.ContactData(name="Main", email=f"main{i}@example.com", phone="+442071838750",
                                is_primary=i % 2 == 0),
        ] if i % 3 else []
        client_id = clients.create_client(db, clients.ClientData(name=name), contacts, [])
        if i % 4 == 1:
            invoice = invoices.create_blank(db, client_id, [line("Work", unit_price_cents=12_345 + i)])
            invoices.issue(db, invoice, dt.date(2026, 3, 1))
        if i % 7 == 3:
            clients.archive(db, client_id)


def _same_page(path: Path, db: Database, size: int) -> None:
    look = first_look(str(path), size)
    assert look is not None
    expected = list_clients(db, limit=size)
    assert look.clients.rows == expected.rows
    assert look.clients.next_cursor == expected.next_cursor
    settings = business.load(db, "business")
    assert (look.business_name, look.currency) == (settings["name"], settings["currency"])


def test_the_first_page_is_the_client_lists_first_page(sqlite_file, naughty_strings):
    db, path = sqlite_file
    names = [n for n in naughty_strings[::6] if 0 < len(clean_line(n)) <= 300] + ["acme", "Acme", "ACME", "Zoë Ward", "zoe ward", "Émile"]
    _book(db, names)
    business.update(db, "business", {"name": "Sparkle [b]Cleaning[/b]", "currency": "EUR"})
    for size in (1, 7, 40, len(names)):
        _same_page(path, db, size)
    # the page the list goes on to after the quick one is the same as the list's own
    look = first_look(str(path), 7)
    assert look is not None and look.clients.next_cursor is not None
    after_quick = list_clients(db, limit=7, cursor=look.clients.next_cursor)
    assert after_quick.rows == list_clients(db, limit=14).rows[7:]


def test_an_empty_book_and_a_book_not_set_up(sqlite_file):
    db, path = sqlite_file
    look = first_look(str(path), 100)
    assert look is not None
    assert look.clients.rows == [] and look.clients.next_cursor is None
    assert (look.business_name, look.currency) == ("", "USD")  # the defaults business.load gives
    make_client(db, "Only One")
    _same_page(path, db, 100)


def test_anything_else_starts_the_ordinary_way(sqlite_file, tmp_path):
    db, path = sqlite_file
    make_client(db, "Kept")
    db.dispose()
    assert first_look(str(tmp_path / "missing.sqlite3"), 10) is None
    assert first_look(f"sqlite:///{path}", 10) is None  # a URL: not the quick path
    assert first_look("postgresql://user@127.0.0.1/crm", 10) is None
    (tmp_path / "notes.txt").write_text("SQLite format 3 is not this", encoding="utf-8")
    assert first_look(str(tmp_path / "notes.txt"), 10) is None
    assert first_look(str(tmp_path), 10) is None  # a directory

    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    assert first_look(str(empty), 10) is None  # never migrated

    older = tmp_path / "older.sqlite3"
    shutil.copyfile(path, older)
    with sqlite3.connect(older) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0003'")
    assert first_look(str(older), 10) is None  # a migration to run first (with its backup)

    broken = tmp_path / "broken.sqlite3"
    shutil.copyfile(path, broken)
    with sqlite3.connect(broken) as conn:
        conn.execute("UPDATE settings SET value = '{not json' WHERE key = 'business'")
        if not conn.execute("SELECT 1 FROM settings WHERE key = 'business'").fetchone():
            conn.execute("INSERT INTO settings (key, value, updated_at) "
                         "VALUES ('business', '{not json', '2026-01-01')")
    assert first_look(str(broken), 10) is None  # the ordinary start reports what is wrong


def test_reading_the_first_look_writes_nothing(sqlite_file):
    db, path = sqlite_file
    make_client(db, "Untouched")
    db.dispose()
    before = path.read_bytes()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    look = first_look(str(path), 10)
    assert look is not None and [r.name for r in look.clients.rows] == ["Untouched"]
    assert path.read_bytes() == before


def test_the_first_screen_needs_no_sqlalchemy():
    """What the quick start imports before its first frame: the app, the client list, the
    first look. SQLAlchemy (and the models) must not be among them."""
    code = ("import sys, tui.cli, tui.app, tui.screens.clients, core.first_look; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlalchemy', 'alembic', 'phonenumbers', 'httpx', 'stripe', 'twilio')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
