"""USPS address validation in the TUI against the fake USPS v3 API on 127.0.0.1: "Validate"
(ctrl+o) on the client form shows what was typed next to USPS's standardised form with the
ZIP+4 and the DPV confirmation; ``a`` stores USPS's form, ``k`` keeps the typed one, both
flag the address validated; problems are explained and nothing is written. ``v`` on the
Clients list (and the palette) validates all unvalidated addresses in the background,
waiting out a 429 as ``Retry-After`` says (through the sleep seam: nothing really waits).
The Free tier shows the feature locked and calls nobody."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from textual.widgets import OptionList, Static

from config import load_config
from config.settings import IntegrationsConfig, UspsConfig
from core import clients
from core.models import Address, AuditEvent
from tests.fakes.usps_server import CLIENT_ID, CLIENT_SECRET, FakeUsps, address_answer
from tests.license_support import grant, paths_for
from tests.tui.support import TODAY, notices, paste, screen_text, settle, wait_until
from tui.app import CrmApp
from tui.screens import address_validation
from tui.screens.address_validation import AddressValidationDialog, BulkValidationDialog
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.client_form import ClientFormScreen
from tui.screens.clients import ClientListScreen

ELM = address_answer("12 ELM ST", "SPRINGFIELD", "IL", "62701", "1234")
OAK = address_answer("400 OAK AVE", "SPRINGFIELD", "IL", "62704", "5678", secondary="APT 2")
PINE = address_answer("7 PINE CT", "SPRINGFIELD", "IL", "62703", "4321")
MAPLE_NEEDS_UNIT = address_answer(
    "88 MAPLE DR", "SPRINGFIELD", "IL", "62702", "", dpv="D",
    corrections=[{"code": "32", "text": "Default address: The address you entered was found "
                  "but more information is needed (such as an apartment, suite, or box "
                  "number) to match to a specific address."}], matches=[])
AMBIGUOUS = address_answer(
    "", "", "", "", dpv="N", matches=[],
    corrections=[{"code": "22", "text": "Multiple addresses were found for the information "
                  "you entered, and no default exists."}])
QUOTA = {"apiVersion": "/addresses/v3", "error": {"code": "429", "message": "Too Many Requests"}}


@pytest.fixture
def usps(monkeypatch):
    monkeypatch.setenv("TSSG_CRM_USPS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("TSSG_CRM_USPS_CLIENT_SECRET", CLIENT_SECRET)
    with FakeUsps() as server:
        server.add("12 Elm St", "62701", ELM)
        server.add("400 Oak Avenue", "62704", OAK)
        server.add("7 Pine Ct", "62703", PINE)
        server.add("88 Maple Dr", "62702", MAPLE_NEEDS_UNIT)
        server.add("5 Main St", "62701", AMBIGUOUS)
        yield server


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every wait the USPS client asked for (Retry-After, backoff), instead of sleeping."""
    recorded: list[float] = []
    monkeypatch.setattr(address_validation, "usps_sleep", recorded.append)
    return recorded


def usps_app(db, usps: FakeUsps, tier: str = "premium") -> CrmApp:
    """The app at ``tier`` (a real signed license token), USPS pointing at the fake."""
    home = Path(os.environ["TSSG_CRM_HOME"])
    if tier != "free":
        grant(home, tier)
    config = load_config(paths_for(home).config_file)
    config = dataclasses.replace(config, integrations=IntegrationsConfig(
        usps=UspsConfig(api_base=usps.base, timeout=5)))
    app = CrmApp(db, config=config, today=TODAY)
    app.animation_level = "none"
    return app


def client_at(db, *streets: tuple[str, str], name: str = "Acme Lawn Care") -> list[int]:
    """A client with one address per (street, ZIP), in Springfield IL; their ids."""
    cid = clients.create_client(db, clients.ClientData(name=name), [], [
        clients.AddressData(line1=street, city="Springfield", region="IL", postal_code=zip_)
        for street, zip_ in streets])
    with db.read() as s:
        return [a.id for a in s.get(clients.Client, cid).addresses]


