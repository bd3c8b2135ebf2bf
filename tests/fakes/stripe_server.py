"""A fake Stripe API on 127.0.0.1, driven through the real ``stripe`` SDK.

Speaks Stripe's wire format: form-encoded bodies with bracketed keys
(``line_items[0][price_data][unit_amount]=12500``), Bearer auth, JSON objects and lists, the
error JSON (``{"error": {"type", "code", "message"}}``) with 401/402/404/429/500, and
idempotency keys (a replay with the same key and parameters returns the first answer with
``Idempotent-Replayed: true``; other parameters get an ``idempotency_error``).

Implements what the app uses: ``POST/GET /v1/payment_links[/{id}]``, ``GET
/v1/payment_links`` and ``GET /v1/checkout/sessions?payment_link=``. Test hooks stand in for
the customer: :meth:`FakeStripe.pay` completes a paid Checkout Session on a link (a
single-use link then turns itself off, as Stripe does), :meth:`open_session` starts one,
:meth:`complete` and :meth:`expire` finish it.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.fakes.loopback import Answer, LoopbackServer, Recorded

API_KEY = "sk_test_fake0000000000000000000000"


def parse_form(body: bytes) -> dict[str, Any]:
    """Stripe's bracketed form keys as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


def error(status: int, type_: str, message: str, code: str | None = None,
          headers: dict[str, str] | None = None) -> Answer:
    body: dict[str, Any] = {"error": {"type": type_, "message": message}}
    if code:
        body["error"]["code"] = code
    return status, body, {"Request-Id": f"req_{secrets.token_hex(7)}", **(headers or {})}


# canned errors for fail(): (status, body)
CARD_DECLINED = {"error": {"type": "card_error", "code": "card_declined",
                           "message": "Your card was declined."}}
RATE_LIMITED = {"error": {"type": "invalid_request_error", "code": "rate_limit",
                          "message": "Too many requests hit the API too quickly."}}
SERVER_ERROR = {"error": {"type": "api_error",
                          "message": "An unknown error occurred on Stripe's servers."}}
PERMISSION = {"error": {"type": "invalid_request_error",
                        "message": "The provided key 'rk_test_***abcd' does not have the "
                                   "required permissions for this endpoint."}}


