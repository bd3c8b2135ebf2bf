"""A fake Twilio REST API (2010-04-01 Messages) on 127.0.0.1, driven through the real
``twilio`` SDK.

Speaks Twilio's wire format: HTTP Basic auth with the Account SID and Auth Token,
form-encoded ``To``/``From``/``Body``, JSON message resources (``sid`` ``SM…``, RFC 2822
dates, ``status``, ``error_code``), paged lists (``{"messages": [...], "next_page_uri": …}``)
and error JSON (``{"code", "message", "more_info", "status"}``) with the codes the app meets:
21211 (invalid number), 21610 (recipient replied STOP), 21614 (not a mobile), 20003 (bad
credentials), 20404 (no such message). :meth:`FakeTwilio.set_status` moves a message along
(sent, delivered, undelivered with an error code), as carriers do.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import secrets
from typing import Any

import pytest

from tests.fakes.loopback import Answer, LoopbackServer, Recorded

ACCOUNT_SID = "AC" + "0" * 30 + "1"
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
FROM_NUMBER = "+15005550006"


def twilio_error(status: int, code: int, message: str) -> Answer:
    return status, {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}, {}


def _rfc2822(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


class FakeTwilio(LoopbackServer):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.messages: dict[str, dict[str, Any]] = {}
        self.invalid_numbers: set[str] = set()  # 21211
        self.landlines: set[str] = set()  # 21614
        self.unsubscribed: set[str] = set()  # 21610: replied STOP

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every message Twilio accepted, oldest first."""
        return list(self.messages.values())

    def set_status(self, sid: str, status: str, error_code: int | None = None,
                   error_message: str | None = None) -> None:
        with self._lock:
            msg = self.messages[sid]
            msg.update(status=status, error_code=error_code, error_message=error_message,
                       date_updated=_rfc2822(dt.datetime.now(dt.UTC)))
            if status in ("sent", "delivered", "undelivered"):
                msg["date_sent"] = msg["date_sent"] or msg["date_updated"]

    def _authorised(self, req: Recorded) -> bool:
        import base64

        auth = req.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token

    def answer(self, req: Recorded) -> Answer:
        if not self._authorised(req):
            return twilio_error(401, 20003, "Authenticate")
        base = f"/2010-04-01/Accounts/{self.account_sid}"
        if req.path == f"{base}.json" and req.method == "GET":
            return 200, {"sid": self.account_sid, "friendly_name": "Test Shop",
                         "status": "active", "type": "Full",
                         "uri": f"{base}.json"}, {}
        if req.path == f"{base}/Messages.json" and req.method == "POST":
            return self._create(req.form, base)
        if req.path == f"{base}/Messages.json" and req.method == "GET":
            rows = [m for m in reversed(list(self.messages.values()))
                    if m["to"] == req.query.get("To", m["to"])
                    and m["from"] == req.query.get("From", m["from"])]
            size = int(req.query.get("PageSize", 50))
            return 200, {"messages": rows[:size], "end": min(size, len(rows)) - 1,
                         "first_page_uri": f"{base}/Messages.json?PageSize={size}&Page=0",
                         "next_page_uri": None, "previous_page_uri": None, "page": 0,
                         "page_size": size, "start": 0, "uri": f"{base}/Messages.json"}, {}
        m = re.fullmatch(rf"{re.escape(base)}/Messages/(SM\w+)\.json", req.path)
        if m and req.method == "GET":
            msg = self.messages.get(m.group(1))
            if msg is None:
                return twilio_error(404, 20404, f"The requested resource {req.path} was not "
                                    "found")
            return 200, msg, {}
        return twilio_error(404, 20404, f"The requested resource {req.path} was not found")

    def _create(self, form: dict[str, str], base: str) -> Answer:
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", to) or to in self.invalid_numbers:
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.landlines:
            return twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number")
        if to in self.unsubscribed:
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        now = _rfc2822(dt.datetime.now(dt.UTC))
        sid = "SM" + secrets.token_hex(16)
        msg = {"sid": sid, "account_sid": self.account_sid, "api_version": "2010-04-01",
               "to": to, "from": from_, "body": body, "status": "queued",
               "direction": "outbound-api", "num_segments": "1", "num_media": "0",
               "date_created": now, "date_updated": now, "date_sent": None,
               "error_code": None, "error_message": None, "price": None, "price_unit": "USD",
               "messaging_service_sid": None, "uri": f"{base}/Messages/{sid}.json",
               "subresource_uris": {"media": f"{base}/Messages/{sid}/Media.json"}}
        self.messages[sid] = msg
        return 201, msg, {}


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as server:
        yield server