def stored(db, address_id: int) -> Address:
    with db.read() as s:
        return s.get(Address, address_id)


def validations(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "address.validate")) or 0


def said(app) -> str:
    """The words a dialog shows (its labels and list lines), as one line: the screen wraps
    them inside a border, which would split a sentence."""
    screen = app.screen
    parts = [str(getattr(w.visual, "plain", w.visual))
             for w in screen.query(Static) if w.display and w.parent.display]
    for options in screen.query(OptionList):
        if options.display:
            parts += [str(getattr(o.prompt, "plain", o.prompt)) for o in options.options]
    return " ".join(" ".join(parts).split())


def lookups(usps: FakeUsps) -> int:
    return len(usps.requests_to("GET", "/addresses/v3/address"))


async def open_form(pilot, address_id: int) -> ClientFormScreen:
    app = pilot.app
    app.open_client(stored(app.db, address_id).client_id)
    await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen)
                     and app.screen.overview is not None, "the client page")
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, ClientFormScreen)
                     and app.screen._initial is not None, "the client form")
    return app.screen


async def validate(pilot, form: ClientFormScreen, block: int = 0) -> AddressValidationDialog:
    form.address_editors[block].query_one("#e-line1").focus()
    await pilot.press("ctrl+o")
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, AddressValidationDialog)
                     and (app.screen.comparison is not None or app.screen.problem is not None),
                     "USPS's answer")
    return app.screen


async def test_validate_shows_both_forms_and_accept_stores_usps_form(ui_db, usps):
    (aid,) = client_at(ui_db, ("400 Oak Avenue", "62704"))
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, aid)
        assert "not validated" in str(form.address_editors[0].border_subtitle)
        dialog = await validate(pilot, form)
        shown = screen_text(app)
        for text in ("You typed", "400 Oak Avenue", "400 OAK AVE", "APT 2", "62704",
                     "62704-5678", "Delivery point (DPV): confirmed (Y)",
                     "USPS confirms this address is deliverable.", "Street ≠", "Line 2 ≠"):
            assert text in shown, text
        assert "City ≠" not in shown  # same city, only the case differs
        assert dialog.query_one("#av-usps-line1").has_class("-differs")

        await pilot.press("a")
        await wait_until(pilot, lambda: app.screen is form, "back on the form")
        a = stored(ui_db, aid)
        assert (a.line1, a.line2, a.postal_code) == ("400 OAK AVE", "APT 2", "62704-5678")
        assert a.validated_at is not None
        block = form.address_editors[0]
        assert block.query_one("#e-line1").value == "400 OAK AVE"
        assert "✓ validated by USPS" in str(block.border_subtitle)
        assert not form.is_dirty  # the block shows what is stored
        assert "Stored USPS's form of 400 OAK AVE, SPRINGFIELD" in " ".join(notices(app))

        await pilot.press("ctrl+s")  # the new address version went along: no "changed elsewhere"
        await wait_until(pilot, lambda: isinstance(app.screen, ClientDetailScreen)
                         and app.screen.overview is not None, "the client page")
        assert "✓ validated" in screen_text(app)
    assert stored(ui_db, aid).line1 == "400 OAK AVE" and validations(ui_db) == 1


async def test_keep_stores_what_was_typed_and_marks_it_validated(ui_db, usps):
    (aid,) = client_at(ui_db, ("400 Oak Avenue", "62704"))
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, aid)
        await validate(pilot, form)
        await pilot.press("k")
        await wait_until(pilot, lambda: app.screen is form, "back on the form")
        assert form.address_editors[0].query_one("#e-line1").value == "400 Oak Avenue"
        assert "Kept 400 Oak Avenue, Springfield as typed" in " ".join(notices(app))
    a = stored(ui_db, aid)
    assert (a.line1, a.line2, a.postal_code) == ("400 Oak Avenue", "", "62704")
    assert a.validated_at is not None


