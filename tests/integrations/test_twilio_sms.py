"""Text messages through the real ``twilio`` SDK (with our httpx HttpClient) against a
loopback fake that speaks Twilio's wire format: sending, delivery status, error codes 21211 /
21610 / 21614 in plain words, the opt-out list, reminders sent once, and faults (timeout,
500, 429, connection refused) that never text anyone twice."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select

from config.secrets import Secret
from core import business, clients, messaging
from core.clients import ContactData
from core.errors import DomainError
from core.models import Contact, SmsMessage
from core.tiers import FeatureLocked
from integrations import twilio_sms
from integrations.http import IntegrationError, RetryPolicy
from integrations.twilio_sms import RecipientRefused, SmsUnconfirmed, TwilioGateway
from tests.core.factories import TODAY, make_job, schedule, visit_ids
from tests.fakes.loopback import closed_port_url
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

PHONE = "+13125550142"
PREMIUM = "premium"
NOON = dt.datetime(2026, 3, 10, 12, 0)
FAST = RetryPolicy(retries=2, backoff=0.01)


@pytest.fixture
def twilio_fake():
    with FakeTwilio() as fake:
        yield fake


def _gateway(base: str, *, sleeps: list[float] | None = None, timeout: float = 5.0,
             token: str = AUTH_TOKEN) -> TwilioGateway:
    return TwilioGateway(Secret(ACCOUNT_SID), Secret(token), from_number=FROM_NUMBER,
                         api_base=base, timeout=timeout, policy=FAST,
                         sleep=sleeps.append if sleeps is not None else (lambda s: None))


@pytest.fixture
def gateway(twilio_fake):
    gw = _gateway(twilio_fake.base)
    yield gw
    gw.close()


def _client(db, name: str = "Maria Lopez", phone: str = PHONE, consent: bool = True) -> int:
    addr = [clients.AddressData(line1="12 Elm St", city="Springfield", region="IL")]
    return clients.create_client(db, clients.ClientData(name=name), [
        ContactData(name=name, phone=phone, sms_consent=consent)], addr)


def _visit(db, cid: int, at: str = "09:00") -> int:
    with db.read() as s:
        address_id = s.get(clients.Client, cid).addresses[0].id
    job = make_job(db, cid, address_id=address_id, schedule=schedule(TODAY, at))
    return visit_ids(db, job)[0]


@pytest.fixture(autouse=True)
def _no_quiet_hours(request):
    if "db" in request.fixturenames:
        business.update(request.getfixturevalue("db"), "messaging",
                        {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})


def _posts(fake: FakeTwilio):
    return fake.requests_to("POST", f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")


def _log(db, cid: int) -> list[messaging.MessageView]:
    return messaging.client_messages(db, cid)


def _send(db, gw, cid: int, body: str = "Running 10 minutes late, sorry!"):
    return twilio_sms.send_message(db, gw, PREMIUM, "client", cid, messaging.CUSTOM, body=body,
                                   now=NOON)


# --------------------------------------------------------------------------- sending


def test_a_text_goes_out_once_with_twilios_wire_format_and_its_status_is_followed(
        db, twilio_fake, gateway):
    cid = _client(db)
    outcome = _send(db, gateway, cid)
    (post,) = _posts(twilio_fake)
    assert post.form == {"To": PHONE, "From": FROM_NUMBER,
                         "Body": "Running 10 minutes late, sorry!"}
    user, _, password = base64.b64decode(post.headers["authorization"][6:]).decode().partition(":")
    assert (user, password) == (ACCOUNT_SID, AUTH_TOKEN)
    (logged,) = _log(db, cid)
    assert (logged.status, logged.twilio_sid) == ("queued", outcome.sid)
    assert outcome.sid in twilio_fake.messages

    twilio_fake.set_status(outcome.sid, "delivered")
    result = twilio_sms.sync_messages(db, gateway, PREMIUM)
    # delivered is the expected news: routine, not an event the app pops up
    assert result.error is None and result.events == []
    assert result.routine == [f"Text to {PHONE}: delivered."]
    assert _log(db, cid)[0].status == "delivered"
    again = twilio_sms.sync_messages(db, gateway, PREMIUM)
    assert again.events == again.routine == []  # delivered is final


def test_a_carrier_failure_is_shown_in_plain_words(db, twilio_fake, gateway):
    cid = _client(db)
    sid = _send(db, gateway, cid).sid
    twilio_fake.set_status(sid, "undelivered", 30006, "Landline or unreachable carrier")
    twilio_sms.sync_messages(db, gateway, PREMIUM)
    logged = _log(db, cid)[0]
    assert (logged.status, logged.error_code) == ("undelivered", 30006)
    assert logged.error_message == "The number is a landline or cannot receive texts."


@pytest.mark.parametrize("where, code, words", [
    ("invalid_numbers", 21211, f"{PHONE} is not a valid phone number"),
    ("landlines", 21614, f"{PHONE} is not a mobile number"),
])
def test_twilio_refusals_are_explained_and_logged_as_not_sent(db, twilio_fake, gateway, where,
                                                              code, words):
    getattr(twilio_fake, where).add(PHONE)
    cid = _client(db)
    with pytest.raises(RecipientRefused) as err:
        _send(db, gateway, cid)
    assert err.value.code == code and words in str(err.value)
    logged = _log(db, cid)[0]
    assert (logged.status, logged.error_code) == ("not_sent", code)
    assert words in logged.error_message
    assert len(_posts(twilio_fake)) == 1 and twilio_fake.sent == []


def test_21610_opts_the_contact_out_and_the_next_send_is_refused_without_a_request(
        db, twilio_fake, gateway):
    twilio_fake.unsubscribed.add(PHONE)
    cid = _client(db)
    with pytest.raises(RecipientRefused, match="replied STOP"):
        _send(db, gateway, cid)
    with db.read() as s:
        assert s.scalar(select(Contact.sms_opted_out_at).where(Contact.client_id == cid))
    requests_before = len(twilio_fake.requests)
    with pytest.raises(DomainError, match="replied STOP"):
        _send(db, gateway, cid, "Second try")
    assert len(twilio_fake.requests) == requests_before  # refused locally
    assert [m.status for m in _log(db, cid)] == ["not_sent"]


def test_no_consent_or_the_free_tier_sends_nothing(db, twilio_fake, gateway):
    cid = _client(db, consent=False)
    with pytest.raises(DomainError, match="not agreed"):
        _send(db, gateway, cid)
    with pytest.raises(FeatureLocked, match="Premium"):
        twilio_sms.send_message(db, gateway, "free", "client", _client(db, "Other"),
                                messaging.CUSTOM, body="Hi", now=NOON)
    assert twilio_fake.requests == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_quiet_hours_hold_the_message_back(db, twilio_fake, gateway):
    business.update(db, "messaging", {"quiet_hours_start": "21:00", "quiet_hours_end": "08:00"})
    cid = _client(db)
    late = dt.datetime(2026, 3, 10, 22, 30)
    with pytest.raises(DomainError, match="quiet hours"):
        twilio_sms.send_message(db, gateway, PREMIUM, "client", cid, messaging.CUSTOM,
                                body="Hi", now=late)
    assert twilio_fake.requests == []
    twilio_sms.send_message(db, gateway, PREMIUM, "client", cid, messaging.CUSTOM, body="Hi",
                            now=late, ignore_quiet_hours=True)
    assert len(twilio_fake.sent) == 1


# --------------------------------------------------------------------------- faults


def test_a_timeout_after_twilio_took_the_text_is_not_resent_and_sync_finds_it(db, twilio_fake):
    cid = _client(db)
    twilio_fake.slow(1.0, method="POST")
    gw = _gateway(twilio_fake.base, timeout=0.3)
    with pytest.raises(SmsUnconfirmed, match="may or may not have been sent"):
        _send(db, gw, cid)
    assert len(_posts(twilio_fake)) == 1 and len(twilio_fake.sent) == 1  # sent, answer lost
    assert _log(db, cid)[0].status == "unknown"

    created = _log(db, cid)[0].created_at.replace(tzinfo=dt.UTC)
    too_soon = twilio_sms.sync_messages(db, gw, PREMIUM, now=created + dt.timedelta(minutes=1))
    assert too_soon.events == [] and _log(db, cid)[0].status == "unknown"
    later = created + dt.timedelta(minutes=11)
    result = twilio_sms.sync_messages(db, gw, PREMIUM, now=later)
    gw.close()
    logged = _log(db, cid)[0]
    assert logged.twilio_sid == twilio_fake.sent[0]["sid"] and logged.status == "queued"
    assert any("Found the unconfirmed text" in e for e in result.events)
    assert len(twilio_fake.sent) == 1


def test_a_server_error_on_send_is_not_retried_and_a_missing_message_is_settled(
        db, twilio_fake, gateway):
    cid = _client(db)
    twilio_fake.fail(500, {"code": 20500, "message": "Internal Server Error", "status": 500},
                     method="POST")
    with pytest.raises(SmsUnconfirmed, match="server error"):
        _send(db, gateway, cid)
    assert len(_posts(twilio_fake)) == 1 and twilio_fake.sent == []
    created = _log(db, cid)[0].created_at.replace(tzinfo=dt.UTC)
    result = twilio_sms.sync_messages(db, gateway, PREMIUM,
                                      now=created + dt.timedelta(minutes=11))
    assert result.events == [f"The unconfirmed text to {PHONE} was never sent."]
    assert _log(db, cid)[0].status == "not_sent"


def test_a_rate_limit_is_retried_after_retry_after_and_sends_once(db, twilio_fake):
    cid = _client(db)
    twilio_fake.fail(429, {"code": 20429, "message": "Too Many Requests", "status": 429},
                     headers={"Retry-After": "2"}, method="POST")
    sleeps: list[float] = []
    gw = _gateway(twilio_fake.base, sleeps=sleeps)
    outcome = _send(db, gw, cid)
    gw.close()
    assert sleeps == [2.0] and len(_posts(twilio_fake)) == 2 and len(twilio_fake.sent) == 1
    assert _log(db, cid)[0].twilio_sid == outcome.sid


def test_connection_refused_is_retried_a_bounded_number_of_times_and_logged_not_sent(db):
    cid = _client(db)
    sleeps: list[float] = []
    gw = _gateway(closed_port_url(), sleeps=sleeps)
    with pytest.raises(IntegrationError, match="could not be reached") as err:
        _send(db, gw, cid)
    assert "gave up after 3 tries" in str(err.value) and len(sleeps) == 2
    logged = _log(db, cid)[0]
    assert logged.status == "not_sent" and "not sent" in logged.error_message


def test_bad_credentials_are_explained_without_the_token(db, twilio_fake):
    cid = _client(db)
    gw = _gateway(twilio_fake.base, token="wrong-token-123456")
    with pytest.raises(IntegrationError, match="Account SID or Auth Token") as err:
        _send(db, gw, cid)
    assert "wrong-token-123456" not in str(err.value)
    with pytest.raises(IntegrationError, match="Account SID or Auth Token"):
        gw.test_connection()


def test_test_connection_names_the_account_and_the_number(twilio_fake, gateway):
    assert gateway.test_connection() == (f"Connected to Twilio (Test Shop); texts will come "
                                         f"from {FROM_NUMBER}.")


def test_missing_settings_say_where_to_put_them():
    with pytest.raises(IntegrationError, match="TSSG_CRM_TWILIO_ACCOUNT_SID"):
        TwilioGateway(Secret(""), Secret(""), from_number=FROM_NUMBER)
    with pytest.raises(IntegrationError, match="from_number"):
        TwilioGateway(Secret(ACCOUNT_SID), Secret(AUTH_TOKEN), from_number="")


# --------------------------------------------------------------------------- reminders


def test_running_remind_twice_sends_each_reminder_once(db, twilio_fake, gateway):
    maria, luis = _client(db), _client(db, "Luis Ortega", "+13125550143")
    nobody = _client(db, "No Consent", "+13125550144", consent=False)
    v1, v2 = _visit(db, maria, "09:00"), _visit(db, luis, "13:00")
    _visit(db, nobody, "15:00")
    first = twilio_sms.send_reminders(db, gateway, PREMIUM, TODAY, now=NOON)
    assert len(first.sent) == 2 and first.stopped is None
    assert len(first.skipped) == 1 and "not agreed" in first.skipped[0]
    second = twilio_sms.send_reminders(db, gateway, PREMIUM, TODAY, now=NOON)
    assert second.sent == [] and len(second.skipped) == 1
    assert sorted(m["to"] for m in twilio_fake.sent) == [PHONE, "+13125550143"]
    assert messaging.reminded(db, [v1, v2]) == {v1, v2}


def test_a_reminder_run_during_an_outage_stops_and_the_next_run_sends_the_rest(db, twilio_fake):
    for i in range(3):
        _visit(db, _client(db, f"Client {i}", f"+1312555015{i}"), f"0{i + 7}:00")
    twilio_fake.fail(429, {"code": 20429, "message": "Too Many Requests", "status": 429},
                     times=99, method="POST")
    gw = _gateway(twilio_fake.base)
    report = twilio_sms.send_reminders(db, gw, PREMIUM, TODAY, now=NOON)
    assert report.sent == [] and report.stopped and "rate limit" in report.stopped
    assert len(_posts(twilio_fake)) == 3  # one visit, bounded retries, then the run stopped
    twilio_fake.faults.clear()
    again = twilio_sms.send_reminders(db, gw, PREMIUM, TODAY, now=NOON)
    gw.close()
    assert len(again.sent) == 3 and len(twilio_fake.sent) == 3


def test_reminders_wait_for_the_end_of_quiet_hours(db, twilio_fake, gateway):
    business.update(db, "messaging", {"quiet_hours_start": "21:00", "quiet_hours_end": "08:00"})
    _visit(db, _client(db))
    report = twilio_sms.send_reminders(db, gateway, PREMIUM, TODAY,
                                       now=dt.datetime(2026, 3, 10, 6, 30))
    assert report.stopped and "quiet hours" in report.stopped and twilio_fake.requests == []


def test_reminders_need_the_premium_tier(db, gateway):
    with pytest.raises(FeatureLocked, match="Scheduled visit reminders"):
        twilio_sms.send_reminders(db, gateway, "free", TODAY, now=NOON)
