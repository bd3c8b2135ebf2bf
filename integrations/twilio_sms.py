"""Text messages through the ``twilio`` SDK: send, follow delivery status, find a message
whose answer was lost, test the connection (DESIGN section 8).

The SDK builds the requests; they travel through :class:`HttpxTwilioClient`, a
``twilio.http.HttpClient`` on httpx that sends them to the configured ``api_base`` (the SDK's
own host is fixed) with a timeout and bounded retries. Twilio has no idempotency keys, so a
*send* is retried only when the request certainly did not reach Twilio (connection refused)
or Twilio turned it away (429). A timeout or a 5xx after sending is *unconfirmed*: the
message may be out, so it is never sent again blindly; ``sync`` looks it up. Reads
(status, lookups) are retried on every transient failure. What may be sent, and the
bookkeeping, is :mod:`core.messaging`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from core import business, messaging, tiers, validate
from core.db import Database
from core.errors import DomainError, ValidationError
from core.messaging import AlreadyReminded, Draft
from integrations.http import IntegrationError, RetryPolicy

if TYPE_CHECKING:
    import httpx

    from config import AppConfig
    from config.secrets import Secret, Secrets

SERVICE = "Twilio"
FEATURE = "integrations.twilio"
_log = logging.getLogger("tssg_crm.twilio")

# Twilio error codes a shop owner meets, in words ({to}: the number texted)
ERROR_WORDS = {
    20003: "Twilio refused the Account SID or Auth Token; check them in Settings.",
    20404: "Twilio has no such message.",
    21211: "{to} is not a valid phone number; check the contact's number.",
    21408: "Your Twilio account may not text that country; allow it in Twilio's "
           "Messaging Geographic Permissions.",
    21606: "The From number in the config file cannot send texts (it is not an SMS-capable "
           "number of this Twilio account).",
    21608: "A Twilio trial account can only text numbers verified in Twilio; verify {to} or "
           "upgrade the account.",
    21610: "{to} has replied STOP to your Twilio number, so Twilio will not deliver texts to "
           "it. The number is now on the opt-out list here and will not be texted again.",
    21614: "{to} is not a mobile number, so it cannot receive texts.",
    30003: "The phone was unreachable (switched off or out of coverage).",
    30004: "The message was blocked by the recipient or their carrier.",
    30005: "The number does not exist or is no longer in service.",
    30006: "The number is a landline or cannot receive texts.",
    30007: "The carrier filtered the message as possible spam.",
    30008: "The carrier could not deliver the message (unknown error).",
}
RECIPIENT_CODES = frozenset({21211, 21610, 21614, 21612, 21408, 21608})


class SmsUnconfirmed(IntegrationError):
    """The send request may have reached Twilio, but no answer came back."""


class RecipientRefused(IntegrationError):
    """Twilio refused this one recipient (bad number, landline, opted out); others may work."""

    def __init__(self, message: str, *, code: int, status: int | None = None) -> None:
        super().__init__(SERVICE, message, status=status)
        self.code = code


def explain_code(code: int | None, to: str = "the number", fallback: str = "") -> str:
    words = ERROR_WORDS.get(code or 0)
    if words:
        return words.format(to=to)
    detail = " ".join((fallback or "no details").split())
    return f"Twilio refused the message: {detail}" + (f" (error {code})" if code else "")


@dataclass(frozen=True)
class MessageState:
    sid: str
    status: str
    to: str = ""
    body: str = ""
    error_code: int | None = None
    error_message: str = ""
    date_created: dt.datetime | None = None


def _state(instance: Any) -> MessageState:
    return MessageState(sid=str(instance.sid), status=str(instance.status or ""),
                        to=str(instance.to or ""), body=str(instance.body or ""),
                        error_code=instance.error_code, error_message=str(
                            instance.error_message or ""), date_created=instance.date_created)


# --------------------------------------------------------------------------- the HTTP client


def _rebase(url: str, api_base: str) -> str:
    """The SDK's absolute URL with its scheme and host replaced by the configured base."""
    target, base = urlsplit(url), urlsplit(api_base)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + target.path,
                       target.query, ""))


def _twilio_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
        return f"HTTP {response.status_code}: {data.get('message') or ''}".strip(": ")
    except ValueError:
        return f"HTTP {response.status_code}"


_CLIENT_CLASS: type | None = None


