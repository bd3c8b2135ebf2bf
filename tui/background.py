"""The app's background rounds: the license/update check and (only while opted in) one
analytics batch, at start and then every day with jitter, never blocking the UI.

Each round is a short thread worker (:func:`integrations.license_client.background_round`);
the next one is a Textual timer set to what :func:`core.licensing.next_check_in` says (a day
± an hour, or a quiet backoff from five minutes to six hours after failures), so nothing runs
between rounds and nothing waits on a sleeping worker. Decisions where the issue is silent:
failures are shown as ONE line in the status bar (replaced, never stacked, never a popup);
a new version or a changed privacy policy is one notification per notice per run of the
app, shown again at the next start until the user acknowledges it in Settings (or with the
notice's own key, ``F2`` → License); "check now" in Settings runs the same round.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.timer import Timer
from textual.worker import Worker

from config import AppConfig, AppPaths
from config.secrets import Secrets, load_secrets
from config.settings import ConfigError
from core import licensing

if TYPE_CHECKING:
    from tui.app import CrmApp

logger = logging.getLogger("tssg_crm.background")


@dataclass
class LicenseView:
    """What the status line shows: the tier and license state, and a quiet problem line."""

    tier_text: str = "Free"
    problem: str = ""  # "" when all is well
    checking: bool = False


@dataclass
class BackgroundChecks:
    """Runs the rounds for one app; ``sleep`` and ``rng`` are seams for the tests' fakes
    (the retries inside a round back off with ``sleep``)."""

    app: CrmApp
    paths: AppPaths
    config: AppConfig
    app_version: str
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    view: LicenseView = field(default_factory=LicenseView)
    rounds: int = 0
    _timer: Timer | None = None
    _shown_notices: set[tuple[str, str]] = field(default_factory=set)
    listeners: list[Callable[[LicenseView], None]] = field(default_factory=list)

    # ------------------------------------------------------------------ scheduling

    def start(self) -> None:
        """At mount: show what the local token says at once, then check in the background."""
        self._refresh_from_disk()
        self.run_round()

    def run_round(self) -> Worker[Any]:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.view.checking = True
        self._publish()
        return self.app.run_worker(self._round, name="license-check", group="license",
                                   thread=True, exclusive=True, exit_on_error=False)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # ------------------------------------------------------------------ one round (thread)

    def _secrets(self) -> Secrets | None:
        try:
            return load_secrets(self.paths.secrets_file)
        except ConfigError as exc:  # e.g. a secrets file readable by others: check as Free
            logger.warning("license check without the license key: %s", exc)
            return None

    def _round(self) -> None:
        from integrations.license_client import background_round

        try:
            result = background_round(self.paths, self.config, self._secrets(),
                                      app_version=self.app_version, rng=self.rng,
                                      sleep=self.sleep)
        except Exception as exc:  # the check must never take the app down
            logger.error("license check failed", exc_info=(type(exc), exc, exc.__traceback__))
            wait = licensing.next_check_in(licensing.consecutive_failures(self.paths) + 1,
                                           rng=self.rng)
            self.app.call_from_thread(self._done, "License check failed; will retry later.",
                                      wait.total_seconds())
            return
        self.app.call_from_thread(self._done, result.quiet_notice,
                                  result.next_check_in.total_seconds())

    # ------------------------------------------------------------------ back on the UI thread

    def _done(self, problem: str, wait_seconds: float) -> None:
        self.rounds += 1
        self.view.problem = problem
        self.view.checking = False
        self._refresh_from_disk()
        self._timer = self.app.set_timer(max(1.0, wait_seconds), self.run_round,
                                         name="license-next-check")
        self._show_notices()

    def _refresh_from_disk(self) -> None:
        try:
            status = licensing.status(self.paths, self.config)
            self.view.tier_text = licensing.status_bar_text(status)
        except Exception:  # a damaged license file reads as Free; status() already tries
            self.view.tier_text = "Free"
        self._publish()

    def _publish(self) -> None:
        for listener in list(self.listeners):
            listener(self.view)

    def _show_notices(self) -> None:
        for notice in licensing.pending_notices(self.paths, self.app_version):
            key = (notice.kind, notice.key)
            if key in self._shown_notices:
                continue  # once per run; Settings → License acknowledges it for good
            self._shown_notices.add(key)
            where = f" {notice.url}" if notice.url else ""
            self.app.notice(f"{notice.text}{where} (Settings → License to dismiss.)",
                            title=notice.title, severity="information")