@pytest.mark.parametrize("street, zip_, words", [
    ("1 Nowhere Rd", "62701", ["USPS found no such address. Check the street number, the "
                               "street name and the ZIP code."]),
    ("5 Main St", "62701", ["Delivery point (DPV): not deliverable (N)",
                            "More than one address matches; add detail such as the ZIP code"]),
    ("88 Maple Dr", "62702", ["Delivery point (DPV): apartment, suite or unit missing (D)",
                              "the address needs an apartment, suite or unit number"]),
], ids=["not-found", "ambiguous", "missing-secondary"])
async def test_problems_are_explained_and_nothing_is_written(ui_db, usps, street, zip_, words):
    (aid,) = client_at(ui_db, (street, zip_))
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, aid)
        await validate(pilot, form)
        shown = said(app)
        for text in words:
            assert text in shown, text
        assert "Traceback" not in shown
        await pilot.press("a", "k")  # neither can mark an unconfirmed address validated
        await settle(pilot)
        assert isinstance(app.screen, AddressValidationDialog)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is form, "back on the form")
    a = stored(ui_db, aid)
    assert (a.line1, a.validated_at, a.version) == (street, None, 1)
    assert validations(ui_db) == 0


async def test_an_unsaved_address_is_not_sent(ui_db, usps):
    (aid,) = client_at(ui_db, ("12 Elm St", "62701"))
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, aid)
        street = form.address_editors[0].query_one("#e-line1")
        street.focus()
        await pilot.press("end", "space", "N")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen is form
        assert "has unsaved changes" in " ".join(notices(app))

        await pilot.press("ctrl+r")  # a new block: nothing stored to check yet
        await paste(pilot, "7 Pine Court")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen is form
        assert "is not saved yet" in " ".join(notices(app))
    assert usps.requests == [] and stored(ui_db, aid).validated_at is None


async def test_free_tier_shows_validation_locked_and_calls_nobody(ui_db, usps, waits):
    (aid,) = client_at(ui_db, ("12 Elm St", "62701"))
    app = usps_app(ui_db, usps, "free")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        form = await open_form(pilot, aid)
        await validate(pilot, form)
        assert "USPS address validation needs the Premium tier" in screen_text(app)
        await pilot.press("a")
        for _ in range(3):  # the dialog, the form, the client page
            await pilot.press("escape")
            await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, ClientListScreen), "the list")

        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, BulkValidationDialog)
                         and not app.screen.bulk.running, "the bulk run")
        assert "needs the Premium tier" in said(app)
    assert usps.requests == [] and stored(ui_db, aid).validated_at is None


async def test_validate_all_validates_every_address_and_honours_retry_after(ui_db, usps,
                                                                           waits):
    ids = client_at(ui_db, ("12 Elm St", "62701"), ("7 Pine Ct", "62703"))
    ids += client_at(ui_db, ("12 Elm St", "62701"), name="Brooke Hall")
    usps.fail(429, QUOTA, headers={"Retry-After": "7"}, path="/addresses/v3/address")
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, BulkValidationDialog)
                         and not app.screen.bulk.running, "the bulk run")
        shown = said(app)
        assert "Checked 3 of 3: 3 validated." in shown
    assert waits == [7.0]  # USPS said when to come back; the client waited exactly that
    assert all(stored(ui_db, i).validated_at is not None for i in ids)
    assert stored(ui_db, ids[1]).postal_code == "62703-4321"  # the ZIP+4 is added
    assert lookups(usps) == 4  # three addresses, one of them asked twice


