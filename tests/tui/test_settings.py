"""Settings by keyboard (SQLite; the services under it are tested on both backends in
tests/core): each section's main action, what ends up on disk or in the database, and what
the screen shows. One test of the new core helper runs on both backends."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.privacy import analytics_queue_file, load_privacy, set_toggle
from config.secrets import load_secrets
from config.state import LocalState
from core import analytics, business, catalog, licensing
from core.errors import ValidationError
from core.models import AuditEvent
from tests.fakes.license_server import LicenseServer
from tests.license_support import paths_for, trust_test_key
from tests.tui.support import make_app, notices, paste, screen_text, settle, type_text, wait_until
from tui.screens.confirm import ConfirmScreen
from tui.screens.settings import SECTIONS, SettingsScreen


def _home() -> Path:
    return Path(os.environ["TSSG_CRM_HOME"])


def _paths():
    paths = paths_for(_home())
    paths.ensure()
    return paths


async def _open(pilot, section: str) -> SettingsScreen:
    await pilot.press("f2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SettingsScreen)
    for _ in range([key for key, _title in SECTIONS].index(section)):
        await pilot.press("down")
    await settle(pilot)
    return screen


async def _focus(pilot, widget_id: str) -> None:
    pilot.app.screen.query_one(f"#{widget_id}").focus()
    await pilot.pause()


# --------------------------------------------------------------------------- business


def test_update_several_saves_all_or_nothing(db):
    business.update_several(db, {"business": {"name": "Bright Lawns", "email": "hi@bright.test"},
                                 "defaults": {"payment_terms_days": 14}})
    assert business.load(db, "business")["email"] == "hi@bright.test"
    assert business.load(db, "defaults")["payment_terms_days"] == 14
    with pytest.raises(ValidationError) as refused:
        business.update_several(db, {"business": {"name": "Changed"},
                                     "defaults": {"payment_terms_days": 999}})
    assert refused.value.field == "payment terms (days)"
    assert business.load(db, "business")["name"] == "Bright Lawns"  # nothing written


async def test_business_profile_saves_and_a_bad_email_is_refused(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "business")
        await pilot.press("enter")  # into the section's first field
        assert app.focused is not None and app.focused.id == "b-name"
        await _focus(pilot, "b-email")
        await type_text(pilot, "not-an-email")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Business email:" in screen_text(app)
        assert business.load(ui_db, "business")["email"] == ""  # nothing written

        await _focus(pilot, "b-email")
        screen.query_one("#b-email").value = ""  # type: ignore[attr-defined]
        await type_text(pilot, "office@sparkle.test")
        await _focus(pilot, "b-terms")
        screen.query_one("#b-terms").value = ""  # type: ignore[attr-defined]
        await type_text(pilot, "14")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Business profile saved." in notices(app)
        assert business.load(ui_db, "business")["email"] == "office@sparkle.test"
        assert business.load(ui_db, "defaults")["payment_terms_days"] == 14
        await pilot.press("escape")  # saved: leaves without asking
        await settle(pilot)
        assert not isinstance(app.screen, SettingsScreen)


async def test_escape_with_an_unsaved_profile_asks_first(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "business")
        await _focus(pilot, "b-phone")
        await type_text(pilot, "555")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)


async def test_a_profile_changed_elsewhere_is_not_overwritten(ui_db):
    """Two people share the database: while Settings is open here, someone else saves the
    business profile. Saving here says so and writes nothing; the edits stay on screen.
    This screen's own saves follow each other without a false refusal."""
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "business")
        await wait_until(pilot, lambda: screen.query_one("#b-name").value == "Sparkle Cleaning",  # type: ignore[attr-defined]
                         "the profile shown")
        for phone in ("555-0100", "555-0111"):  # two saves in a row: the second is not stale
            screen.query_one("#b-phone").value = phone  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda p=phone: business.load(ui_db, "business")["phone"] == p,
                             f"phone {phone} saved")
        await settle(pilot)

        business.update(ui_db, "business", {"name": "Sparkle & Shine", "email": "new@shine.test"})
        with ui_db.read() as s:
            events = s.scalar(select(func.count()).select_from(AuditEvent))
        await _focus(pilot, "b-phone")
        await pilot.press("end")
        await type_text(pilot, "9")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("changed elsewhere" in n for n in notices(app)),
                         "the stale-save message")
        assert ("This business profile was changed elsewhere after you opened it. Nothing was "
                "saved; reopen it to see the latest version.") in notices(app)
        assert len([n for n in notices(app) if "changed elsewhere" in n]) == 1
        saved = business.load(ui_db, "business")
        assert (saved["name"], saved["email"], saved["phone"]) == (
            "Sparkle & Shine", "new@shine.test", "555-0111")
        with ui_db.read() as s:
            assert s.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert screen.query_one("#b-phone").value == "555-01119"  # type: ignore[attr-defined]
        assert screen.query_one("#b-name").value == "Sparkle Cleaning"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- tax, numbering


