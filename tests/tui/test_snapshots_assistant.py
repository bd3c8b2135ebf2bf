"""Snapshot of the assistant screen (pytest-textual-snapshot) after one scripted answer from
the fake provider: the question, the answer as plain text, the query that ran and a proposed
action waiting for the owner (highlighted, x would ask to do it), at 100×30 with fixed data
and a fixed ``today``.

Review a changed picture with ``pytest --snapshot-report``; accept it with
``pytest tests/tui/test_snapshots_assistant.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from core import business, clients, migrate
from core.clients import ClientData
from core.db import Database
from tests.fakes.ai_server import TEST_KEY, FakeAI, query, text, tool
from tests.tui.support import settle, type_text, wait_until
from tests.tui.test_assistant_screen import assistant_app
from tui.screens.assistant import AssistantScreen


@pytest.fixture(autouse=True)
def _fixed_theme(monkeypatch):
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    monkeypatch.setenv("TSSG_CRM_AI_API_KEY", TEST_KEY)


def test_assistant_with_an_answer(snap_compare, tmp_path):
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    business.update(db, "business", {"name": "Sparkle Cleaning Co"})
    acme = clients.create_client(db, ClientData(name="Acme Dental [Main]", status="active"))
    clients.create_client(db, ClientData(name="Brook Farm", status="lead"))
    with FakeAI() as ai:
        ai.script(
            query({"entity": "clients", "fields": ["name", "status"],
                   "sort": [{"field": "name", "dir": "asc"}]}),
            tool("propose_action", {"kind": "create_task", "client_id": acme,
                                    "title": "Call Acme about the spring deep clean",
                                    "due_date": "+3d"}),
            text("You have 2 clients: Acme Dental [Main] (active) and Brook Farm (a lead).\n"
                 "I proposed a task to call Acme; it happens only if you confirm it."))
        app = assistant_app(db, ai)

        async def ask(pilot) -> None:
            await settle(pilot)
            await pilot.press("f4")
            await wait_until(pilot, lambda: isinstance(app.screen, AssistantScreen)
                             and app.screen.checked, "the assistant")
            await type_text(pilot, "Who are my clients?")
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("y")
            await wait_until(pilot, lambda: len(ai.model_requests) == 3
                             and not app.screen.busy, "the answer")  # type: ignore[attr-defined]
            app.clear_notifications()
            await pilot.press("down")  # to the proposed action (and no blinking text cursor)
            await settle(pilot)

        try:
            assert snap_compare(app, terminal_size=(100, 30), run_before=ask)
        finally:
            db.dispose()
