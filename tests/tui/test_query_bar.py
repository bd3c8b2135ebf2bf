"""The query bar (F3): a structured query typed as JSON runs read-only and shows its rows as
literal text; a query aimed at an internal table, or broken JSON, is refused in plain words
and nothing is read or written."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from textual.widgets import TextArea

from core import clients
from core.clients import ClientData
from core.models import AuditEvent
from tests.tui.support import make_app, notices, paste, screen_text, settle, wait_until
from tui.screens.query_bar import QueryBarScreen, SchemaScreen

CLIENTS = {"entity": "clients", "fields": ["name", "status"],
           "sort": [{"field": "name", "dir": "asc"}]}


def _audit_count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


async def _run(pilot, query: str) -> None:
    await paste(pilot, query)  # replaces the selected example
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_a_valid_query_shows_its_rows_as_literal_text(ui_db):
    clients.create_client(ui_db, ClientData(name="Acme [bold]Dental[/]", status="active"))
    clients.create_client(ui_db, ClientData(name="Brook Farm", status="lead"))
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, QueryBarScreen)
                         and isinstance(app.focused, TextArea), "the query bar")
        screen = app.screen
        assert isinstance(screen, QueryBarScreen)
        await _run(pilot, json.dumps(CLIENTS))

        assert screen.rows_shown() == [["Acme [bold]Dental[/]", "active"],
                                       ["Brook Farm", "lead"]]
        shown = screen_text(app)
        assert "Acme [bold]Dental[/]" in shown  # the brackets are data, not markup
        assert "2 rows" in shown

        # F2 shows the whitelist; escape goes back to the query
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, SchemaScreen)
        assert "days_overdue" in screen_text(app) or "ENTITIES" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, QueryBarScreen)


async def test_an_internal_table_is_refused_in_plain_words_and_nothing_changes(ui_db):
    clients.create_client(ui_db, ClientData(name="Brook Farm"))
    writes = _audit_count(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, QueryBarScreen)
                         and isinstance(app.focused, TextArea), "the query bar")
        screen = app.screen
        assert isinstance(screen, QueryBarScreen)
        await _run(pilot, json.dumps(CLIENTS))
        assert screen.rows_shown() == [["Brook Farm", "active"]]

        await pilot.press("f7")  # select all, then replace
        await _run(pilot, '{"entity": "audit_events"}')
        message = "'audit_events' is not something a query can read"
        assert any(message in n for n in notices(app))
        assert "Not run: Entity: 'audit_events'" in screen_text(app)
        assert screen.rows_shown() == [["Brook Farm", "active"]]  # the last rows stay

        await pilot.press("f7")
        await _run(pilot, '{"entity": "clients", where: [}')
        assert "Not run: Query: is not valid JSON" in screen_text(app)
    assert _audit_count(ui_db) == writes