def _client_class() -> type:
    """The httpx-based ``twilio.http.HttpClient`` (built on first use: the SDK is lazy)."""
    global _CLIENT_CLASS
    if _CLIENT_CLASS is not None:
        return _CLIENT_CLASS
    import httpx
    from twilio.http import HttpClient
    from twilio.http.response import Response

    from integrations.http import USER_AGENT, request, retry_after_seconds

    class HttpxTwilioClient(HttpClient):
        """Sends the SDK's requests with httpx to ``api_base``: timeout, bounded retries
        (for a POST only when it certainly did not reach Twilio, or Twilio said 429)."""

        def __init__(self, api_base: str, *, timeout: float, policy: RetryPolicy,
                     sleep: Callable[[float], None],
                     transport: httpx.BaseTransport | None = None) -> None:
            super().__init__(_log, False, timeout)
            self.api_base = api_base
            self.policy = policy
            self.sleep = sleep
            self.http = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport,
                                     headers={"User-Agent": USER_AGENT})

        def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                    data: dict[str, object] | None = None,
                    headers: dict[str, str] | None = None,
                    auth: tuple[str, str] | None = None, timeout: float | None = None,
                    allow_redirects: bool = False) -> Response:
            url = _rebase(uri, self.api_base)
            kwargs: dict[str, Any] = {"params": params, "headers": headers, "auth": auth,
                                      "follow_redirects": allow_redirects}
            if headers and headers.get("Content-Type") == "application/json":
                kwargs["json"] = data
            else:
                kwargs["data"] = data
            if method.upper() == "GET":
                response = request(self.http, method, url, service=SERVICE, policy=self.policy,
                                   sleep=self.sleep, describe=_twilio_detail, **kwargs)
            else:
                response = self._send_once_safely(method, url, kwargs, retry_after_seconds)
            return Response(response.status_code, response.text, response.headers)

        def _send_once_safely(self, method: str, url: str, kwargs: dict[str, Any],
                              retry_after: Callable[[httpx.Response], float | None]
                              ) -> httpx.Response:
            wait = self.policy.backoff
            last: IntegrationError | None = None
            for attempt in range(self.policy.retries + 1):
                try:
                    response = self.http.request(method, url, **kwargs)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    # never connected: Twilio cannot have the message
                    last = IntegrationError(SERVICE, f"could not be reached ({exc or 'refused'})",
                                            retryable=True)
                    hinted = None
                except httpx.TimeoutException:
                    raise SmsUnconfirmed(
                        SERVICE, f"did not answer within {self.timeout:g} s; the text may or may "
                        "not have been sent, so it is not sent again. Sync will check.",
                        retryable=False) from None
                except httpx.TransportError as exc:
                    raise SmsUnconfirmed(
                        SERVICE, f"connection broke ({exc or type(exc).__name__}); the text may "
                        "or may not have been sent, so it is not sent again. Sync will check.",
                        retryable=False) from None
                else:
                    if response.status_code == 429:
                        last = IntegrationError(SERVICE, "is limiting requests (rate limit)",
                                                status=429, retryable=True)
                        hinted = retry_after(response)
                    elif response.status_code >= 500:
                        raise SmsUnconfirmed(
                            SERVICE, f"had a server error ({_twilio_detail(response)}); the text "
                            "may or may not have been sent, so it is not sent again. Sync will "
                            "check.", status=response.status_code, retryable=False)
                    else:
                        return response
                if attempt < self.policy.retries:
                    self.sleep(hinted if hinted is not None else wait)
                    wait = min(wait * 2, self.policy.max_backoff)
            assert last is not None
            raise IntegrationError(SERVICE, f"{last.message} (gave up after "
                                   f"{self.policy.retries + 1} tries); the text was not sent.",
                                   status=last.status, retryable=True)

        def close(self) -> None:
            self.http.close()

    _CLIENT_CLASS = HttpxTwilioClient
    return HttpxTwilioClient


# --------------------------------------------------------------------------- the gateway


