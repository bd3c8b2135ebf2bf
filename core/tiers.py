"""What each license tier allows (DESIGN section 5). The one place that decides.

Free: the whole CRM — clients to payments, schedule, reports, CSV import/export, backups.
Premium: + the integrations (Stripe, Twilio, USPS) and automation (recurring invoices,
scheduled reminders). Sovereign: + the AI assistant. Reading, editing and exporting the
user's own data is never a feature that can be locked.
"""

from __future__ import annotations

from core.errors import DomainError

TIERS = ("free", "premium", "sovereign")

# feature id -> (lowest tier that has it, what a person calls it)
FEATURES: dict[str, tuple[str, str]] = {
    "integrations.stripe": ("premium", "Stripe payment links"),
    "integrations.twilio": ("premium", "Text messages (Twilio)"),
    "integrations.usps": ("premium", "USPS address validation"),
    "automation.reminders": ("premium", "Scheduled visit reminders"),
    "automation.recurring_invoices": ("premium", "Recurring invoices"),
    "ai.assistant": ("sovereign", "The AI assistant"),
}


class FeatureLocked(DomainError):
    """The license tier does not include a feature; the message says which tier does."""

    def __init__(self, feature: str, tier: str) -> None:
        needed, label = FEATURES[feature]
        super().__init__(
            f"{label} needs the {needed.capitalize()} tier; this copy is on "
            f"{tier.capitalize()}. Everything else keeps working."
        )
        self.feature = feature
        self.tier = tier
        self.needed = needed


def allows(tier: str, feature: str) -> bool:
    """True when ``tier`` includes ``feature``. Unknown tiers are treated as Free."""
    if feature not in FEATURES:
        raise KeyError(f"unknown feature {feature!r}")
    rank = TIERS.index(tier) if tier in TIERS else 0
    return rank >= TIERS.index(FEATURES[feature][0])


def require(tier: str, feature: str) -> None:
    if not allows(tier, feature):
        raise FeatureLocked(feature, tier)


def lock_reason(tier: str, feature: str) -> str | None:
    """None when allowed, else the sentence the TUI shows next to a locked feature."""
    return None if allows(tier, feature) else str(FeatureLocked(feature, tier))
