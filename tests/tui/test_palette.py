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


async def _invoice_page(pilot, invoice_id: int):
    from tui.screens.invoice_detail import InvoiceDetailScreen

    pilot.app.open_invoice(invoice_id)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, InvoiceDetailScreen)
                     and pilot.app.screen.view is not None, "the invoice page")
    return pilot.app.screen


async def test_the_screen_on_show_offers_its_own_actions_and_runs_them_as_its_key(ui_db):
    from tui.screens.invoice_dialogs import RecordPaymentDialog

    ids = _records(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        page = await _invoice_page(pilot, ids["invoice"])
        hits = await _palette(pilot, "pay")
        assert ("Record payment", "Invoice · key p") in hits
        await _choose(pilot, "Record payment")
        assert isinstance(app.screen, RecordPaymentDialog)
        assert app.screen_stack[-2] is page  # over the invoice, as the p key opens it
        await pilot.press("escape")
        await settle(pilot)

        # opened with nothing typed, the palette lists the screen's actions too
        texts = [t for t, _help in await _palette(pilot, "")]
        assert {"Record payment", "Credit note", "Text the client"} <= set(texts)
        assert "Back" not in texts  # escape does that, in the palette too
        assert len(texts) == len(set(texts))


async def test_an_action_the_record_refuses_now_is_not_offered(ui_db):
    ids = _records(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _invoice_page(pilot, ids["invoice"])
        texts = [t for t, _help in await _palette(pilot, "invoice")]
        # issued: no second issue, no edit, no delete (the lifecycle refuses them)
        assert not {"Issue invoice", "Edit invoice", "Delete draft invoice"} & set(texts)
        assert "Void invoice" in texts
        await pilot.press("escape")
        await settle(pilot)

        # a draft: issue is offered and asks first, as the i key does
        draft = invoices.create_blank(ui_db, ids["acme"], [line("Windows", unit_price_cents=5_000)])
        await _invoice_page(pilot, draft)
        texts = [t for t, _help in await _palette(pilot, "issue")]
        assert "Issue invoice" in texts
        await _choose(pilot, "Issue invoice")
        assert type(app.screen).__name__ == "ConfirmScreen"


async def test_screen_actions_follow_the_keymap_and_what_the_screen_allows(ui_db):
    ids = _records(ui_db)
    app = make_app(ui_db, keymap={"client.archive": "z"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_client(ids["acme"])
        await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen)
                         and app.screen.overview is not None, "the client")
        hits = await _palette(pilot, "archive")
        assert ("Archive client", "Client · key z") in hits
        assert "Restore client" not in [t for t, _h in hits]  # not archived: nothing to restore
        await _choose(pilot, "Archive client")
        page = app.screen
        await wait_until(pilot, lambda: page.overview.status == "archived", "archived")
        texts = [t for t, _h in await _palette(pilot, "client")]
        assert "Restore client" in texts and "Archive client" not in texts