class TwilioGateway:
    """The Twilio calls this app makes."""

    def __init__(self, account_sid: Secret, auth_token: Secret, *, from_number: str,
                 api_base: str = "https://api.twilio.com", timeout: float = 20.0,
                 policy: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not account_sid or not auth_token:
            raise IntegrationError(SERVICE, "is not set up: add the Twilio Account SID and Auth "
                                   "Token in Settings (or TSSG_CRM_TWILIO_ACCOUNT_SID and "
                                   "TSSG_CRM_TWILIO_AUTH_TOKEN).")
        try:
            self.from_number, _ = validate.phone(from_number, "Twilio From number")
        except ValidationError:
            self.from_number = ""
        if not self.from_number:
            raise IntegrationError(SERVICE, "is not set up: set integrations.twilio.from_number "
                                   "in the config file to your Twilio number (+1...).")
        self._sid, self._token = account_sid, auth_token
        self.api_base = api_base.rstrip("/")
        self.timeout, self.policy, self.sleep, self.transport = timeout, policy, sleep, transport
        self._client: Any = None

    @classmethod
    def from_config(cls, config: AppConfig, secrets: Secrets, **kw: Any) -> TwilioGateway:
        from config.secrets import Secret

        cfg = config.integrations.twilio
        return cls(secrets.get("twilio_account_sid") or Secret(""),
                   secrets.get("twilio_auth_token") or Secret(""),
                   from_number=cfg.from_number, api_base=cfg.api_base, timeout=cfg.timeout, **kw)

    def client(self) -> Any:
        if self._client is None:
            from twilio.rest import Client  # lazily: the SDK is large

            http = _client_class()(self.api_base, timeout=self.timeout, policy=self.policy,
                                   sleep=self.sleep, transport=self.transport)
            self._client = Client(self._sid.get(), self._token.get(), http_client=http,
                                  environment={})
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.http_client.close()
            self._client = None

    def _rest(self, fn: Callable[[Any], Any], *, to: str = "the number") -> Any:
        """Run an SDK call; Twilio's refusals become :class:`IntegrationError` in words."""
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return fn(self.client())
        except TwilioRestException as exc:
            words = self._scrub(explain_code(exc.code, to, exc.msg))
            if exc.code in RECIPIENT_CODES:
                raise RecipientRefused(words, code=exc.code, status=exc.status) from None
            if exc.status == 401:
                words = ERROR_WORDS[20003]
            raise IntegrationError(SERVICE, words, status=exc.status) from None
        except TwilioException as exc:  # e.g. an unreadable page
            raise IntegrationError(SERVICE, f"sent an answer this app cannot read "
                                   f"({self._scrub(str(exc))[:120]})") from None

    def _scrub(self, text: str) -> str:
        for secret in (self._token.get(),):
            if secret:
                text = text.replace(secret, "***")
        return " ".join(text.split())

    def send(self, to: str, body: str) -> MessageState:
        return _state(self._rest(lambda c: c.messages.create(to=to, from_=self.from_number,
                                                             body=body), to=to))

    def fetch(self, sid: str) -> MessageState:
        return _state(self._rest(lambda c: c.messages(sid).fetch()))

    def find(self, to: str, body: str, since: dt.datetime) -> MessageState | None:
        """A message to ``to`` with this body created since ``since`` (aware), if Twilio has
        one: how an unconfirmed send is settled."""
        rows = self._rest(lambda c: c.messages.list(to=to, from_=self.from_number, limit=50))
        for row in rows:
            state = _state(row)
            created = state.date_created
            if state.body == body and (created is None or created >= since):
                return state
        return None

    def test_connection(self) -> str:
        account = self._rest(lambda c: c.api.v2010.accounts(self._sid.get()).fetch())
        name = " ".join(str(getattr(account, "friendly_name", "") or "").split())
        return (f"Connected to Twilio{f' ({name})' if name else ''}; texts will come from "
                f"{self.from_number}.")


# --------------------------------------------------------------------------- use cases


@dataclass(frozen=True)
class SendOutcome:
    message_id: int
    status: str
    sid: str


def send_draft(db: Database, gateway: TwilioGateway, tier: str, draft: Draft, *,
               now: dt.datetime | None = None, ignore_quiet_hours: bool = False,
               reminder: bool = False, actor: str = "owner") -> SendOutcome:
    """Send a previewed message: logged first, then sent once, then its outcome stored.

    Raises DomainError when it may not be sent (no consent, opted out, quiet hours, locked
    tier: nothing is written or sent) and IntegrationError when Twilio did not take it (the
    log says ``not_sent`` or, when unconfirmed, ``unknown``)."""
    tiers.require(tier, FEATURE)
    if draft.blocked:
        raise DomainError(draft.blocked)
    message_id = messaging.begin_send(db, draft, now=now, ignore_quiet_hours=ignore_quiet_hours,
                                      reminder=reminder, actor=actor)
    body = messaging.get_message(db, message_id).body
    try:
        state = gateway.send(draft.to_phone, body)
    except SmsUnconfirmed as exc:
        messaging.send_failed(db, message_id, definite=False, message_text=exc.message,
                              actor=actor)
        raise
    except RecipientRefused as exc:
        messaging.send_failed(db, message_id, definite=True, message_text=exc.message,
                              code=exc.code, opted_out=exc.code == 21610, actor=actor)
        raise
    except IntegrationError as exc:
        messaging.send_failed(db, message_id, definite=True, message_text=exc.message,
                              retry_reminder=exc.retryable, actor=actor)
        raise
    messaging.send_accepted(db, message_id, state.sid, state.status, actor=actor)
    return SendOutcome(message_id, state.status, state.sid)


def send_message(db: Database, gateway: TwilioGateway, tier: str, related_type: str,
                 related_id: int, template: str, *, contact_id: int | None = None,
                 body: str | None = None, now: dt.datetime | None = None,
                 ignore_quiet_hours: bool = False, actor: str = "owner") -> SendOutcome:
    """Compose and send in one step (what a screen calls after the preview was accepted)."""
    draft = messaging.compose(db, related_type, related_id, template, contact_id=contact_id,
                              body=body)
    return send_draft(db, gateway, tier, draft, now=now, ignore_quiet_hours=ignore_quiet_hours,
                      actor=actor)


@dataclass
class ReminderReport:
    day: dt.date
    sent: list[str] = field(default_factory=list)
    would_send: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (Twilio down, bad key, quiet hours)


def send_reminders(db: Database, gateway: TwilioGateway | None, tier: str, day: dt.date, *,
                   template: str = "visit_reminder", now: dt.datetime | None = None,
                   dry_run: bool = False, actor: str = "system") -> ReminderReport:
    """Text a reminder for each of ``day``'s visits that has not had it yet.

    Each visit and template is reminded at most once ever (a second run sends nothing new).
    Visits whose client cannot be texted are listed in ``skipped`` with the reason. During
    quiet hours nothing is sent (the next run will). ``dry_run`` only lists what would go."""
    tiers.require(tier, "automation.reminders")
    tiers.require(tier, FEATURE)
    report = ReminderReport(day=day)
    if not dry_run:
        quiet = messaging.quiet_hours_reason(business.load(db, "messaging"), now)
        if quiet:
            report.stopped = quiet
            return report
    for candidate in messaging.visits_to_remind(db, day, template):
        draft = messaging.compose(db, "visit", candidate.visit_id, template)
        who = f"{candidate.starts_at:%H:%M} {draft.client_name}"
        if draft.blocked:
            report.skipped.append(f"{who}: {draft.blocked}")
            continue
        if dry_run:
            report.would_send.append(f"{who} → {draft.to_phone}")
            continue
        if gateway is None:
            raise IntegrationError(SERVICE, "is not set up.")
        try:
            send_draft(db, gateway, tier, draft, now=now, reminder=True, actor=actor)
        except AlreadyReminded:
            continue  # another run got there first
        except RecipientRefused as exc:
            report.failed.append(f"{who}: {exc.message}")
            continue
        except IntegrationError as exc:
            report.failed.append(f"{who}: {exc.message}")
            report.stopped = str(exc)
            break
        except DomainError as exc:  # the contact changed since the preview
            report.skipped.append(f"{who}: {exc}")
            continue
        report.sent.append(f"{who} → {draft.to_phone}")
    return report


@dataclass
class MessageSyncResult:
    events: list[str] = field(default_factory=list)  # worth telling: a failure, a lost text
    routine: list[str] = field(default_factory=list)  # a text on its way or delivered
    error: str | None = None


# delivery news nobody needs a popup for (the client's message log shows it)
ROUTINE_STATUSES = (*messaging.IN_FLIGHT, "delivered", "read")


def sync_messages(db: Database, gateway: TwilioGateway, tier: str, *,
                  now: dt.datetime | None = None, actor: str = "system",
                  days: int = 7) -> MessageSyncResult:
    """Refresh delivery statuses and settle unconfirmed sends (found in Twilio: sent; not
    found after ten minutes: not sent, and its reminder is free again)."""
    tiers.require(tier, FEATURE)
    moment = now or dt.datetime.now(dt.UTC)
    result = MessageSyncResult()
    try:
        for m in messaging.messages_to_reconcile(db, now=moment):
            created = m.created_at.replace(tzinfo=dt.UTC) - dt.timedelta(minutes=5)
            found = gateway.find(m.to_phone, m.body, created)
            if found is not None:
                messaging.status_seen(db, m.id, found.status, twilio_sid=found.sid,
                                      error_code=found.error_code,
                                      error_message=found.error_message, actor=actor)
                result.events.append(f"Found the unconfirmed text to {m.to_phone}: "
                                     f"{messaging.STATUS_WORDS.get(found.status, found.status)}.")
            else:
                messaging.never_arrived(db, m.id, actor=actor)
                result.events.append(f"The unconfirmed text to {m.to_phone} was never sent.")
        for m in messaging.messages_to_refresh(db, now=moment, days=days):
            assert m.twilio_sid
            try:
                state = gateway.fetch(m.twilio_sid)
            except IntegrationError as exc:
                if exc.status != 404:
                    raise
                # deleted in the Twilio console: stop asking about it
                messaging.status_seen(db, m.id, "unknown", actor=actor,
                                      error_message="Twilio no longer has this message.")
                continue
            words = explain_code(state.error_code, m.to_phone, state.error_message) \
                if state.error_code else state.error_message
            if messaging.status_seen(db, m.id, state.status, error_code=state.error_code,
                                     error_message=words, actor=actor):
                said = (result.routine if state.status in ROUTINE_STATUSES
                        else result.events)
                said.append(f"Text to {m.to_phone}: "
                            f"{messaging.STATUS_WORDS.get(state.status, state.status)}.")
    except IntegrationError as exc:
        result.error = str(exc)
    return result
