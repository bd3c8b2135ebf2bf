"""USPS Addresses API v3 over httpx: an OAuth2 client-credentials token, then the address
lookup (DESIGN section 8), through :func:`integrations.http.request` (timeout, bounded
retries, ``Retry-After`` on 429).

The answer is parsed into :class:`core.addresses_validation.UspsResult`, accepting the older
field names (``addressAdditionalInfo``, ``addressCorrections``, ``addressMatches``) as well as
the current ones. The token is kept in memory until shortly before it expires; a 401 on a
lookup fetches a new one once. Bulk validation stops cleanly when the hourly quota is spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import addresses_validation as av
from core import tiers
from core.db import Database
from core.errors import DomainError
from integrations.http import IntegrationError, RetryPolicy, make_client, request

if TYPE_CHECKING:
    import httpx

    from config import AppConfig
    from config.secrets import Secret, Secrets

SERVICE = "USPS"
FEATURE = "integrations.usps"
TOKEN_PATH = "/oauth2/v3/token"
ADDRESS_PATH = "/addresses/v3/address"


class AddressProblem(IntegrationError):
    """USPS answered about this one address (not found, unreadable): others may work."""


def _describe(response: httpx.Response) -> str:
    """USPS's error JSON in one line: the message and the first detail."""
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {response.status_code}"
    parts = [str(error.get("message") or "")]
    for item in error.get("errors") or []:
        if isinstance(item, dict):
            detail = item.get("detail") or item.get("title")
            if detail and detail not in parts:
                parts.append(str(detail))
            break
    return " ".join(" ".join(p for p in parts if p).split()) or f"HTTP {response.status_code}"


def _notices(items: Any) -> tuple[av.Notice, ...]:
    out = []
    for item in items or []:
        if isinstance(item, dict) and (item.get("code") or item.get("text")):
            out.append(av.Notice(str(item.get("code") or ""), str(item.get("text") or "")))
    return tuple(out)


def parse_address(data: dict[str, Any]) -> av.UspsResult:
    """A v3 address response (current or older field names) as a :class:`UspsResult`."""
    address = data.get("address") or {}
    info = data.get("additionalInfo") or data.get("addressAdditionalInfo") or {}
    warnings = tuple(str(w) if not isinstance(w, dict) else str(w.get("text") or "")
                     for w in (data.get("warnings") or []))
    return av.UspsResult(
        street=str(address.get("streetAddress") or ""),
        secondary=str(address.get("secondaryAddress") or ""),
        city=str(address.get("city") or ""),
        state=str(address.get("state") or ""),
        zip5=str(address.get("ZIPCode") or ""),
        zip4=str(address.get("ZIPPlus4") or ""),
        firm=str(data.get("firm") or ""),
        dpv=str(info.get("DPVConfirmation") or "").upper(),
        corrections=_notices(data.get("corrections") or data.get("addressCorrections")),
        matches=_notices(data.get("matches") or data.get("addressMatches")),
        warnings=warnings,
    )


