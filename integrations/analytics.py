"""Sends the opt-in analytics queue (:mod:`core.analytics`) to ``[analytics] endpoint``.

The background worker calls :func:`send_pending`; it sends nothing — not even a request —
unless the user has opted in and something is queued, and it sends exactly
:func:`core.analytics.pending_batch` (the payload Settings shows), one JSON batch per call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from config import AppConfig, AppPaths
from core import analytics
from integrations.http import IntegrationError, RetryPolicy, make_client, request

SERVICE = "The analytics server"
TIMEOUT = 10.0
POLICY = RetryPolicy(retries=1, backoff=2.0)


def send_pending(
    paths: AppPaths,
    config: AppConfig,
    *,
    app_version: str,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT,
    policy: RetryPolicy = POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Send one batch; True if one was sent, False if opted out or nothing was queued.

    Raises :class:`IntegrationError` when the server cannot take it (the queue is kept).
    """
    batch = analytics.pending_batch(paths, app_version)
    if batch is None:
        return False
    url = config.analytics.endpoint
    with make_client(url, timeout=timeout, transport=transport) as client:
        response = request(client, "POST", url, service=SERVICE, policy=policy, sleep=sleep,
                           json=batch)
    if not 200 <= response.status_code < 300:
        raise IntegrationError(SERVICE, f"refused the batch (HTTP {response.status_code})",
                               status=response.status_code)
    analytics.mark_sent(paths, batch)
    return True
