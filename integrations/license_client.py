"""The license and update check over httpx, and the account-deletion request.

A check sends exactly :func:`core.licensing.check_payload` — instance id, license key, app
version, OS and Python version — as JSON to ``[license] server_url``; the answer's token is
verified and kept by :func:`core.licensing.accept_token`. A check never raises for network or
server trouble: it returns a :class:`CheckResult` with a one-line message, keeps the last valid
token, and records the attempt for Settings. The deletion request goes to ``delete`` beside the
check URL (``.../v1/check`` → ``.../v1/delete``) and sends only the instance id and license key.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from config import AppConfig, AppPaths
from config.secrets import Secrets
from core import licensing
from integrations.http import IntegrationError, RetryPolicy, make_client, request

SERVICE = "The license server"
TIMEOUT = 10.0
# The check runs in the background every day: a couple of quick retries, then wait for the
# worker's own backoff (core.licensing.next_check_in) rather than hammer the server.
POLICY = RetryPolicy(retries=2, backoff=1.0, max_backoff=4.0)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    status: licensing.LicenseStatus
    sent: dict[str, str]  # as recorded for Settings: license key masked


def _license_key(secrets: Secrets | None) -> str:
    secret = secrets.get("license_key") if secrets is not None else None
    return secret.get() if secret else ""


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message"):
            if isinstance(data.get(key), str) and data[key].strip():
                return " ".join(data[key].split())[:200]
    return f"HTTP {response.status_code}"


def check_now(
    paths: AppPaths,
    config: AppConfig,
    secrets: Secrets | None,
    *,
    app_version: str,
    now: dt.datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT,
    policy: RetryPolicy = POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """Ask the license server for a fresh token; keep it if it verifies."""
    url = config.license.server_url
    sent = licensing.check_payload(paths, _license_key(secrets), app_version)
    ok, message = False, ""
    try:
        with make_client(url, timeout=timeout, transport=transport) as client:
            response = request(client, "POST", url, service=SERVICE, policy=policy, sleep=sleep,
                               describe=_error_text, json=sent)
        if response.status_code != 200:
            message = f"{SERVICE} refused the check: {_error_text(response)}"
        else:
            token = _token_from(response)
            accepted = licensing.accept_token(paths, config, token, now=now)
            ok, message = True, f"Checked: {accepted.tier.capitalize()} tier."
    except IntegrationError as exc:
        message = str(exc)
    except licensing.TokenRefused as exc:
        message = f"{SERVICE}'s answer was not accepted: {exc}"
    at = now or dt.datetime.now(dt.UTC)
    licensing.record_check(paths, at=at, url=url, sent=sent, ok=ok, message=message)
    recorded = licensing.last_check(paths) or {}
    return CheckResult(ok=ok, message=message, status=licensing.status(paths, config, now=now),
                       sent=dict(recorded.get("sent") or {}))


@dataclass(frozen=True)
class BackgroundRound:
    """What one round of the background worker did, and when it should run again."""

    check: CheckResult
    analytics_sent: bool
    next_check_in: dt.timedelta
    quiet_notice: str  # "" when all is well, else ONE short line for the status area


def background_round(
    paths: AppPaths,
    config: AppConfig,
    secrets: Secrets | None,
    *,
    app_version: str,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    analytics_transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BackgroundRound:
    """The worker's job at start and every day: the license check, then (only while opted in)
    one analytics batch. Never raises for the network; failures back off quietly."""
    from integrations.analytics import send_pending

    check = check_now(paths, config, secrets, app_version=app_version, transport=transport,
                      sleep=sleep)
    sent = False
    try:
        sent = send_pending(paths, config, app_version=app_version,
                            transport=analytics_transport, sleep=sleep)
    except IntegrationError:
        pass  # the queue is kept for the next round; analytics never bothers the user
    wait = licensing.next_check_in(licensing.consecutive_failures(paths), rng=rng)
    notice = ""
    if not check.ok:
        minutes = max(1, round(wait.total_seconds() / 60))
        when = f"{minutes} min" if minutes < 120 else f"{round(minutes / 60)} h"
        notice = (f"License check failed; retrying in {when}. "
                  f"{licensing.status_bar_text(check.status)}.")
    return BackgroundRound(check=check, analytics_sent=sent, next_check_in=wait,
                           quiet_notice=notice)


def _token_from(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise IntegrationError(SERVICE, "answered with something that is not a license token")
    return token


def deletion_url(config: AppConfig) -> str:
    return urljoin(config.license.server_url, "delete")


def request_deletion(
    paths: AppPaths,
    config: AppConfig,
    secrets: Secrets | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT,
    policy: RetryPolicy = POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Ask the license server to delete the license account's data; return its answer.

    Raises :class:`IntegrationError` when the server cannot be reached or refuses.
    """
    url = deletion_url(config)
    body = {"instance_id": licensing.instance_id(paths), "license_key": _license_key(secrets)}
    with make_client(url, timeout=timeout, transport=transport) as client:
        response = request(client, "POST", url, service=SERVICE, policy=policy, sleep=sleep,
                           describe=_error_text, json=body)
    if response.status_code >= 300:
        raise IntegrationError(SERVICE, f"refused the deletion request: {_error_text(response)}",
                               status=response.status_code)
    answer = _error_text(response)
    return answer if not answer.startswith("HTTP ") else "The deletion request was received."
