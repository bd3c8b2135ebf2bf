"""Template previews for Settings (core.message_preview): which real record fills a template,
example values when there is none, and text that could not be saved refused the same way
saving refuses it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import business, clients, invoices, message_preview, messaging, payment_links
from core.errors import ValidationError
from core.lines import LineData
from tests.core.factories import TODAY, make_job, make_proposal, schedule

TOMORROW = TODAY + dt.timedelta(days=1)


def _client(db, name: str) -> tuple[int, int]:
    cid = clients.create_client(db, clients.ClientData(name=name), [
        clients.ContactData(name=name, phone="+13125550142", is_primary=True,
                            sms_consent=True)],
        [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL")])
    with db.read() as s:
        return cid, s.get(clients.Client, cid).addresses[0].id


def _issued(db, cid: int, cents: int) -> int:
    iid = invoices.create_blank(db, cid, [LineData("Mowing", Decimal(1), cents)])
    invoices.issue(db, iid, TODAY)
    return iid


def test_the_next_visit_and_the_latest_unpaid_linked_invoice_fill_the_preview(db):
    business.update(db, "business", {"name": "Sparkle Cleaning"})
    past_cid, past_addr = _client(db, "Past Client")
    make_job(db, past_cid, address_id=past_addr, schedule=schedule(TODAY - dt.timedelta(days=3)))
    cid, addr = _client(db, "Maria Lopez")
    make_job(db, cid, address_id=addr, schedule=schedule(TOMORROW, "14:30"))
    linked = _issued(db, cid, 9_000)
    plan = payment_links.plan_link(db, linked)
    assert plan.request is not None
    payment_links.link_opened(db, plan.request.link_id, "plink_1", "https://buy.stripe.com/x1")
    _issued(db, past_cid, 5_000)  # newer, but without a link

    samples = message_preview.find_samples(db, TODAY)
    assert samples["visit"].label == "the visit of Maria Lopez on Wednesday, March 11 at 2:30 PM"
    assert samples["invoice"].related_id == linked
    assert "proposal" not in samples

    shown = message_preview.preview(db, "visit_reminder", "See you {visit_time}, {contact_name}",
                                    samples.get("visit"), TODAY)
    assert shown.body == "See you 2:30 PM, Maria" and shown.note is None
    paid = message_preview.preview(db, "invoice_link", "{amount_due}: {payment_link}",
                                   samples.get("invoice"), TODAY)
    assert paid.body == "$90.00: https://buy.stripe.com/x1"


def test_without_a_record_the_preview_uses_examples(db):
    business.update(db, "business", {"name": "Sparkle Cleaning"})
    shown = message_preview.preview(db, "proposal_ready", messaging.TEMPLATES[
        "proposal_ready"].default, None, TODAY)
    assert shown.about == "with example values (there is no proposal yet)"
    assert "PRO-0001" in shown.body and "Sparkle Cleaning" in shown.body
    assert "{" not in shown.body


def test_a_numbered_proposal_is_used_and_a_bad_placeholder_is_refused(db):
    from core import proposals

    cid, _addr = _client(db, "Acme Lawn Care")
    pid = make_proposal(db, cid, title="Spring clean")
    proposals.send_proposal(db, pid, today=TODAY)
    samples = message_preview.find_samples(db, TODAY)
    assert samples["proposal"].related_id == pid
    with pytest.raises(ValidationError) as refused:
        message_preview.preview(db, "proposal_ready", "Hi {visit_day}", samples["proposal"],
                                TODAY)
    assert refused.value.field == "Proposal ready template"
