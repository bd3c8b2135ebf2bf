"""The command palette (ctrl+p): open any record by name or number in its own section, run
any action from anywhere; actions without a screen are not offered; user data in prompts
is shown literally. SQLite only: search itself is tested on both backends in tests/core."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.command import CommandList

import tui.app
from core import invoices, proposals
from tests.core.factories import line, make_client, make_job, make_proposal
from tests.tui.support import TODAY, make_app, paste, screen_text, settle, wait_until
from tui.app import CrmApp, _coming_soon
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.client_form import ClientFormScreen
from tui.screens.clients import ClientListScreen
from tui.screens.reports import ReportsScreen


def _records(db) -> dict[str, int | str]:
    acme = make_client(db, "Acme Ltd")
    trap = make_client(db, "[@click=app.quit] Foo [/]")
    proposal = make_proposal(db, acme, title="Quarterly deep clean", today=TODAY)
    proposals.send_proposal(db, proposal, today=TODAY)
    job = make_job(db, acme, title="Gutter repair", today=TODAY)
    invoice = invoices.create_blank(db, acme, [line("Gutters", unit_price_cents=9_000)])
    number = invoices.issue(db, invoice, dt.date(2026, 3, 1))
    return {"acme": acme, "trap": trap, "proposal": proposal, "job": job, "invoice": invoice,
            "invoice_number": number}


def _options(app) -> list[tuple[str, str]]:
    """(text, help) of every command the palette lists right now."""
    command_list = app.screen.query_one(CommandList)
    out = []
    for i in range(command_list.option_count):
        hit = command_list.get_option_at_index(i).hit
        out.append((hit.text, hit.help or ""))
    return out


async def _palette(pilot, query: str) -> list[tuple[str, str]]:
    await pilot.press("ctrl+p")
    await settle(pilot)
    if query:
        await paste(pilot, query)
    await wait_until(pilot, lambda: pilot.app.screen.query_one(CommandList).option_count > 0,
                     "palette hits")
    await settle(pilot)
    return _options(pilot.app)


async def _choose(pilot, text: str) -> None:
    texts = [t for t, _help in _options(pilot.app)]
    assert text in texts, texts
    # the first hit is highlighted once the results are in: down moves on from there
    await pilot.press(*["down"] * texts.index(text), "enter")
    await settle(pilot)


async def test_the_empty_palette_lists_every_action_that_has_a_screen(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        texts = [t for t, _help in await _palette(pilot, "")]
        for action in ("New client", "New proposal", "New invoice", "Quick task",
                       "Go to Clients", "Go to Proposals", "Go to Jobs", "Go to Schedule",
                       "Go to Invoices", "Go to Tasks", "Go to Reports",
                       "Report: revenue by month", "Report: aged receivables",
                       "Report: proposal conversion", "Report: jobs to invoice"):
            assert action in texts
        assert "Keys for this screen" in texts
        assert len(texts) == len(set(texts))  # nothing offered twice


class _TasksNotBuilt(CrmApp):
    CSS_PATH = str(Path(tui.app.__file__).with_name("app.tcss"))  # relative to this file otherwise
    MODES = {**CrmApp.MODES, "tasks": _coming_soon("tasks", "Tasks")}


async def test_a_section_still_coming_soon_is_not_offered(ui_db):
    app = _TasksNotBuilt(ui_db, today=TODAY)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        texts = [t for t, _help in await _palette(pilot, "")]
        assert "Go to Tasks" not in texts and "Go to Jobs" in texts


async def test_records_open_by_name_or_number_in_their_own_section(ui_db):
    ids = _records(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        hits = await _palette(pilot, "acme")
        assert ("Acme Ltd", "Open client") in hits
        await _choose(pilot, "Acme Ltd")
        assert isinstance(app.screen, ClientDetailScreen) and app.screen.client_id == ids["acme"]

        hits = await _palette(pilot, "PRO")
        (text,) = [t for t, _h in hits if t.startswith("Proposal ")]
        assert "Acme Ltd" in text
        await _choose(pilot, text)
        assert app.current_mode == "proposals"
        assert getattr(app.screen, "proposal_id", None) == ids["proposal"]

        hits = await _palette(pilot, "gutter")
        (text,) = [t for t, _h in hits if t.startswith("Job ")]
        await _choose(pilot, text)
        assert app.current_mode == "jobs" and getattr(app.screen, "job_id", None) == ids["job"]

        hits = await _palette(pilot, str(ids["invoice_number"]))
        (text,) = [t for t, _h in hits if t.startswith("Invoice ")]
        assert ("Invoice " + str(ids["invoice_number"])) in text
        await _choose(pilot, text)
        assert app.current_mode == "invoices"
        assert getattr(app.screen, "invoice_id", None) == ids["invoice"]


async def test_a_client_name_that_looks_like_markup_is_shown_and_opened_literally(ui_db):
    ids = _records(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        hits = await _palette(pilot, "click foo")
        assert ("[@click=app.quit] Foo [/]", "Open client") in hits
        assert "[@click=app.quit] Foo [/]" in screen_text(app)
        await _choose(pilot, "[@click=app.quit] Foo [/]")
        assert app.is_running
        assert isinstance(app.screen, ClientDetailScreen) and app.screen.client_id == ids["trap"]


async def test_actions_run_from_any_section(ui_db):
    _records(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")  # from the Invoices section
        await settle(pilot)
        await _palette(pilot, "new client")
        await _choose(pilot, "New client")
        assert isinstance(app.screen, ClientFormScreen)
        await pilot.press("escape")
        await settle(pilot)

        await _palette(pilot, "aged")
        await _choose(pilot, "Report: aged receivables")
        assert isinstance(app.screen, ReportsScreen) and app.screen.current == "receivables"
        await wait_until(pilot, lambda: "Acme Ltd" in screen_text(app), "the receivables")

        await _palette(pilot, "go to clients")
        await _choose(pilot, "Go to Clients")
        assert app.current_mode == "clients" and isinstance(app.screen, ClientListScreen)

        await _palette(pilot, "new proposal")
        await _choose(pilot, "New proposal")
        assert app.current_mode == "proposals"
        assert type(app.screen).__name__ == "ProposalEditorScreen"
        assert getattr(app.screen, "proposal_id", "missing") is None

        await pilot.press("escape")
        await settle(pilot)
        await _palette(pilot, "quick task")
        await _choose(pilot, "Quick task")
        assert type(app.screen).__name__ == "TaskDialog"
