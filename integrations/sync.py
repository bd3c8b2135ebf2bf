"""The polling the app does for payments and messages, as plain functions: the TUI's
background worker and ``tssg-crm sync`` (cron) call :func:`sync_all`; the TUI's "send
reminders" action and ``tssg-crm remind`` call :func:`remind`.

An integration that has nothing to poll is not contacted (and need not be set up); one that
is locked by the tier or not set up while it has work is reported, never fatal to the others.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core import messaging, payment_links, tiers
from core.db import Database
from integrations import stripe_payments, twilio_sms
from integrations.http import IntegrationError, RetryPolicy

if TYPE_CHECKING:
    from config import AppConfig
    from config.secrets import Secrets


@dataclass
class SyncReport:
    events: list[str] = field(default_factory=list)  # what changed, in sentences
    routine: list[str] = field(default_factory=list)  # changed as expected (a text delivered)
    errors: list[str] = field(default_factory=list)  # what could not be done, and why
    notes: list[str] = field(default_factory=list)  # nothing wrong, worth knowing

    @property
    def ok(self) -> bool:
        return not self.errors


def sync_all(db: Database, config: AppConfig, secrets: Secrets, tier: str, *,
             now: dt.datetime | None = None, today: dt.date | None = None,
             sleep: Callable[[float], None] = time.sleep,
             policy: RetryPolicy = RetryPolicy(), refresh_days: int = 7) -> SyncReport:
    """Payment links (record paid ones, replace stale ones) and message statuses (of the
    texts of the last ``refresh_days`` still without a final status)."""
    report = SyncReport()
    moment = now or dt.datetime.now(dt.UTC)

    if payment_links.links_to_poll(db, now=moment):
        reason = tiers.lock_reason(tier, stripe_payments.FEATURE)
        if reason:
            report.errors.append(f"Payment links were not checked: {reason}")
        else:
            try:
                gateway = stripe_payments.StripeGateway.from_config(config, secrets, sleep=sleep,
                                                                    policy=policy)
            except IntegrationError as exc:
                report.errors.append(f"Payment links were not checked: {exc}")
            else:
                try:
                    links = stripe_payments.sync_links(db, gateway, tier, now=moment,
                                                       today=today)
                finally:
                    gateway.close()
                report.events += links.events
                if links.error:
                    report.errors.append(links.error)
    else:
        report.notes.append("No payment links to check.")

    if messaging.messages_to_reconcile(db, now=moment) or messaging.messages_to_refresh(
            db, now=moment, days=refresh_days):
        reason = tiers.lock_reason(tier, twilio_sms.FEATURE)
        if reason:
            report.errors.append(f"Text messages were not checked: {reason}")
        else:
            try:
                twilio = twilio_sms.TwilioGateway.from_config(config, secrets, sleep=sleep,
                                                              policy=policy)
            except IntegrationError as exc:
                report.errors.append(f"Text messages were not checked: {exc}")
            else:
                try:
                    texts = twilio_sms.sync_messages(db, twilio, tier, now=moment,
                                                     days=refresh_days)
                finally:
                    twilio.close()
                report.events += texts.events
                report.routine += texts.routine
                if texts.error:
                    report.errors.append(texts.error)
    else:
        report.notes.append("No text messages waiting for a delivery status.")
    return report


def remind(db: Database, config: AppConfig, secrets: Secrets, tier: str, day: dt.date, *,
           template: str = "visit_reminder", now: dt.datetime | None = None,
           dry_run: bool = False, sleep: Callable[[float], None] = time.sleep,
           policy: RetryPolicy = RetryPolicy()) -> twilio_sms.ReminderReport:
    """Send ``day``'s visit reminders (each visit and template at most once ever)."""
    tiers.require(tier, "automation.reminders")
    tiers.require(tier, twilio_sms.FEATURE)
    nothing_due = not messaging.visits_to_remind(db, day, template)
    # Twilio need not be set up to learn that nothing is due
    gateway = None if dry_run or nothing_due else twilio_sms.TwilioGateway.from_config(
        config, secrets, sleep=sleep, policy=policy)
    try:
        return twilio_sms.send_reminders(db, gateway, tier, day, template=template, now=now,
                                         dry_run=dry_run)
    finally:
        if gateway is not None:
            gateway.close()


SERVICES = ("stripe", "twilio", "usps")


def test_connection(service: str, config: AppConfig, secrets: Secrets, tier: str, *,
                    sleep: Callable[[float], None] = time.sleep,
                    policy: RetryPolicy = RetryPolicy(retries=1)) -> str:
    """Settings' "Test connection": one harmless call with the saved keys; returns the
    sentence to show, or raises IntegrationError (not set up, refused, unreachable) or
    FeatureLocked."""
    from integrations import usps

    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    feature = {"stripe": stripe_payments.FEATURE, "twilio": twilio_sms.FEATURE,
               "usps": usps.FEATURE}[service]
    tiers.require(tier, feature)
    gateway: stripe_payments.StripeGateway | twilio_sms.TwilioGateway | usps.UspsClient
    if service == "stripe":
        gateway = stripe_payments.StripeGateway.from_config(config, secrets, sleep=sleep,
                                                            policy=policy)
    elif service == "twilio":
        gateway = twilio_sms.TwilioGateway.from_config(config, secrets, sleep=sleep,
                                                       policy=policy)
    else:
        gateway = usps.UspsClient.from_config(config, secrets, sleep=sleep, policy=policy)
    try:
        return gateway.test_connection()
    finally:
        gateway.close()
