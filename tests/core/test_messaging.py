"""Text-message rules on both backends, without any HTTP: templates and their placeholders,
previews with the real record, consent and the opt-out list, quiet hours, the message log,
and "each visit and template at most once"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import business, clients, invoices, jobs, messaging, payment_links
from core.clients import ContactData
from core.errors import DomainError, ValidationError
from core.lines import LineData
from core.messaging import AlreadyReminded
from core.models import AuditEvent, Contact, SmsMessage, SmsOptOut, VisitReminder
from tests.core.factories import TODAY, make_job, make_user, schedule, visit_ids

PHONE = "+13125550142"
NOON = dt.datetime(2026, 3, 10, 12, 0)  # naive: the business's local wall-clock time


def _client(db, name: str = "Maria Lopez", *, phone: str = PHONE, consent: bool = True,
            more: list[ContactData] | None = None) -> int:
    contacts = [ContactData(name=name, phone=phone, sms_consent=consent, is_primary=True),
                *(more or [])]
    addr = [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL",
                                postal_code="62701")]
    return clients.create_client(db, clients.ClientData(name=name), contacts, addr)


def _address_id(db, cid: int) -> int:
    with db.read() as s:
        return s.get(clients.Client, cid).addresses[0].id


def _visit(db, cid: int, *, day: dt.date = TODAY, at: str = "09:30", assignee: int | None = None
           ) -> int:
    job = make_job(db, cid, title="Window cleaning", address_id=_address_id(db, cid),
                   schedule=schedule(day, at, assignee_id=assignee))
    return visit_ids(db, job)[0]


def _quiet_off(db) -> None:
    business.update(db, "messaging", {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- templates


def test_every_template_has_a_default_that_passes_its_own_check():
    for name, kind in messaging.TEMPLATES.items():
        assert messaging.check_template(name, kind.default) == kind.default
        assert set(messaging.placeholders_in(kind.default)) <= set(kind.placeholders)


def test_edited_templates_are_stored_and_reset(db):
    messaging.set_template(db, "on_my_way", "{technician_name} is 10 minutes away!")
    assert messaging.all_templates(db)["on_my_way"] == "{technician_name} is 10 minutes away!"
    assert messaging.all_templates(db)["visit_reminder"] == \
        messaging.TEMPLATES["visit_reminder"].default
    messaging.reset_template(db, "on_my_way")
    assert messaging.all_templates(db)["on_my_way"] == messaging.TEMPLATES["on_my_way"].default


@pytest.mark.parametrize("text, words", [
    ("Pay here: {payment_link}", "{payment_link} is not a placeholder of this template"),
    ("   ", "is empty"),
    ("x" * 1001, "too long"),
])
def test_a_bad_template_names_the_template_and_is_not_stored(db, text, words):
    with pytest.raises(ValidationError) as err:
        messaging.set_template(db, "visit_reminder", text)
    assert err.value.field == "Visit reminder template" and words in err.value.message
    assert messaging.all_templates(db)["visit_reminder"] == \
        messaging.TEMPLATES["visit_reminder"].default


def test_messaging_settings_are_validated_through_the_business_settings(db):
    with pytest.raises(ValidationError, match="quiet hours start"):
        business.update(db, "messaging", {"quiet_hours_start": "25:00"})
    with pytest.raises(ValidationError, match="time zone"):
        business.update(db, "messaging", {"timezone": "Mars/Olympus"})
    saved = business.update(db, "messaging", {"quiet_hours_start": "7:05",
                                              "timezone": "America/Chicago"})
    assert (saved["quiet_hours_start"], saved["timezone"]) == ("07:05", "America/Chicago")


@settings(max_examples=60, deadline=None)
@given(value=st.text(max_size=80))
def test_values_are_inserted_as_text_and_never_read_as_placeholders(value):
    out = messaging.render("A {client_name} B {contact_name}", {"client_name": value,
                                                                 "contact_name": "{client_name}"})
    assert out == f"A {value} B {{client_name}}"


def test_message_segments_follow_the_sms_alphabet():
    assert messaging.sms_segments("x" * 160) == 1
    assert messaging.sms_segments("x" * 161) == 2
    assert messaging.sms_segments("€" * 80) == 1  # two units each in GSM-7
    assert messaging.sms_segments("✓" * 70) == 1 and messaging.sms_segments("✓" * 71) == 2


# --------------------------------------------------------------------------- previews


def test_a_visit_reminder_preview_is_filled_from_the_real_records(db):
    business.update(db, "business", {"name": "Sparkle Windows", "phone": "555-0100"})
    tech = make_user(db, "Tess Tech")
    cid = _client(db)
    vid = _visit(db, cid, at="09:30", assignee=tech)
    draft = messaging.compose(db, "visit", vid, "visit_reminder")
    assert draft.blocked is None and draft.to_phone == PHONE
    assert draft.body == ("Hi Maria, this is Sparkle Windows reminding you of your visit on "
                          "Tuesday, March 10, 2026 at 9:30 AM at 12 Elm St, Springfield. "
                          "Reply STOP to opt out.")
    assert "Tess Tech from Sparkle Windows" in messaging.compose(db, "visit", vid,
                                                                "on_my_way").body


def test_the_invoice_message_needs_an_open_payment_link(db):
    cid = _client(db)
    iid = invoices.create_blank(db, cid, [LineData("Gutters", Decimal(1), 25_000)])
    invoices.issue(db, iid, TODAY)
    draft = messaging.compose(db, "invoice", iid, "invoice_link")
    assert draft.blocked and "no open payment link" in draft.blocked
    req = payment_links.plan_link(db, iid).request
    payment_links.link_opened(db, req.link_id, "plink_1", "https://buy.stripe.com/test_abc")
    draft = messaging.compose(db, "invoice", iid, "invoice_link")
    assert draft.blocked is None
    assert "$250.00" in draft.body and draft.body.endswith("https://buy.stripe.com/test_abc")
    # the same invoice without the link placeholder needs no link
    assert messaging.compose(db, "invoice", iid, messaging.CUSTOM, body="Thanks!").blocked is None


def test_a_proposal_ready_preview_names_the_proposal(db):
    from tests.core.factories import make_sent_proposal

    business.update(db, "business", {"name": "Sparkle Windows", "phone": "555-0100"})
    cid = _client(db)
    pid = make_sent_proposal(db, cid, title="Spring clean")
    draft = messaging.compose(db, "proposal", pid, "proposal_ready")
    assert draft.blocked is None and "(Spring clean)" in draft.body
    assert "$100.00" in draft.body and draft.body.endswith("Questions? Call 555-0100.")
    assert "PRO-" in draft.body


def test_a_template_for_another_record_is_refused(db):
    cid = _client(db)
    with pytest.raises(ValidationError, match="sent about a visit"):
        messaging.compose(db, "client", cid, "visit_reminder")


@pytest.mark.parametrize("phone, consent, words", [
    ("", True, "has a mobile number"),
    (PHONE, False, "has not agreed to receive texts"),
])
def test_who_cannot_be_texted_is_told_why(db, phone, consent, words):
    cid = _client(db, phone=phone, consent=consent)
    draft = messaging.compose(db, "client", cid, messaging.CUSTOM, body="Hello")
    assert draft.blocked and words in draft.blocked


def test_names_and_notes_with_naughty_strings_stay_plain_text(db, naughty_strings):
    _quiet_off(db)
    sample = [s for s in naughty_strings if s.strip()][:40]
    for i, name in enumerate(sample):
        cid = clients.create_client(db, clients.ClientData(name=name[:300]), [
            ContactData(name=name[:300], phone=PHONE, sms_consent=True)])
        draft = messaging.compose(db, "client", cid, messaging.CUSTOM, body=f"Hi {name}")
        assert "\x1b" not in draft.body and "\x00" not in draft.body
        mid = messaging.begin_send(db, draft, now=NOON)
        assert messaging.get_message(db, mid).body == draft.body, i


# --------------------------------------------------------------------------- sending rules


def test_a_send_is_logged_as_pending_before_twilio_is_called(db):
    _quiet_off(db)
    cid = _client(db)
    draft = messaging.compose(db, "client", cid, messaging.CUSTOM, body="See you soon")
    mid = messaging.begin_send(db, draft, now=NOON)
    m = messaging.get_message(db, mid)
    assert (m.status, m.to_phone, m.body, m.twilio_sid) == ("pending", PHONE, "See you soon", None)
    messaging.send_accepted(db, mid, "SM" + "a" * 32, "queued")
    assert messaging.client_messages(db, cid)[0].status_text == "queued at Twilio"


def test_refusals_write_nothing(db):
    cid = _client(db, consent=False)
    draft = messaging.compose(db, "client", cid, messaging.CUSTOM, body="Hello")
    events = _count(db, AuditEvent)
    with pytest.raises(DomainError, match="not agreed"):
        messaging.begin_send(db, draft, now=NOON)
    assert _count(db, SmsMessage) == 0 and _count(db, AuditEvent) == events


@pytest.mark.parametrize("start, end, at, quiet", [
    ("21:00", "08:00", "22:30", True),
    ("21:00", "08:00", "07:59", True),
    ("21:00", "08:00", "08:00", False),
    ("21:00", "08:00", "12:00", False),
    ("12:00", "13:00", "12:30", True),
    ("00:00", "00:00", "03:00", False),
])
def test_quiet_hours_may_wrap_midnight(db, start, end, at, quiet):
    settings_ = business.update(db, "messaging", {"quiet_hours_start": start,
                                                  "quiet_hours_end": end})
    now = dt.datetime.combine(TODAY, dt.time.fromisoformat(at))
    reason = messaging.quiet_hours_reason(settings_, now)
    assert (reason is not None) == quiet
    if quiet:
        assert f"Try again after {end}" in reason


def test_quiet_hours_use_the_business_time_zone(db):
    settings_ = business.update(db, "messaging", {"timezone": "America/Chicago"})
    utc_3am = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)  # 21:00 or 22:00 in Chicago
    assert messaging.quiet_hours_reason(settings_, utc_3am) is not None
    utc_6pm = dt.datetime(2026, 3, 10, 18, 0, tzinfo=dt.UTC)  # midday in Chicago
    assert messaging.quiet_hours_reason(settings_, utc_6pm) is None


def test_a_send_in_quiet_hours_is_refused_unless_the_owner_insists(db):
    cid = _client(db)
    draft = messaging.compose(db, "client", cid, messaging.CUSTOM, body="Late note")
    late = dt.datetime.combine(TODAY, dt.time(22, 15))
    with pytest.raises(DomainError, match="quiet hours"):
        messaging.begin_send(db, draft, now=late)
    assert _count(db, SmsMessage) == 0
    assert messaging.begin_send(db, draft, now=late, ignore_quiet_hours=True)


# --------------------------------------------------------------------------- opt-out list


def test_an_opted_out_number_blocks_every_contact_with_it_until_they_opt_back_in(db):
    _quiet_off(db)
    cid = _client(db)
    other = _client(db, "Luis Lopez")  # same household number
    draft = messaging.compose(db, "client", cid, messaging.CUSTOM, body="Hello")
    mid = messaging.begin_send(db, draft, now=NOON)
    messaging.send_failed(db, mid, definite=True, code=21610, opted_out=True,
                          message_text="replied STOP")
    assert messaging.is_opted_out(db, PHONE)
    for client_id in (cid, other):
        blocked = messaging.compose(db, "client", client_id, messaging.CUSTOM, body="x").blocked
        assert blocked and "replied STOP" in blocked
    with pytest.raises(DomainError, match="replied STOP"):
        messaging.begin_send(db, draft, now=NOON)
    # a new contact with that number is blocked too: the list is per number
    late = _client(db, "Lina Lopez")
    assert messaging.compose(db, "client", late, messaging.CUSTOM, body="x").blocked

    with db.read() as s:
        contact_id = s.scalar(select(Contact.id).where(Contact.client_id == cid))
    messaging.opt_in(db, contact_id)
    assert not messaging.is_opted_out(db, PHONE) and _count(db, SmsOptOut) == 0
    assert messaging.compose(db, "client", cid, messaging.CUSTOM, body="x").blocked is None


def test_the_owner_can_opt_a_contact_out(db):
    cid = _client(db)
    with db.read() as s:
        contact_id = s.scalar(select(Contact.id).where(Contact.client_id == cid))
    messaging.opt_out(db, contact_id)
    assert "asked not to be texted" in messaging.compose(db, "client", cid, messaging.CUSTOM,
                                                         body="x").blocked


# --------------------------------------------------------------------------- reminders


def test_each_visit_and_template_is_reminded_at_most_once(db):
    _quiet_off(db)
    cid = _client(db)
    vid = _visit(db, cid)
    assert [c.visit_id for c in messaging.visits_to_remind(db, TODAY)] == [vid]
    draft = messaging.compose(db, "visit", vid, "visit_reminder")
    messaging.begin_send(db, draft, now=NOON, reminder=True)
    assert messaging.visits_to_remind(db, TODAY) == []
    with pytest.raises(AlreadyReminded):
        messaging.begin_send(db, draft, now=NOON, reminder=True)
    assert _count(db, SmsMessage) == 1 and _count(db, VisitReminder) == 1
    # another template for the same visit is its own reminder
    assert [c.visit_id for c in messaging.visits_to_remind(db, TODAY, "on_my_way")] == [vid]


def test_a_reminder_that_certainly_never_left_is_free_again_and_an_unconfirmed_one_is_not(db):
    _quiet_off(db)
    cid = _client(db)
    first, second = _visit(db, cid, at="09:00"), _visit(db, cid, at="14:00")
    m1 = messaging.begin_send(db, messaging.compose(db, "visit", first, "visit_reminder"),
                              now=NOON, reminder=True)
    m2 = messaging.begin_send(db, messaging.compose(db, "visit", second, "visit_reminder"),
                              now=NOON, reminder=True)
    messaging.send_failed(db, m1, definite=True, retry_reminder=True,
                          message_text="Twilio could not be reached")
    messaging.send_failed(db, m2, definite=False, message_text="no answer")
    assert [c.visit_id for c in messaging.visits_to_remind(db, TODAY)] == [first]
    assert messaging.get_message(db, m2).status == "unknown"


def test_only_scheduled_visits_of_active_jobs_on_that_day_are_reminded(db):
    cid = _client(db)
    today = _visit(db, cid)
    tomorrow = _visit(db, cid, day=TODAY + dt.timedelta(days=1))
    cancelled = _visit(db, cid, at="15:00")
    jobs.cancel_visit(db, cancelled)
    assert [c.visit_id for c in messaging.visits_to_remind(db, TODAY)] == [today]
    assert [c.visit_id for c in messaging.visits_to_remind(
        db, TODAY + dt.timedelta(days=1))] == [tomorrow]


def test_unconfirmed_messages_wait_ten_minutes_before_they_are_looked_up(db):
    _quiet_off(db)
    cid = _client(db)
    mid = messaging.begin_send(db, messaging.compose(db, "client", cid, messaging.CUSTOM,
                                                     body="Hi"), now=NOON)
    created = messaging.get_message(db, mid).created_at.replace(tzinfo=dt.UTC)
    assert messaging.messages_to_reconcile(db, now=created + dt.timedelta(minutes=5)) == []
    assert [m.id for m in messaging.messages_to_reconcile(
        db, now=created + dt.timedelta(minutes=11))] == [mid]
    messaging.never_arrived(db, mid)
    assert messaging.get_message(db, mid).status == "not_sent"
    assert messaging.messages_to_reconcile(db, now=created + dt.timedelta(minutes=11)) == []


def test_forgetting_a_client_blanks_their_texts_but_keeps_the_opt_out(db):
    _quiet_off(db)
    cid, other = _client(db), _client(db, "Someone Else", phone="+13125550199")
    for client_id in (cid, other):
        draft = messaging.compose(db, "client", client_id, messaging.CUSTOM, body="Hi Maria!")
        mid = messaging.begin_send(db, draft, now=NOON)
    messaging.send_failed(db, mid, definite=True, code=21610, opted_out=True,
                          message_text="replied STOP")
    with db.write() as s:
        assert messaging.forget_client_in(s, cid) == 1
    (forgotten,) = messaging.client_messages(db, cid)
    assert (forgotten.to_phone, forgotten.body, forgotten.status) == ("", "", "pending")
    assert messaging.client_messages(db, other)[0].body == "Hi Maria!"
    assert messaging.is_opted_out(db, "+13125550199")
