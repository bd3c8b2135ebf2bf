"""Snapshot of the client page's message log: a delivered visit reminder, a text the carrier
could not deliver (with the reason in words) and a proposal text still queued at Twilio.
Fixed data, times and ``today``, as in :mod:`tests.tui.test_snapshots`.

Review a changed picture with ``pytest --snapshot-report``; accept it with
``pytest tests/tui/test_snapshots_sms.py --snapshot-update``.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import update

from core import business, clients, messaging, migrate
from core.db import Database
from core.models import AuditEvent, SmsMessage
from integrations.twilio_sms import explain_code
from tests.core.factories import make_job, make_sent_proposal, schedule, visit_ids
from tests.tui.support import TODAY, make_app, settle

LARGE = (100, 30)
NOON = dt.datetime(2026, 3, 14, 12, 0)  # outside quiet hours


@pytest.fixture(autouse=True)
def _fixed_clock_and_theme(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # times are shown in local time
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _texted_db(tmp_path) -> tuple[Database, int]:
    db = Database(str(tmp_path / "crm.sqlite3"))
    migrate.upgrade(db)
    business.update(db, "business", {"name": "Sparkle Cleaning Co", "phone": "415-555-0100"})
    cid = clients.create_client(db, clients.ClientData(name="Dana Reyes"), [
        clients.ContactData(name="Dana Reyes", phone="415-555-0101", is_primary=True,
                            sms_consent=True)])
    job = make_job(db, cid, title="Weekly office clean",
                   schedule=schedule(TODAY + dt.timedelta(days=1), "09:00"))
    proposal = make_sent_proposal(db, cid, title="Quarterly deep clean")

    def text(related: str, related_id: int, template: str, body: str | None = None) -> int:
        draft = messaging.compose(db, related, related_id, template, body=body)
        message_id = messaging.begin_send(db, draft, now=NOON)
        messaging.send_accepted(db, message_id, f"SM{message_id:032d}", "queued")
        return message_id

    reminder = text("visit", visit_ids(db, job)[0], "visit_reminder")
    messaging.status_seen(db, reminder, "delivered")
    late = text("client", cid, messaging.CUSTOM, "Running 10 minutes late, sorry!")
    messaging.status_seen(db, late, "undelivered", error_code=30003,
                          error_message=explain_code(30003))
    ready = text("proposal", proposal, "proposal_ready")
    with db.write() as s:
        for day, message_id in ((13, reminder), (14, late), (15, ready)):
            s.execute(update(SmsMessage).where(SmsMessage.id == message_id)
                      .values(created_at=dt.datetime(2026, 3, day, 16, 5)))
        s.execute(update(AuditEvent).values(at=dt.datetime(2026, 3, 13, 9, 30)))
    return db, cid


def test_client_page_message_log(snap_compare, tmp_path):
    db, cid = _texted_db(tmp_path)
    app = make_app(db)

    async def open_client(pilot):
        await settle(pilot)
        app.open_client(cid)
        await settle(pilot)

    assert snap_compare(app, terminal_size=LARGE, run_before=open_client)