async def test_add_a_tax_rate_and_a_bad_rate_is_refused(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "tax")
        await _focus(pilot, "t-name")
        await type_text(pilot, "State tax")
        await _focus(pilot, "t-rate")
        await type_text(pilot, "abc")
        await _focus(pilot, "tax-add")
        await pilot.press("enter")
        await settle(pilot)
        assert catalog.list_tax_rates(ui_db) == []
        assert any("rate" in n.lower() for n in notices(app))
        app.screen.query_one("#t-rate").value = ""  # type: ignore[attr-defined]
        await _focus(pilot, "t-rate")
        await type_text(pilot, "8.875")
        await _focus(pilot, "tax-add")
        await pilot.press("enter")
        await settle(pilot)
        rates = catalog.list_tax_rates(ui_db)
        assert [(r.name, str(r.rate)) for r in rates] == [("State tax", "8.875")]
        await wait_until(pilot, lambda: "8.875 %" in screen_text(app), "the new rate listed")


async def test_numbering_preview_follows_typing_and_saves(ui_db):
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "numbering")
        field = screen.query_one("#n-invoice")
        field.value = ""  # type: ignore[attr-defined]
        await _focus(pilot, "n-invoice")
        await paste(pilot, "INV-{year}-{seq:05}")
        await settle(pilot)
        assert "Next: INV-2026-00001" in screen_text(app)
        await paste(pilot, "{nope}")
        await settle(pilot)
        assert "Next:" not in screen.query_one("#n-invoice-preview").render().plain  # type: ignore[attr-defined]
        field.value = "INV-{year}-{seq:05}"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert business.load(ui_db, "numbering")["invoice"] == "INV-{year}-{seq:05}"


# --------------------------------------------------------------------------- integrations


async def test_a_key_is_stored_masked_in_the_private_file_and_never_shown(ui_db):
    key = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXYZ9"
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "integrations")
        assert screen.query_one("#k-stripe_api_key").password  # type: ignore[attr-defined]
        assert "needs the Premium tier" in screen_text(app)  # locked, with the reason
        await _focus(pilot, "k-stripe_api_key")
        await paste(pilot, key)
        await _focus(pilot, "save-stripe")
        await pilot.press("enter")
        await settle(pilot)
        secrets_file = _paths().secrets_file
        assert load_secrets(secrets_file).get("stripe_api_key").get() == key  # type: ignore[union-attr]
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        shown = screen_text(app)
        assert "••••XYZ9" in shown and key not in shown
        assert screen.query_one("#k-stripe_api_key").value == ""  # type: ignore[attr-defined]
        # "Test connection" on the Free tier: refused with the reason, nothing sent
        await _focus(pilot, "test-stripe")
        await pilot.press("enter")
        await settle(pilot)
        assert any("needs the Premium tier" in n for n in notices(app))


# --------------------------------------------------------------------------- privacy