class FakeStripe(LoopbackServer):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.links: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[dict[str, Any], Answer]] = {}
        self._ids = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):04d}{secrets.token_hex(6)}"

    # ------------------------------------------------------------------ the customer

    def _session(self, link_id: str, *, status: str, paid: bool) -> dict[str, Any]:
        link = self.links[link_id]
        item = link["_line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        session = {
            "id": self._id("cs"), "object": "checkout.session", "mode": "payment",
            "payment_link": link_id, "status": status,
            "payment_status": "paid" if paid else "unpaid",
            "amount_total": amount, "amount_subtotal": amount,
            "currency": item["price_data"]["currency"],
            "payment_intent": self._id("pi") if paid else None,
            "created": int(time.time()), "livemode": False, "metadata": {},
            "url": None if status != "open" else f"https://checkout.stripe.com/c/pay/{link_id}",
        }
        self.sessions[session["id"]] = session
        return session

    def pay(self, link_id: str) -> str:
        """The customer pays through the link: a complete, paid session."""
        with self._lock:
            if not self.links[link_id]["active"]:
                raise AssertionError("a customer cannot pay through an inactive link")
            session = self._session(link_id, status="complete", paid=True)
            self._after_completion(link_id)
            return session["id"]

    def open_session(self, link_id: str) -> str:
        """The customer opened the link and is typing their card number."""
        with self._lock:
            return self._session(link_id, status="open", paid=False)["id"]

    def complete(self, session_id: str) -> None:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid",
                           payment_intent=self._id("pi"), url=None)
            self._after_completion(session["payment_link"])

    def expire(self, session_id: str) -> None:
        with self._lock:
            self.sessions[session_id].update(status="expired", url=None)

    def _after_completion(self, link_id: str) -> None:
        link = self.links[link_id]
        limit = (link.get("restrictions") or {}).get("completed_sessions", {}).get("limit")
        done = sum(1 for s in self.sessions.values()
                   if s["payment_link"] == link_id and s["status"] == "complete")
        if limit is not None and done >= int(limit):
            link["active"] = False

    def sessions_of(self, link_id: str) -> list[dict[str, Any]]:
        return [s for s in self.sessions.values() if s["payment_link"] == link_id]

    # ------------------------------------------------------------------ the API

    def answer(self, req: Recorded) -> Answer:
        auth = req.headers.get("authorization", "")
        if auth != f"Bearer {self.api_key}":
            shown = auth.removeprefix("Bearer ")
            return error(401, "invalid_request_error",
                         f"Invalid API Key provided: {shown[:8]}****{shown[-4:]}")
        key = req.headers.get("idempotency-key")
        params = parse_form(req.body) if req.method == "POST" else dict(req.query)
        if req.method == "POST" and key:
            seen = self.idempotent.get(key)
            if seen is not None:
                if seen[0] != params or not req.path == seen[1][2].get("_path"):
                    return error(400, "idempotency_error",
                                 "Keys for idempotent requests can only be used with the same "
                                 "parameters they were first used with.")
                status, body, headers = seen[1]
                return status, body, {**_public(headers), "Idempotent-Replayed": "true"}
        status, body, headers = self._route(req, params)
        if req.method == "POST" and key and status < 500:
            self.idempotent[key] = (params, (status, body, {**headers, "_path": req.path}))
        return status, body, headers

    def _route(self, req: Recorded, params: dict[str, Any]) -> Answer:
        ok = {"Request-Id": f"req_{secrets.token_hex(7)}"}
        m = re.fullmatch(r"/v1/payment_links(?:/([\w]+))?", req.path)
        if m and req.method == "POST" and m.group(1) is None:
            items = params.get("line_items")
            if not items or "price_data" not in items[0] or not items[0]["price_data"].get(
                    "unit_amount"):
                return error(400, "invalid_request_error", "Missing required param: "
                             "line_items[0][price_data][unit_amount].", "parameter_missing")
            link = {"id": self._id("plink"), "object": "payment_link", "active": True,
                    "livemode": False, "url": f"https://buy.stripe.com/test_{secrets.token_hex(8)}",
                    "metadata": params.get("metadata", {}),
                    "restrictions": _ints(params.get("restrictions")),
                    "_line_items": items}
            self.links[link["id"]] = link
            return 200, _public(link), ok
        if m and m.group(1):
            link = self.links.get(m.group(1))
            if link is None:
                return error(404, "invalid_request_error",
                             f"No such payment_link: '{m.group(1)}'", "resource_missing")
            if req.method == "POST" and "active" in params:
                link["active"] = params["active"] == "true"
            return 200, _public(link), ok
        if m and req.method == "GET":
            data = [_public(x) for x in self.links.values()][: int(params.get("limit", 10))]
            return 200, {"object": "list", "data": data, "has_more": False,
                         "url": "/v1/payment_links"}, ok
        if req.path == "/v1/checkout/sessions" and req.method == "GET":
            data = [s for s in self.sessions.values()
                    if "payment_link" not in params or s["payment_link"] == params["payment_link"]]
            data.sort(key=lambda s: s["id"], reverse=True)
            return 200, {"object": "list", "data": data[: int(params.get("limit", 10))],
                         "has_more": False, "url": "/v1/checkout/sessions"}, ok
        return error(404, "invalid_request_error", f"Unrecognized request URL ({req.method}: "
                     f"{req.path}).")


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _ints(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _ints(v) for k, v in node.items()}
    return int(node) if isinstance(node, str) and node.isdigit() else node


@pytest.fixture
def fake_stripe():
    with FakeStripe() as server:
        yield server
