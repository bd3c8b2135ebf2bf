"""The app's background rounds: the license/update check and (only while opted in) one
analytics batch, at start and then every day with jitter, never blocking the UI; and, while
something is waiting on Stripe or Twilio, the payment-link and message-status poll
(:class:`IntegrationPoll`).

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

if TYPE_CHECKING:
    from tui.app import CrmApp

logger = logging.getLogger("tssg_crm.background")


@dataclass
class LicenseView:
    """What the status line shows: the tier and license state, and a quiet problem line."""

    tier_text: str = "Free"
    problem: str = ""  # "" when all is well
    checking: bool = False
    sync_problem: str = ""  # the payment/message poll's quiet line, "" when all is well

    @property
    def problems(self) -> str:
        return " · ".join(text for text in (self.problem, self.sync_problem) if text)


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
        self.publish()
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
        from core import licensing
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
        from core import licensing

        try:
            status = licensing.status(self.paths, self.config)
            self.view.tier_text = licensing.status_bar_text(status)
        except Exception:  # a damaged license file reads as Free; status() already tries
            self.view.tier_text = "Free"
        self.publish()

    def publish(self) -> None:
        for listener in list(self.listeners):
            listener(self.view)

    def _show_notices(self) -> None:
        from core import licensing

        for notice in licensing.pending_notices(self.paths, self.app_version):
            key = (notice.kind, notice.key)
            if key in self._shown_notices:
                continue  # once per run; Settings → License acknowledges it for good
            self._shown_notices.add(key)
            where = f" {notice.url}" if notice.url else ""
            self.app.notice(f"{notice.text}{where} (Settings → License to dismiss.)",
                            title=notice.title, severity="information")


# ---------------------------------------------------------------------- payments and texts

POLL_SECONDS = 120.0  # a paid link shows up within about two minutes while the app runs
POLL_JITTER = 15.0
# delivery receipts come within minutes; a text still "sent" after a day may never get one, and
# asking Twilio about each every two minutes for a week is waste: `tssg-crm sync` covers 7 days
POLL_TEXT_DAYS = 1


@dataclass
class IntegrationPoll:
    """While the app runs: every couple of minutes, record paid Stripe links and refresh
    text-message delivery statuses (:func:`integrations.sync.sync_all`, what ``tssg-crm
    sync`` does from cron).

    Each tick first asks the local database whether anything is waiting (a live link, a text
    whose status may still change); when nothing is, no integration is contacted, so an
    integration the user never turned on is never called. What changed is said once as a
    notification (a payment recorded) and the screens reload; what could not be checked is
    one quiet status line, replaced each round, never a popup.
    """

    app: CrmApp
    paths: AppPaths
    config: AppConfig
    view: LicenseView
    publish: Callable[[], None]
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    every: float = POLL_SECONDS
    rounds: int = 0  # rounds that finished (with or without anything to do)
    calls: int = 0  # rounds that had something waiting and asked the services
    _timer: Timer | None = None

    def start(self) -> None:
        self._schedule()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _schedule(self) -> None:
        delay = self.every + self.rng.uniform(0, POLL_JITTER) if self.every >= 60 else self.every
        self._timer = self.app.set_timer(delay, self.run_round, name="integration-poll")

    def run_round(self) -> Worker[Any]:
        self.stop()
        return self.app.run_worker(self._round, name="integration-poll", group="integration-poll",
                                   thread=True, exclusive=True, exit_on_error=False)

    def _round(self) -> None:
        try:
            outcome = self._poll()
        except Exception as exc:  # the poll must never take the app down
            logger.error("payment/message poll failed",
                         exc_info=(type(exc), exc, exc.__traceback__))
            outcome = ([], "Checking payments and texts failed; will retry.", False, False)
        self.app.call_from_thread(self._done, *outcome)

    def _poll(self) -> tuple[list[str], str, bool, bool]:
        """(events, quiet problem line, whether the services were asked, whether anything
        in the database moved)."""
        from core import licensing, messaging, payment_links

        db = self.app.db
        waiting = (payment_links.links_to_poll(db)
                   or messaging.messages_to_refresh(db, days=POLL_TEXT_DAYS)
                   or messaging.messages_to_reconcile(db))
        if not waiting:
            return [], "", False, False
        from integrations.sync import sync_all

        try:
            secrets = load_secrets(self.paths.secrets_file)
        except ConfigError as exc:
            return [], f"Payments and texts not checked: {exc}", False, False
        tier = licensing.effective_tier(self.paths, self.config)
        report = sync_all(db, self.config, secrets, tier, sleep=self.sleep,
                          refresh_days=POLL_TEXT_DAYS)
        problem = report.errors[0] if report.errors else ""
        if len(report.errors) > 1:
            problem += f" (and {len(report.errors) - 1} more: run tssg-crm sync to see them)"
        # asked and something moved (a payment, a status): the screens reload; otherwise the
        # screen on show is left exactly as it is (cursor, page)
        return report.events, problem, True, bool(report.events or report.routine)

    def _done(self, events: list[str], problem: str, asked: bool, changed: bool) -> None:
        self.rounds += 1
        self.calls += asked
        self.view.sync_problem = problem
        self.publish()
        for event in events:  # a payment recorded, a lost text found: worth saying
            self.app.notice(event, title="Payments and texts", severity="information")
        if changed:  # a delivery status may have moved too, which is not worth a popup
            self.app.note_data_changed()
            screen = self.app.screen
            resume = getattr(screen, "on_screen_resume", None)
            if callable(resume):  # the screen on show reloads, as when one comes back to it
                resume()
        self._schedule()