async def test_validate_all_lists_what_needs_a_look_and_stops_at_the_quota(ui_db, usps, waits):
    exact, differs, missing, later = client_at(
        ui_db, ("12 Elm St", "62701"), ("400 Oak Avenue", "62704"), ("1 Nowhere Rd", "62701"),
        ("7 Pine Ct", "62703"))
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientListScreen)
        usps.fail(429, QUOTA, headers={"Retry-After": "60"}, times=0,
                  path="/addresses/v3/address")
        quota = usps.faults[-1]

        # three lookups go through, then the hourly quota is spent
        original = usps.answer

        def counting(req):
            if req.path == "/addresses/v3/address" and lookups(usps) == 3:
                quota.times = 99
            return original(req)

        usps.answer = counting  # type: ignore[method-assign]
        await pilot.press("v")
        dialog = app.screen
        assert isinstance(dialog, BulkValidationDialog)
        await wait_until(pilot, lambda: not dialog.bulk.running, "the bulk run")
        shown = said(app)
        assert "Stopped after 3 of 4: USPS is limiting requests (rate limit)" in shown
        assert "1 validated, 1 needs a look, 1 could not be checked" in shown
        assert "1 Nowhere Rd, Springfield: USPS found no such address." in shown
        assert "400 Oak Avenue, Springfield → 400 OAK AVE (changes street, line 2)" in shown
        assert waits == [30.0, 30.0, 30.0]  # Retry-After, capped, then it gave up
        assert stored(ui_db, exact).validated_at is not None
        assert stored(ui_db, differs).validated_at is None  # waits for the person
        assert stored(ui_db, later).validated_at is None  # not reached: quota

        before = lookups(usps)
        await pilot.press("enter")  # the one that needs a look, as USPS already answered
        await wait_until(pilot, lambda: isinstance(app.screen, AddressValidationDialog),
                         "the review")
        assert "62704-5678" in screen_text(app) and lookups(usps) == before
        await pilot.press("a")
        await wait_until(pilot, lambda: app.screen is dialog, "back on the run")
        assert stored(ui_db, differs).line1 == "400 OAK AVE"
        assert "2 validated" in said(app)
        await pilot.press("escape")

        quota.times = 0  # an hour later
        usps.answer = original  # type: ignore[method-assign]
        await pilot.press("v")  # goes on where it stopped: the missing one is not asked again
        await wait_until(pilot, lambda: isinstance(app.screen, BulkValidationDialog)
                         and not app.screen.bulk.running, "the second run")
        assert "Checked 1 of 1: 1 validated." in said(app)
    assert stored(ui_db, later).validated_at is not None
    assert stored(ui_db, missing).validated_at is None


async def test_the_palette_starts_validate_all_from_another_section(ui_db, usps, waits):
    (aid,) = client_at(ui_db, ("12 Elm St", "62701"))
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")  # Invoices
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await paste(pilot, "validate all unvalidated")
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, BulkValidationDialog)
                         and not app.screen.bulk.running, "the bulk run")
        assert app.current_mode == "clients"
    assert stored(ui_db, aid).validated_at is not None


async def test_naughty_address_lines_render_literally_in_the_dialog(ui_db, usps,
                                                                    naughty_strings):
    from core.text import clean_line

    sample = [*naughty_strings[::64], "[@click=app.quit]", "Foo [/]", "[b]x[/b] \x1b[2J"]
    made: list[tuple[int, str]] = []
    for i, text in enumerate(sample):
        street = clean_line(text)[:200]
        if not street.strip():
            continue
        zip_ = f"{62000 + i:05d}"
        (aid,) = client_at(ui_db, (text[:200], zip_), name=f"Client {i}")
        usps.add(stored(ui_db, aid).line1, zip_, address_answer(
            street, "SPRINGFIELD", "IL", zip_, "0001", secondary=street))
        made.append((aid, stored(ui_db, aid).line1))
    assert len(made) >= 5
    app = usps_app(ui_db, usps)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for aid, line1 in made:
            app.push_screen(AddressValidationDialog(aid))
            await wait_until(pilot, lambda: isinstance(app.screen, AddressValidationDialog)
                             and (app.screen.comparison or app.screen.problem), "the answer")
            dialog = app.screen
            assert dialog.problem is None, dialog.problem
            for cell in ("#av-typed-line1", "#av-usps-line1", "#av-usps-line2"):
                visual = dialog.query_one(cell).visual
                assert visual.plain == clean_line(line1)
                assert all("@" not in str(span.style) and "link" not in str(span.style)
                           for span in visual.spans)
            await pilot.press("escape")
            await settle(pilot)
        assert app.is_running and isinstance(app.screen, ClientListScreen)
