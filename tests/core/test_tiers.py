"""The tier policy: one function decides, locked features explain themselves."""

from __future__ import annotations

import pytest

from core import tiers


@pytest.mark.parametrize(
    ("tier", "feature", "allowed"),
    [
        ("free", "integrations.stripe", False),
        ("free", "ai.assistant", False),
        ("premium", "integrations.stripe", True),
        ("premium", "automation.reminders", True),
        ("premium", "ai.assistant", False),
        ("sovereign", "ai.assistant", True),
        ("sovereign", "integrations.usps", True),
        ("tampered", "integrations.twilio", False),  # unknown tier: Free
    ],
)
def test_allows(tier, feature, allowed):
    assert tiers.allows(tier, feature) is allowed
    assert (tiers.lock_reason(tier, feature) is None) is allowed


def test_locked_feature_says_which_tier_has_it():
    with pytest.raises(tiers.FeatureLocked) as err:
        tiers.require("premium", "ai.assistant")
    assert str(err.value) == (
        "The AI assistant needs the Sovereign tier; this copy is on Premium. "
        "Everything else keeps working."
    )


def test_unknown_feature_is_a_programming_error():
    with pytest.raises(KeyError):
        tiers.allows("free", "export")  # exporting one's own data is never a feature
