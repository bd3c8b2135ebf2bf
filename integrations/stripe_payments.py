"""Stripe payment links through the ``stripe`` SDK: make a link for an invoice's balance,
find its paid sessions, deactivate a link whose balance changed (DESIGN section 8).

The SDK does the HTTP (``StripeClient`` with ``stripe.HTTPXClient``, base URL from config,
imported lazily); :class:`StripeGateway` adds the bounded retries of
:class:`integrations.http.RetryPolicy` around it (the SDK's own retries are off, since it
neither retries 429 nor lets tests skip its sleeps) and turns Stripe's errors into sentences.
Every create call carries the idempotency key stored beforehand by
:func:`core.payment_links.plan_link`, so a retry or a replay after a crash never makes a
second link. The bookkeeping lives in :mod:`core.payment_links`; this module only calls.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import payment_links, tiers
from core.db import Database
from core.errors import DomainError
from core.payment_links import LinkRequest, LinkView, PaidSession
from integrations.http import MAX_RETRY_AFTER, IntegrationError, RetryPolicy

if TYPE_CHECKING:
    from config import AppConfig
    from config.secrets import Secret, Secrets

SERVICE = "Stripe"
FEATURE = "integrations.stripe"
NOTHING_CHARGED = "Nothing was charged."


@dataclass(frozen=True)
class StripeLink:
    id: str
    url: str
    active: bool


@dataclass(frozen=True)
class StripeSession:
    id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int
    currency: str
    payment_intent: str | None

    @property
    def paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header of a Stripe error (capped), if it has one."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, min(float(value), MAX_RETRY_AFTER))
            except ValueError:
                return None
    return None


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _link(obj: Any) -> StripeLink:
    data = _plain(obj)
    return StripeLink(id=str(data["id"]), url=str(data.get("url") or ""),
                      active=bool(data.get("active", True)))


def _session(obj: Any) -> StripeSession:
    data = _plain(obj)
    intent = data.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    return StripeSession(id=str(data["id"]), status=str(data.get("status") or ""),
                         payment_status=str(data.get("payment_status") or ""),
                         amount_total=int(data.get("amount_total") or 0),
                         currency=str(data.get("currency") or ""),
                         payment_intent=str(intent) if intent else None)


def link_params(req: LinkRequest) -> dict[str, Any]:
    """The create parameters: from the stored row only, so a replay sends the same ones."""
    metadata = {"invoice_id": str(req.invoice_id), "invoice_number": req.invoice_number,
                "tssg_link_id": str(req.link_id)}
    return {
        "line_items": [{
            "price_data": {"currency": req.currency.lower(), "unit_amount": req.amount_cents,
                           "product_data": {"name": req.description}},
            "quantity": 1,
        }],
        "restrictions": {"completed_sessions": {"limit": 1}},  # single use
        "metadata": metadata,
        "payment_intent_data": {"description": req.description, "metadata": metadata},
    }


class StripeGateway:
    """The Stripe calls this app makes, with retries and plain-words errors."""

    def __init__(self, api_key: Secret, *, api_base: str = "https://api.stripe.com",
                 timeout: float = 20.0, policy: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not api_key:
            raise IntegrationError(SERVICE, "is not set up: add the Stripe secret key in "
                                   "Settings (or TSSG_CRM_STRIPE_API_KEY).")
        self._key = api_key
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.policy = policy
        self.sleep = sleep
        self._client: Any = None
        self._http: Any = None

    @classmethod
    def from_config(cls, config: AppConfig, secrets: Secrets, **kw: Any) -> StripeGateway:
        cfg = config.integrations.stripe
        key = secrets.get("stripe_api_key")
        if key is None:
            raise IntegrationError(SERVICE, "is not set up: add the Stripe secret key in "
                                   "Settings (or TSSG_CRM_STRIPE_API_KEY).")
        return cls(key, api_base=cfg.api_base, timeout=cfg.timeout, **kw)

    @property
    def test_mode(self) -> bool:
        return self._key.get().startswith(("sk_test_", "rk_test_"))

    def client(self) -> Any:
        if self._client is None:
            import stripe  # lazily: ~100 ms, and only when Stripe is used

            self._http = stripe.HTTPXClient(timeout=self.timeout, allow_sync_methods=True)
            self._client = stripe.StripeClient(
                self._key.get(), base_addresses={"api": self.api_base}, http_client=self._http,
                max_network_retries=0)
        return self._client

    def close(self) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None:
            http.close()  # the sync httpx client (the SDK also made an async one, never used)

    # ------------------------------------------------------------------ calls

    def _call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        import stripe

        client = self.client()
        wait = self.policy.backoff
        last: IntegrationError | None = None
        for attempt in range(self.policy.retries + 1):
            try:
                return fn(client)
            except stripe.StripeError as exc:
                error = self._explain(what, exc)
                if not error.retryable:
                    raise error from None
                last = error
                hinted = retry_after(exc.headers or {})
            if attempt < self.policy.retries:
                self.sleep(hinted if hinted is not None else wait)
                if hinted is None:
                    wait = min(wait * 2, self.policy.max_backoff)
        assert last is not None
        raise IntegrationError(SERVICE, f"{last.message} (gave up after "
                               f"{self.policy.retries + 1} tries). {NOTHING_CHARGED}",
                               status=last.status, retryable=True)

    def _explain(self, what: str, exc: Any) -> IntegrationError:
        """A StripeError in words; ``retryable`` for rate limits, network and server errors."""
        import stripe

        status = getattr(exc, "http_status", None)
        said = self._scrub(getattr(exc, "user_message", None) or "")
        if isinstance(exc, stripe.APIConnectionError):
            import httpx

            cause = exc.__cause__
            if isinstance(cause, httpx.TimeoutException):
                msg = f"did not answer within {self.timeout:g} s while {what}"
            else:
                msg = f"could not be reached while {what} (network problem)"
            return IntegrationError(SERVICE, msg, retryable=True)
        if isinstance(exc, stripe.RateLimitError):
            return IntegrationError(SERVICE, f"is limiting requests (rate limit) while {what}",
                                    status=429, retryable=True)
        if isinstance(exc, stripe.AuthenticationError):
            return IntegrationError(SERVICE, "refused the API key: check the Stripe secret key "
                                    f"in Settings. {NOTHING_CHARGED}", status=status)
        if isinstance(exc, stripe.PermissionError):
            return IntegrationError(SERVICE, "does not let this API key do that (a restricted "
                                    f"key needs Payment Links and Checkout access): {said} "
                                    f"{NOTHING_CHARGED}", status=status)
        if isinstance(exc, stripe.CardError):
            return IntegrationError(SERVICE, f"declined the request: {said} {NOTHING_CHARGED}",
                                    status=status)
        if isinstance(exc, stripe.IdempotencyError):
            return IntegrationError(SERVICE, "refused to repeat an earlier request with "
                                    f"different details: {said}", status=status)
        if status is None or status >= 500 or status == 409:
            return IntegrationError(SERVICE, f"had a server error while {what}: "
                                    f"{said or 'no details'}", status=status, retryable=True)
        return IntegrationError(SERVICE, f"refused the request while {what}: {said} "
                                f"{NOTHING_CHARGED}", status=status)

    def _scrub(self, text: str) -> str:
        """Stripe masks keys in its messages; make sure, and keep it to one line."""
        key = self._key.get()
        return " ".join(text.replace(key, "***").split()) if key else " ".join(text.split())

    def create_link(self, req: LinkRequest) -> StripeLink:
        return _link(self._call("making the payment link", lambda c: c.v1.payment_links.create(
            link_params(req), {"idempotency_key": req.idempotency_key})))

    def retrieve_link(self, link_id: str) -> StripeLink:
        return _link(self._call("checking a payment link",
                                lambda c: c.v1.payment_links.retrieve(link_id)))

    def deactivate_link(self, link_id: str) -> StripeLink:
        return _link(self._call("turning off a payment link", lambda c: c.v1.payment_links.update(
            link_id, {"active": False})))

    def sessions_for(self, link_id: str) -> list[StripeSession]:
        page = self._call("checking payments", lambda c: c.v1.checkout.sessions.list(
            {"payment_link": link_id, "limit": 100}))
        return [_session(obj) for obj in page.data]

    def test_connection(self) -> str:
        """One harmless read with the key; the sentence Settings shows."""
        self._call("testing the connection",
                   lambda c: c.v1.payment_links.list({"limit": 1}))
        mode = "test mode" if self.test_mode else "live mode"
        return f"Connected to Stripe ({mode}); payment links can be made."


# --------------------------------------------------------------------------- use cases


def ensure_link(db: Database, gateway: StripeGateway, tier: str, invoice_id: int, *,
                actor: str = "owner") -> LinkView:
    """"Payment link" on an invoice: the open link for its balance, made if needed.

    A link for another amount is deactivated first; an interrupted earlier attempt is
    replayed with its stored idempotency key (Stripe returns the link it already made)."""
    tiers.require(tier, FEATURE)
    for _ in range(4):
        plan = payment_links.plan_link(db, invoice_id, actor=actor)
        if plan.ready is not None:
            return plan.ready
        if plan.stale is not None:
            close_link(db, gateway, plan.stale, "the invoice balance changed", actor=actor)
            continue
        assert plan.request is not None
        view = _create(db, gateway, plan.request, actor)
        if not payment_links.needs_replacement(db, view.id):
            return view
    raise DomainError("The payment link could not be settled; try again.")


def _create(db: Database, gateway: StripeGateway, req: LinkRequest, actor: str) -> LinkView:
    try:
        made = gateway.create_link(req)
    except IntegrationError as exc:
        # no answer: keep the attempt (and its key) for a replay; a refusal closes it
        payment_links.link_failed(db, req.link_id, exc.message, definite=not exc.retryable,
                                  actor=actor)
        raise
    return payment_links.link_opened(db, req.link_id, made.id, made.url, actor=actor)


def close_link(db: Database, gateway: StripeGateway, view: LinkView, reason: str, *,
               actor: str = "owner") -> list[str]:
    """Deactivate a link in Stripe, record anything already paid through it, mark it
    expired. Returns what happened, in sentences."""
    events: list[str] = []
    if view.stripe_link_id:
        gateway.deactivate_link(view.stripe_link_id)
        events += record_paid(db, gateway, view, actor=actor)
    payment_links.link_closed(db, view.id, reason, actor=actor)
    events.append(f"Turned off the {view.amount_text} payment link for {view.invoice_number} "
                  f"({reason}).")
    return events


def record_paid(db: Database, gateway: StripeGateway, view: LinkView, *,
                today: dt.date | None = None, actor: str = "owner") -> list[str]:
    """Record every paid session of a link (each once, however often it is seen)."""
    assert view.stripe_link_id
    events = []
    for session in gateway.sessions_for(view.stripe_link_id):
        if not session.paid:
            continue
        outcome = payment_links.record_paid_session(
            db, view.id, PaidSession(session.id, session.amount_total, session.currency,
                                     session.payment_intent), today=today, actor=actor)
        if outcome.kind == "recorded":
            events.append(f"Recorded a card payment on {view.invoice_number} (Stripe).")
        elif outcome.kind == "conflict":
            events.append(f"Needs attention: {outcome.message}")
    return events


@dataclass
class LinkSyncResult:
    events: list[str] = field(default_factory=list)
    error: str | None = None


def sync_links(db: Database, gateway: StripeGateway, tier: str, *,
               now: dt.datetime | None = None, today: dt.date | None = None,
               actor: str = "system") -> LinkSyncResult:
    """Poll every link whose Stripe state can still change: finish interrupted creations,
    record paid sessions, notice links turned off in Stripe, replace stale links.

    Stops at the first failure that is not about one link (bad key, Stripe down) and says so
    in ``error``; what was done before stays done."""
    tiers.require(tier, FEATURE)
    result = LinkSyncResult()
    for view in payment_links.links_to_poll(db, now=now):
        try:
            if view.status == "creating":
                view = _create(db, gateway, payment_links.replay_request(db, view.id), actor)
                result.events.append(f"Finished the interrupted payment link for "
                                     f"{view.invoice_number}.")
            assert view.stripe_link_id
            result.events += record_paid(db, gateway, view, today=today, actor=actor)
            current = payment_links.get_link(db, view.id)
            if current.status != "open":
                continue
            if payment_links.needs_replacement(db, view.id):
                result.events += close_link(db, gateway, current,
                                            "the invoice balance changed", actor=actor)
                if payment_links.invoice_collectable(db, view.invoice_id):
                    fresh = ensure_link(db, gateway, tier, view.invoice_id, actor=actor)
                    result.events.append(f"Made a new {fresh.amount_text} payment link for "
                                         f"{fresh.invoice_number}.")
            elif not gateway.retrieve_link(view.stripe_link_id).active:
                payment_links.link_closed(db, view.id, "turned off in Stripe", actor=actor)
                result.events.append(f"The payment link for {view.invoice_number} was turned "
                                     "off in Stripe.")
        except IntegrationError as exc:
            result.error = str(exc)
            break
    return result
