"""The one shared HTTP setup for every integration: timeouts, bounded retries, plain errors.

Every outside call goes through :func:`request`: a timeout on every request, at most
``retries`` retries with exponential backoff (and ``Retry-After`` honoured, capped) on
connection errors, timeouts, 429 and 5xx, and an :class:`IntegrationError` whose message a
shop owner can read ("Stripe did not answer within 20 s; nothing was charged").
httpx is imported here, never in ``core``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})  # 529: Anthropic "overloaded"
MAX_RETRY_AFTER = 30.0  # seconds: never sleep longer than this on a server's say-so
USER_AGENT = "tssg-crm"


class IntegrationError(Exception):
    """A call to the outside failed. ``status`` is the HTTP status when there was one."""

    def __init__(self, service: str, message: str, *, status: int | None = None,
                 retryable: bool = False, body: Any = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status
        self.retryable = retryable
        self.body = body


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff: float = 0.5  # first wait; doubles each time
    max_backoff: float = 8.0


def make_client(base_url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout),
                        headers=all_headers, transport=transport)


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    describe: Callable[[httpx.Response], str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request with bounded retries; return a 2xx/3xx/4xx response or raise.

    A 4xx other than 429 is returned to the caller (it carries the service's own error, which
    the caller turns into words); 429/5xx and network failures are retried, then raised.
    """
    wait = policy.backoff
    last: IntegrationError | None = None
    for attempt in range(policy.retries + 1):
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            last = IntegrationError(service, f"did not answer within {client.timeout.read or 0:g} s",
                                    retryable=True)
        except httpx.TransportError as exc:
            last = IntegrationError(service, f"could not be reached ({_short(exc)})", retryable=True)
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            detail = describe(response) if describe else f"HTTP {response.status_code}"
            if response.status_code == 429:
                last = IntegrationError(service, f"is limiting requests (rate limit): {detail}",
                                        status=429, retryable=True)
            else:
                last = IntegrationError(service, f"had a server error: {detail}",
                                        status=response.status_code, retryable=True)
            hinted = retry_after_seconds(response)
            if hinted is not None and attempt < policy.retries:
                sleep(hinted)
                continue
        if attempt < policy.retries:
            sleep(wait)
            wait = min(wait * 2, policy.max_backoff)
    assert last is not None
    tries = policy.retries + 1
    raise IntegrationError(last.service, f"{last.message} (gave up after {tries} tries)",
                           status=last.status, retryable=True)


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
