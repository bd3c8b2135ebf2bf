"""Per-client data rights from the client page: export that client's data, and anonymise
them after a confirmation (personal data erased, financial records kept)."""

from __future__ import annotations

import zipfile

from core import clients, invoices
from core.clients import AddressData, ClientData, ContactData
from core.lines import LineData
from core.models import Client, Contact, Invoice
from tests.tui.support import make_app, notices, screen_text, settle
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.confirm import ConfirmScreen


def _client(db) -> tuple[int, int]:
    cid = clients.create_client(
        db, ClientData(name="Nora Quist", notes="Gate code 4711"),
        [ContactData(name="Nora Quist", email="nora@quist.test", phone="415-555-0142")],
        [AddressData(line1="12 Birch Rd", city="Madison")],
    )
    inv = invoices.create_blank(db, cid, [LineData("Hedge trimming", "2", 6500)])
    invoices.issue(db, inv)
    return cid, inv


async def test_x_exports_the_client_to_a_zip_in_the_data_folder(ui_db, tmp_path, monkeypatch):
    monkeypatch.setenv("TSSG_CRM_HOME", str(tmp_path / "home"))
    cid, _ = _client(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        message = next(n for n in notices(app) if "Exported" in n)
    path = message.split(" to ", 1)[1]
    assert path.startswith(str(tmp_path / "home" / "data" / "exports"))
    with zipfile.ZipFile(path) as zf:
        assert "manifest.json" in zf.namelist()
        assert any("nora@quist.test" in zf.read(n).decode() for n in zf.namelist()
                   if n.endswith("contacts.csv"))


async def test_anonymise_asks_first_then_erases_the_person_and_keeps_the_invoice(ui_db):
    cid, inv = _client(ui_db)
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # changed my mind: nothing happens
        await settle(pilot)
        with ui_db.read() as s:
            assert s.get(Client, cid).name == "Nora Quist"
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ClientDetailScreen)
        assert "Nora" not in screen_text(app) and f"Anonymised client #{cid}" in screen_text(app)
    with ui_db.read() as s:
        assert s.get(Client, cid).notes == ""
        contact = s.query(Contact).filter_by(client_id=cid).one()
        assert contact.email == "" and contact.phone == ""
        invoice = s.get(Invoice, inv)
        assert invoice.total_cents == 13000 and invoice.client_id == cid