class UspsClient:
    def __init__(self, client_id: Secret, client_secret: Secret, *,
                 api_base: str = "https://apis.usps.com", timeout: float = 20.0,
                 policy: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not client_id or not client_secret:
            raise IntegrationError(SERVICE, "is not set up: add the USPS client id and secret "
                                   "in Settings (or TSSG_CRM_USPS_CLIENT_ID and "
                                   "TSSG_CRM_USPS_CLIENT_SECRET).")
        self._id, self._secret = client_id, client_secret
        self.api_base = api_base.rstrip("/")
        self.timeout, self.policy, self.sleep, self.transport = timeout, policy, sleep, transport
        self._client: httpx.Client | None = None
        self._token: str | None = None
        self._token_until = 0.0  # time.monotonic()

    @classmethod
    def from_config(cls, config: AppConfig, secrets: Secrets, **kw: Any) -> UspsClient:
        from config.secrets import Secret

        cfg = config.integrations.usps
        return cls(secrets.get("usps_client_id") or Secret(""),
                   secrets.get("usps_client_secret") or Secret(""),
                   api_base=cfg.api_base, timeout=cfg.timeout, **kw)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = make_client(self.api_base, timeout=self.timeout,
                                       headers={"Accept": "application/json"},
                                       transport=self.transport)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return request(self._http(), method, url, service=SERVICE, policy=self.policy,
                       sleep=self.sleep, describe=_describe, **kw)

    def token(self, *, fresh: bool = False) -> str:
        if self._token and not fresh and time.monotonic() < self._token_until:
            return self._token
        response = self._request("POST", TOKEN_PATH, json={
            "grant_type": "client_credentials", "client_id": self._id.get(),
            "client_secret": self._secret.get(), "scope": "addresses"})
        if response.status_code in (400, 401, 403):
            raise IntegrationError(SERVICE, "refused the client id and secret; check them in "
                                   f"Settings ({_describe(response)}).",
                                   status=response.status_code)
        if response.status_code != 200:
            raise IntegrationError(SERVICE, f"did not give a token ({_describe(response)}).",
                                   status=response.status_code)
        try:
            data = response.json()
            token = str(data["access_token"])
            lifetime = float(data.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError):
            raise IntegrationError(SERVICE, "sent a token answer this app cannot read.") from None
        self._token = token
        # renew a minute early; a token without a lifetime is used for this call only
        self._token_until = time.monotonic() + max(0.0, lifetime - 60)
        return token

    def lookup(self, query: av.AddressQuery) -> av.UspsResult:
        params = {"streetAddress": query.street, "secondaryAddress": query.secondary,
                  "city": query.city, "state": query.state, "ZIPCode": query.zip5}
        params = {k: v for k, v in params.items() if v}
        response = None
        for fresh in (False, True):  # an expired token: fetch a new one, once
            headers = {"Authorization": f"Bearer {self.token(fresh=fresh)}"}
            response = self._request("GET", ADDRESS_PATH, params=params, headers=headers)
            if response.status_code != 401:
                break
        assert response is not None
        if response.status_code == 200:
            try:
                return parse_address(response.json())
            except (ValueError, AttributeError):
                raise IntegrationError(SERVICE, "sent an address answer this app cannot "
                                       "read.") from None
        if response.status_code == 404:
            raise AddressProblem(SERVICE, "found no such address. Check the street number, "
                                 "the street name and the ZIP code.", status=404)
        if response.status_code == 400:
            raise AddressProblem(SERVICE, f"could not use this address: {_describe(response)}",
                                 status=400)
        if response.status_code in (401, 403):
            raise IntegrationError(SERVICE, "refused the token; check the USPS client id and "
                                   f"secret in Settings ({_describe(response)}).",
                                   status=response.status_code)
        raise IntegrationError(SERVICE, f"answered {_describe(response)}",
                               status=response.status_code)

    def test_connection(self) -> str:
        self.token(fresh=True)
        return "Connected to USPS; addresses can be validated."


# --------------------------------------------------------------------------- use cases


def validate_address(db: Database, usps: UspsClient, tier: str, address_id: int
                     ) -> av.Comparison:
    """"Validate" on the address form: USPS's standardised address next to what was typed."""
    tiers.require(tier, FEATURE)
    result = usps.lookup(av.query_for(db, address_id))
    return av.compare(db, address_id, result)


@dataclass
class BulkReport:
    accepted: list[str] = field(default_factory=list)
    to_review: list[av.Comparison] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_id: int = 0  # continue after this id next time
    stopped: str | None = None  # quota spent, USPS down, bad credentials


def validate_unvalidated(db: Database, usps: UspsClient, tier: str, *, limit: int = 50,
                         after_id: int = 0, actor: str = "owner") -> BulkReport:
    """"Validate all unvalidated": at most ``limit`` lookups (USPS's default quota is 60 an
    hour). Answers that confirm the address as typed are stored at once (ZIP+4 added); the
    rest wait in ``to_review``. Stops at the first failure that is not about one address."""
    tiers.require(tier, FEATURE)
    report = BulkReport(last_id=after_id)
    for address_id in av.unvalidated(db, limit=limit, after_id=after_id):
        try:
            comparison = validate_address(db, usps, tier, address_id)
        except AddressProblem as exc:
            report.problems.append(f"Address #{address_id}: {exc}")
        except DomainError as exc:
            report.problems.append(f"Address #{address_id}: {exc}")
        except IntegrationError as exc:
            report.stopped = str(exc)
            break
        else:
            if comparison.result.confirmed and comparison.same:
                av.accept(db, comparison, actor=actor)
                report.accepted.append(f"{comparison.standardised.line1}, "
                                       f"{comparison.standardised.city}")
            else:
                report.to_review.append(comparison)
        report.last_id = address_id
    return report
