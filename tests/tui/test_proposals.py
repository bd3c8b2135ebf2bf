"""The Proposals section by keyboard: write a proposal with price-book lines and two tax
rates, send, approve, convert to a job; refusals show the service's reason and write
nothing. SQLite only (the services underneath run on both backends in tests/core)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core import business, catalog, money, proposals
from core.lines import LineData
from core.models import Job, Proposal
from tests.core.factories import (
    address_ids,
    line,
    make_client,
    make_proposal,
    make_tax_rate,
    table_dump,
)
from tests.tui.support import (
    TODAY,
    make_app,
    notices,
    paste,
    screen_text,
    settle,
    type_text,
    wait_until,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.paging import PREFETCH_MARGIN
from tui.screens.proposal_editor import ProposalEditorScreen
from tui.screens.proposals import PAGE_SIZE, ProposalListScreen
from tui.screens.visit_dialogs import NoteDialog
from tui.widgets.line_items import LineItemsEditor


def _focused(app):
    focused = app.focused
    return (focused.id or " ".join(sorted(focused.classes))) if focused else None


async def _to_proposals(pilot) -> ProposalListScreen:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ProposalListScreen)
    return screen


def _setup_catalogue(db) -> tuple[int, int]:
    state = make_tax_rate(db, "State tax", "6.25")
    city = make_tax_rate(db, "City tax", "2.5")
    business.update(db, "defaults", {"tax_rate_id": state})
    catalog.create_item(db, catalog.PriceBookItemData("Window cleaning", 4500, tax_rate_id=state))
    catalog.create_item(db, catalog.PriceBookItemData("Gutter cleaning", 9000))
    return state, city


def _proposal(db, pid) -> Proposal:
    return proposals.get(db, pid)


async def test_write_a_proposal_with_three_lines_and_two_tax_rates_by_keyboard(ui_db):
    db = ui_db
    state, city = _setup_catalogue(db)
    client = make_client(db, "Acme Dental", addresses=2)
    second_address = address_ids(db, client)[1]
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_proposals(pilot)
        assert "No proposals yet" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ProposalEditorScreen) and _focused(app) == "p-client"
        await type_text(pilot, "acm")  # found as you type
        await wait_until(pilot, lambda: form.query_one("#p-client-matches").display,
                         "client matches")
        assert "Acme Dental" in screen_text(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert form.client_id == client and _focused(app) == "p-address"
        await pilot.press("enter", "down", "enter")  # the first is preselected; take the second
        await pilot.press("tab")
        await paste(pilot, "Quarterly deep clean")
        await pilot.press("tab", "tab", "tab")  # valid-until (default) and deposit (none)
        await paste(pilot, "Gate code 1234")  # the terms
        await pilot.press("tab")
        editor = form.query_one(LineItemsEditor)
        assert "li-desc" in _focused(app)

        # line 1 from the price book: typed, picked, quantity 3
        await type_text(pilot, "wind")
        await wait_until(pilot, lambda: editor.query_one("#li-matches").display,
                         "price book matches")
        assert "Window cleaning" in screen_text(app) and "$45.00 / each" in screen_text(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert "li-qty" in _focused(app)
        await type_text(pilot, "3")  # the quantity was selected on focus: typing replaces it
        await pilot.press("enter")  # to the next line (added)
        await settle(pilot)
        # line 2 typed by hand, taxed at the city rate, 10% off
        await paste(pilot, "Carpet shampoo")
        await pilot.press("tab", "tab")
        await type_text(pilot, "120")
        await pilot.press("tab", "enter", "down", "down", "enter")  # tax: State -> City
        await pilot.press("tab")
        await type_text(pilot, "10%")
        await pilot.press("enter")
        await settle(pilot)
        # line 3 untaxed, from the price book, picked with enter from the description
        await type_text(pilot, "gutter")
        await wait_until(pilot, lambda: editor.query_one("#li-matches").display,
                         "price book matches")
        await pilot.press("enter")
        await settle(pilot)
        await wait_until(pilot, lambda: editor.totals is not None
                         and editor.totals.total_cents > 0, "live totals")

        expected = money.compute_totals([
            money.LineInput(Decimal(3), 4500, Decimal("6.25")),
            money.LineInput(Decimal(1), 12000, Decimal("2.5"), "percent", Decimal(10)),
            money.LineInput(Decimal(1), 9000, Decimal(0)),
        ])
        assert editor.totals == expected
        shown = screen_text(app)
        assert f"Total {money.format_money(expected.total_cents)}" in shown
        assert "Subtotal $345.00" in shown

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalListScreen), "the list")
        await wait_until(pilot, lambda: app.screen.table.row_count == 1, "the new row")
        assert "Quarterly deep clean" in screen_text(app)
        assert any("Saved the draft proposal Quarterly deep clean" in n for n in notices(app))

    with db.read() as s:
        pid = s.scalar(select(Proposal.id))
    p = _proposal(db, pid)
    assert (p.client_id, p.address_id, p.title, p.status) == (
        client, second_address, "Quarterly deep clean", "draft")
    assert p.terms == "Gate code 1234"
    assert [(ln.description, ln.quantity, ln.unit_price_cents, ln.tax_rate_id, ln.discount_kind,
             ln.discount_value) for ln in p.lines] == [
        ("Window cleaning", Decimal(3), 4500, state, "none", Decimal(0)),
        ("Carpet shampoo", Decimal(1), 12000, city, "percent", Decimal(10)),
        ("Gutter cleaning", Decimal(1), 9000, None, "none", Decimal(0)),
    ]
    assert p.lines[0].price_book_item_id is not None and p.lines[1].price_book_item_id is None
    assert (p.subtotal_cents, p.tax_cents, p.total_cents) == (
        expected.subtotal_cents, expected.tax_cents, expected.total_cents)


async def test_send_approve_and_convert_with_one_key_each(ui_db):
    db = ui_db
    rate = make_tax_rate(db, "State tax", "6.25")
    pid = make_proposal(db, make_client(db, "Brooke Hall"), today=TODAY,
                        lines=[line("Mow", 2, 4500, rate), line("Edge", 1, 2000)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the proposal")
        assert "draft #" in screen_text(app)
        await pilot.press("s")
        await wait_until(pilot, lambda: _proposal(db, pid).status == "sent", "sent")
        await settle(pilot)
        number = _proposal(db, pid).number
        assert number == "PRO-2026-0001"
        assert f"Sent proposal {number}." in notices(app)
        assert number in screen_text(app) and "Sent" in screen_text(app)

        await pilot.press("a")
        await wait_until(pilot, lambda: _proposal(db, pid).status == "approved", "approved")
        await settle(pilot)
        assert "Approved" in screen_text(app)

        await pilot.press("j")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen), "the job page")
        await settle(pilot)
        assert app.current_mode == "jobs"
        p = _proposal(db, pid)
        with db.read() as s:
            job = s.get(Job, p.job_id)
            assert (job.number, job.total_cents, job.proposal_id) == ("JOB-0001", p.total_cents, pid)
        shown = screen_text(app)
        assert "Job JOB-0001" in shown and "Brooke Hall" in shown and "Mow" in shown
        assert any("Created job JOB-0001" in n for n in notices(app))

        await pilot.press("2")  # back in Proposals: converting again is refused
        await settle(pilot)
        await pilot.press("j")
        await wait_until(pilot, lambda: any("already converted to job JOB-0001" in n
                                            for n in notices(app)), "the refusal")


async def test_refusals_show_the_reason_and_change_nothing(ui_db):
    db = ui_db
    client = make_client(db, "Carlos Diaz")
    pid = make_proposal(db, client, today=TODAY)
    proposals.send_proposal(db, pid, today=TODAY)
    proposals.decline_proposal(db, pid, today=TODAY)
    empty = make_proposal(db, client, today=TODAY, lines=[], title="Empty one")
    before = table_dump(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == 2, "both proposals")
        screen._move_to(pid)
        await pilot.press("a")  # approving a declined proposal
        reason = "This proposal was declined, so it cannot be approved."
        await wait_until(pilot, lambda: reason in notices(app), "the reason")
        await pilot.press("j")
        await wait_until(pilot, lambda: any("was declined, so it cannot become a job yet" in n
                                            for n in notices(app)), "the convert refusal")
        screen._move_to(empty)
        await pilot.press("s")  # sending an empty draft
        await wait_until(pilot, lambda: "Lines: add at least one line before sending"
                         in notices(app), "the send refusal")
        await pilot.press("a")
        await wait_until(pilot, lambda: any("is still a draft, so it cannot be approved" in n
                                            for n in notices(app)), "the approve refusal")
    assert table_dump(db) == before


async def test_request_changes_asks_for_the_note_and_makes_a_new_revision(ui_db):
    db = ui_db
    pid = make_proposal(db, make_client(db, "Grace O'Neil"), today=TODAY, title="Hedges")
    proposals.send_proposal(db, pid, today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the proposal")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog)
        await pilot.press("ctrl+s")  # empty: refused in the dialog
        await settle(pilot)
        assert "Note: write something first" in screen_text(app)
        assert _proposal(db, pid).status == "sent"
        await paste(pilot, "Please add the [b]back[/b] hedge")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _proposal(db, pid).status == "draft", "back to draft")
        p = _proposal(db, pid)
        assert (p.revision, p.changes_requested) == (2, "Please add the [b]back[/b] hedge")
        await settle(pilot)
        await pilot.press("enter")  # the draft opens in the editor, showing the request
        await settle(pilot)
        assert isinstance(app.screen, ProposalEditorScreen) and not app.screen.read_only
        assert "The client asked for changes: Please add the [b]back[/b] hedge" in screen_text(app)
        assert "revision 2" in screen_text(app)


async def test_decline_takes_an_optional_reason(ui_db):
    db = ui_db
    pid = make_proposal(db, make_client(db, "Ivy Chen"), today=TODAY)
    proposals.send_proposal(db, pid, today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the proposal")
        await pilot.press("d")
        await settle(pilot)
        await paste(pilot, "Too expensive")
        await pilot.press("escape", "y")  # changed their mind (asked first): nothing happens
        await settle(pilot)
        assert _proposal(db, pid).status == "sent"
        await pilot.press("d", "ctrl+s")
        await wait_until(pilot, lambda: _proposal(db, pid).status == "declined", "declined")


async def test_bad_input_names_the_field_and_writes_nothing(ui_db):
    db = ui_db
    _setup_catalogue(db)
    client = make_client(db, "Harbor View HOA")
    before = table_dump(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_proposals(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await pilot.press("ctrl+s")  # no client chosen
        await settle(pilot)
        message = "Client: choose a client (type a name, then pick one)"
        assert message in screen_text(app) and message in notices(app)
        assert _focused(app) == "p-client"

        await type_text(pilot, "harb")
        await wait_until(pilot, lambda: form.query_one("#p-client-matches").display, "matches")
        await pilot.press("enter")  # enter in the box takes the first match
        await settle(pilot)
        assert form.client_id == client
        form.query_one(LineItemsEditor).focus_first()
        await paste(pilot, "Pressure wash")
        await pilot.press("tab", "tab")
        await type_text(pilot, "12.345")
        await pilot.press("tab")  # leaving the field checks it
        await settle(pilot)
        bad_price = "Line 1 unit price: '12.345' is not an amount like 1234.56"
        assert bad_price in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProposalEditorScreen)
        assert bad_price in notices(app) and "li-price" in _focused(app)

        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "80")
        form.query_one("#p-deposit").focus()
        await paste(pilot, "500.00")  # more than the total
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Deposit: is larger than the proposal total" in notices(app)
        assert _focused(app) == "p-deposit"
        assert table_dump(db) == before

        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "25%")
        await settle(pilot)
        total = form.query_one(LineItemsEditor).totals.total_cents
        assert f"= {money.format_money(money.deposit_cents(total, 'percent', Decimal(25)))}" \
            in screen_text(app)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalListScreen), "saved")
    with db.read() as s:
        p = s.scalars(select(Proposal)).one()
        assert (p.deposit_kind, p.deposit_value, p.total_cents) == ("percent", Decimal(25), total)


async def test_escape_on_a_changed_proposal_asks_and_a_sent_one_opens_read_only(ui_db):
    db = ui_db
    client = make_client(db, "Ivy Chen")
    draft = make_proposal(db, client, today=TODAY, title="Lawn")
    sent = make_proposal(db, client, today=TODAY, title="Roof")
    proposals.send_proposal(db, sent, today=TODAY)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == 2, "the proposals")
        screen._move_to(draft)
        await pilot.press("e")
        await settle(pilot)
        assert _focused(app) == "p-title"
        await pilot.press("end")
        await type_text(pilot, " and hedges")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ProposalListScreen)
        assert _proposal(db, draft).title == "Lawn"

        screen._move_to(sent)
        await pilot.press("enter")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, ProposalEditorScreen) and page.read_only
        assert page.query_one("#p-title").disabled
        assert "a Approve" in screen_text(app) and "^s Save" not in screen_text(app)
        await pilot.press("a")  # the lifecycle keys work on the page too
        await wait_until(pilot, lambda: _proposal(db, sent).status == "approved", "approved")
        await wait_until(pilot, lambda: "Approved" in screen_text(app), "the new status shown")


async def test_the_list_filters_by_status_and_fetches_more_near_the_end(ui_db):
    db = ui_db
    client = make_client(db, "Zed")
    with db.write() as s:  # many rows quickly: the list is what is under test
        for i in range(PAGE_SIZE + 30):
            s.add(Proposal(client_id=client, title=f"Quote {i:03d}",
                           status="sent" if i % 3 == 0 else "draft", total_cents=100 * i))
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == PAGE_SIZE, "the first page")
        assert "more below" in screen_text(app)
        for _ in range(PAGE_SIZE - PREFETCH_MARGIN):
            screen.table.action_cursor_down()
        await wait_until(pilot, lambda: screen.table.row_count == PAGE_SIZE + 30, "the next page")
        await pilot.press("f", "f")  # all -> drafts -> sent
        await wait_until(pilot, lambda: screen.table.row_count == 44, "only the sent ones")
        assert "Sent" in screen_text(app).splitlines()[2]
        statuses = {str(c) for c in screen.table.get_column("status")}
        assert statuses == {"Sent"}


async def test_user_data_in_a_proposal_is_never_markup(ui_db):
    db = ui_db
    rate = make_tax_rate(db, "[b]Tax[/b]", "5")
    client = make_client(db, "[@click=app.quit]")
    make_proposal(db, client, today=TODAY, title="Foo [/] Bar",
                  lines=[LineData("[red]Line[/red]", 1, 1000, rate)])
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _to_proposals(pilot)
        await wait_until(pilot, lambda: screen.table.row_count == 1, "the proposal")
        shown = screen_text(app)
        assert "[@click=app.quit]" in shown and "Foo [/] Bar" in shown
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "[red]Line[/red]" in app.screen.query_one("Input.li-desc").value
        assert "5% [b]Tax" in shown and "Foo [/] Bar" in shown  # cut to fit, literally
        assert app.is_running


async def test_an_unsaved_proposal_is_kept_as_a_draft_and_restored_with_its_lines(
        ui_db, monkeypatch):
    from config import app_paths
    from config.state import LocalState
    from tui import drafts
    from tui.drafts import RestoreDraftScreen

    monkeypatch.setattr(drafts, "DRAFT_DEBOUNCE", 0.05)
    db = ui_db
    state, _city = _setup_catalogue(db)
    client = make_client(db, "Acme Dental", addresses=2)
    second_address = address_ids(db, client)[1]
    store = LocalState(app_paths())

    def kept() -> dict:
        stored = store.load_drafts()
        return next(iter(stored.values()))["values"] if stored else {}

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _to_proposals(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await type_text(pilot, "acme")
        await wait_until(pilot, lambda: form.query_one("#p-client-matches").display, "matches")
        await pilot.press("enter", "enter", "down", "enter", "tab")
        await paste(pilot, "Half written")
        form.query_one(LineItemsEditor).focus_first()
        await paste(pilot, "Odd job")
        await pilot.press("tab", "tab")
        await type_text(pilot, "12.3x")  # not an amount yet: kept exactly as typed
        await wait_until(pilot, lambda: kept().get("lines", {}).get("rows", [{}])[0].get("price")
                         == "12.3x", "the draft written")
    assert _proposal_count(db) == 0  # the app went away without saving: as after a crash

    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RestoreDraftScreen), "the offer")
        assert "New proposal “Half written”" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ProposalEditorScreen)
                         and app.screen.query_one("#p-title").value == "Half written",
                         "the restored form")
        form = app.screen
        await wait_until(pilot, lambda: form.query_one("#p-address").value == second_address,
                         "the address back")
        assert form.client_id == client and form.query_one("#p-client").value == "Acme Dental"
        row = form.query_one(LineItemsEditor).rows[0]
        assert (row.text("desc"), row.text("price"), row.tax_rate_id) == ("Odd job", "12.3x", state)
        row.field("price").focus()
        await pilot.press("end", "backspace")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: _proposal_count(db) == 1, "saved")
        await wait_until(pilot, lambda: not store.load_drafts(), "the draft removed")
    with db.read() as s:
        p = s.scalars(select(Proposal)).one()
        assert (p.title, p.address_id, p.lines[0].unit_price_cents) == (
            "Half written", second_address, 1230)


def _proposal_count(db) -> int:
    from sqlalchemy import func

    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Proposal))
