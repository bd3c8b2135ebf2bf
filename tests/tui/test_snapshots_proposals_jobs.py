"""Snapshot tests of the Proposals and Jobs sections (pytest-textual-snapshot), with fixed
data and a fixed ``today`` (``tests.tui.support.TODAY``), so the pictures change only when
the screens do. Review with ``pytest --snapshot-report``; accept a change with
``pytest tests/tui/test_snapshots_proposals_jobs.py --snapshot-update``.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from core import business, catalog, clients, jobs, migrate, proposals
from core.clients import AddressData, ClientData
from core.db import Database
from core.jobs import JobData, ScheduleData, ServiceLogData
from core.lines import LineData
from core.proposals import ProposalData
from core.recurrence import Rule
from core.staff import UserData, create_user
from tests.tui.support import TODAY, make_app, settle

SMALL, LARGE = (80, 24), (100, 30)


@pytest.fixture(autouse=True)
def _fixed_clock_and_theme(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _sample_db(tmp_path) -> tuple[Database, dict[str, int]]:
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    business.update(db, "business", {"name": "Sparkle Cleaning Co"})
    state = catalog.create_tax_rate(db, catalog.TaxRateData("State tax", "6.25"))
    city = catalog.create_tax_rate(db, catalog.TaxRateData("City [b]tax[/b]", "2.5"))
    business.update(db, "defaults", {"tax_rate_id": state})
    catalog.create_item(db, catalog.PriceBookItemData("Window cleaning", 4500, tax_rate_id=state))
    tess = create_user(db, UserData(name="Tess Tech"))

    def client(name: str) -> int:
        return clients.create_client(
            db, ClientData(name=name), [],
            [AddressData(line1="400 Market St", label="Office", city="San Francisco")])

    acme, hoa, odd = client("Acme Dental"), client("Harbor View HOA"), client("Foo [/] Bar")
    lines = [
        LineData("Window cleaning", Decimal(3), 4500, state),
        LineData("Carpet shampoo [deep]", Decimal(1), 12000, city, "percent", Decimal(10)),
        LineData("Gutter cleaning", Decimal("1.5"), 9000),
    ]

    def proposal(client_id: int, title: str, **kw: object) -> int:
        return proposals.create_proposal(db, ProposalData(client_id=client_id, title=title,
                                                          lines=lines, **kw), today=TODAY)

    ids: dict[str, int] = {}
    ids["draft"] = proposal(acme, "Quarterly deep clean", deposit_kind="percent",
                            deposit_value="25", discount_kind="fixed", discount_value="1500",
                            terms="Half up front.\nBalance on completion.")
    for title, steps in (("Spring clean-up", ("send",)), ("Office move-out", ("send", "approve")),
                         ("Roof moss", ("send", "decline")), ("[@click=app.quit]", ("send",))):
        pid = proposal(hoa if title != "[@click=app.quit]" else odd, title)
        for step in steps:
            {"send": proposals.send_proposal, "approve": proposals.approve_proposal,
             "decline": proposals.decline_proposal}[step](db, pid, today=TODAY)
        ids[title] = pid
    expired = proposal(hoa, "Old quote", valid_until="2026-03-20")
    proposals.send_proposal(db, expired, today=TODAY)
    ids["job"] = jobs.create_job(
        db, JobData(client_id=acme, title="Weekly office clean", lines=lines[:2]),
        ScheduleData(TODAY, "08:30", 90, Rule("weekly", count=4), tess), today=TODAY)
    first = jobs.get(db, ids["job"]).visits[0]
    jobs.complete_visit(db, first.id, ServiceLogData(95, "Cleaned [b]all[/b] rooms\nAlarm OK",
                                                     "2 bags"), today=TODAY)
    done = jobs.create_job(db, JobData(client_id=hoa, title="Move-out clean",
                                       lines=[lines[2]]), today=TODAY)
    jobs.complete_job(db, done)
    proposals.convert_to_job(db, ids["Office move-out"], today=TODAY)
    return db, ids


async def _ready(pilot) -> None:
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # a blinking cursor would make the picture random
    await settle(pilot)


def _open_section(key: str, *then: str):
    async def run(pilot) -> None:
        await _ready(pilot)
        await pilot.press(key)
        await _ready(pilot)
        if then:
            await pilot.press(*then)
            await _ready(pilot)

    return run


def test_proposal_list(snap_compare, tmp_path):
    db, _ids = _sample_db(tmp_path)
    assert snap_compare(make_app(db), terminal_size=LARGE, run_before=_open_section("2"))


def test_proposal_list_at_80_columns(snap_compare, tmp_path):
    db, _ids = _sample_db(tmp_path)
    assert snap_compare(make_app(db), terminal_size=SMALL, run_before=_open_section("2"))


def test_proposal_editor(snap_compare, tmp_path):
    db, ids = _sample_db(tmp_path)
    app = make_app(db)

    async def open_draft(pilot) -> None:
        await _open_section("2")(pilot)
        pilot.app.screen._move_to(ids["draft"])
        await pilot.press("enter")
        await _ready(pilot)

    assert snap_compare(app, terminal_size=LARGE, run_before=open_draft)


def test_job_list(snap_compare, tmp_path):
    db, _ids = _sample_db(tmp_path)
    assert snap_compare(make_app(db), terminal_size=LARGE, run_before=_open_section("3"))


def test_job_detail(snap_compare, tmp_path):
    db, ids = _sample_db(tmp_path)
    app = make_app(db)

    async def open_job(pilot) -> None:
        await _ready(pilot)
        pilot.app.open_job(ids["job"])
        await _ready(pilot)

    assert snap_compare(app, terminal_size=LARGE, run_before=open_job)


def test_schedule_dialog_preview(snap_compare, tmp_path):
    db, ids = _sample_db(tmp_path)
    app = make_app(db)

    async def schedule(pilot) -> None:
        await _ready(pilot)
        pilot.app.open_job(ids["job"])
        await _ready(pilot)
        await pilot.press("v")
        await _ready(pilot)
        screen = pilot.app.screen
        screen.query_one("#s-repeat").value = "monthly"
        screen.query_one("#s-count").value = "12"
        await _ready(pilot)

    assert snap_compare(app, terminal_size=LARGE, run_before=schedule)
