"""A fake USPS APIs host on 127.0.0.1: the OAuth2 client-credentials token
(``POST /oauth2/v3/token``) and the Addresses v3 lookup (``GET /addresses/v3/address``).

Answers in the v3 JSON shape (``firm``, ``address``, ``additionalInfo.DPVConfirmation``,
``corrections``, ``matches``, ``warnings``), or with the older field names
(``addressAdditionalInfo``, ``addressCorrections``, ``addressMatches``) when ``legacy`` is
set; errors in USPS's shape (``{"apiVersion", "error": {"code", "message", "errors": [...]}}``)
with 400 (missing field), 401 (bad or expired token), 404 (address not found) and 429 (with
``Retry-After``, via ``fail``). Known addresses are registered with :meth:`FakeUsps.add`.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from tests.fakes.loopback import Answer, LoopbackServer, Recorded

CLIENT_ID = "fake-usps-client-id"
CLIENT_SECRET = "fake-usps-client-secret"


def usps_error(status: int, message: str, detail: str = "", code: str = "") -> Answer:
    return status, {"apiVersion": "/addresses/v3", "error": {
        "code": str(status), "message": message,
        "errors": [{"status": str(status), "code": code or f"0{status}000", "title": message,
                    "detail": detail or message}]}}, {}


def address_answer(street: str, city: str, state: str, zip5: str, zip4: str = "",
                   secondary: str = "", dpv: str = "Y", corrections: list[dict] | None = None,
                   matches: list[dict] | None = None, firm: str = "") -> dict[str, Any]:
    return {
        "firm": firm,
        "address": {"streetAddress": street, "streetAddressAbbreviation": "",
                    "secondaryAddress": secondary, "cityAbbreviation": city, "city": city,
                    "state": state, "ZIPCode": zip5, "ZIPPlus4": zip4, "urbanization": ""},
        "additionalInfo": {"deliveryPoint": "01", "carrierRoute": "C001",
                           "DPVConfirmation": dpv, "DPVCMRA": "N", "business": "N",
                           "centralDeliveryPoint": "N", "vacant": "N"},
        "corrections": corrections or [],
        "matches": matches if matches is not None else [{"code": "31", "text": "Single "
                                                         "Response - exact match"}],
        "warnings": [],
    }


def _key(street: str, zip5: str) -> tuple[str, str]:
    return " ".join(street.upper().replace(".", "").split()), zip5[:5]


class FakeUsps(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.known: dict[tuple[str, str], dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.legacy = False

    def add(self, typed_street: str, typed_zip: str, answer: dict[str, Any]) -> None:
        self.known[_key(typed_street, typed_zip)] = answer

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def answer(self, req: Recorded) -> Answer:
        if req.path == "/oauth2/v3/token" and req.method == "POST":
            body = req.json if req.headers.get("content-type", "").startswith(
                "application/json") else req.form
            if body.get("grant_type") != "client_credentials" or (
                    body.get("client_id"), body.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return 401, {"error": "invalid_client",
                             "error_description": "Client authentication failed"}, {}
            token = secrets.token_urlsafe(24)
            self.tokens.add(token)
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 28799,
                         "status": "approved", "scope": "addresses",
                         "issuer": "api.usps.com", "client_id": CLIENT_ID}, {}
        if req.path == "/addresses/v3/address" and req.method == "GET":
            token = req.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return usps_error(401, "Unauthorized", "The access token is invalid or expired.")
            q = req.query
            if not q.get("streetAddress"):
                return usps_error(400, "OASValidation AddressesAPI-v3 with 1 error(s)",
                                  "streetAddress is a required field")
            if not q.get("state") and not q.get("ZIPCode"):
                return usps_error(400, "OASValidation AddressesAPI-v3 with 1 error(s)",
                                  "state or ZIPCode is required")
            answer = self.known.get(_key(q["streetAddress"], q.get("ZIPCode", "")))
            if answer is None:
                return usps_error(404, "Address Not Found.", "Address Not Found.", "010000")
            return 200, self._legacy(answer) if self.legacy else answer, {}
        return usps_error(404, "Not Found", f"No route for {req.path}")

    @staticmethod
    def _legacy(answer: dict[str, Any]) -> dict[str, Any]:
        renamed = {"additionalInfo": "addressAdditionalInfo", "corrections": "addressCorrections",
                   "matches": "addressMatches"}
        return {renamed.get(k, k): v for k, v in answer.items()}


@pytest.fixture
def fake_usps():
    with FakeUsps() as server:
        yield server