async def test_analytics_off_deletes_the_queue_at_once(ui_db):
    paths = _paths()
    set_toggle(paths, "analytics", True)
    analytics.record_feature(paths, "clients.open")
    assert analytics_queue_file(paths).exists()
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "analytics")
        assert '"clients.open": 1' in screen_text(app)  # the queued payload, exactly
        await pilot.press("up")  # privacy
        await settle(pilot)
        assert "Anonymous usage analytics" in screen_text(app)
        await _focus(pilot, "p-analytics")
        await pilot.press("enter")  # switch off
        await settle(pilot)
        assert load_privacy(paths).analytics is False
        assert not analytics_queue_file(paths).exists()


async def test_local_storage_off_asks_then_deletes_the_state_file(ui_db):
    paths = _paths()
    state = LocalState(paths)
    state.set_preference("theme", "x")
    assert paths.state_file.exists()
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "privacy")
        await _focus(pilot, "p-local_storage")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep it
        await settle(pilot)
        assert load_privacy(paths).local_storage is True and paths.state_file.exists()
        assert app.screen.query_one("#p-local_storage").value is True  # type: ignore[attr-defined]
        await _focus(pilot, "p-local_storage")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert load_privacy(paths).local_storage is False
        assert not paths.state_file.exists()
        assert state.set_preference("theme", "y") is False  # nothing written from then on


async def test_ai_consent_toggles_and_shows_the_lock_reason(ui_db):
    paths = _paths()
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _open(pilot, "privacy")
        assert "needs the Sovereign tier" in screen_text(app)
        await _focus(pilot, "p-ai_consent")
        await pilot.press("enter")
        await settle(pilot)
        assert load_privacy(paths).ai_consent is True
        await pilot.press("enter")
        await settle(pilot)
        assert load_privacy(paths).ai_consent is False
        assert any("The assistant is disabled" in n for n in notices(app))


# --------------------------------------------------------------------------- license, data


async def test_check_now_shows_the_exact_payload_and_the_granted_tier(ui_db):
    with LicenseServer(tier="premium") as server:
        config = trust_test_key(_home(), server_url=server.url)
        app = make_app(ui_db)
        app.config = config
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await _open(pilot, "license")
            assert "No check has run yet" in screen_text(app)
            await _focus(pilot, "license-check")
            await pilot.press("enter")
            await settle(pilot)
            assert len(server.checks) == 1
            sent = server.checks[0].json
            assert set(sent) == set(licensing.CHECK_FIELDS)
            shown = screen_text(app)
            assert "Tier in force: Premium (valid)" in shown
            assert f'"instance_id": "{sent["instance_id"]}"' in shown
            assert f'"app_version": "{sent["app_version"]}"' in shown


async def test_export_everything_writes_a_zip(ui_db, tmp_path):
    dest = tmp_path / "everything.zip"
    app = make_app(ui_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await _open(pilot, "data")
        screen.query_one("#export-path").value = str(tmp_path)  # type: ignore[attr-defined]
        await _focus(pilot, "export-run")
        await pilot.press("enter")
        await settle(pilot)
        assert "that is a folder" in screen_text(app)  # refused, nothing written
        assert list(tmp_path.glob("*.zip")) == []
        screen.query_one("#export-path").value = str(dest)  # type: ignore[attr-defined]
        await _focus(pilot, "export-run")
        # a button takes no second press while it shows the first (Textual: 0.2 s)
        await wait_until(pilot, lambda: not screen.query_one("#export-run").has_class("-active"),
                         "the button to be pressable again")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.startswith("Exported ") for n in notices(app)),
                         "the export")
        assert dest.exists()
        with zipfile.ZipFile(dest) as zf:
            manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "tssg-crm-export"
        assert any(n.startswith("Exported ") for n in notices(app))
        with ui_db.read() as s:
            assert s.scalar(select(func.count()).select_from(AuditEvent)) >= 1
