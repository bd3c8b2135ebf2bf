"""License policy offline: real Ed25519 tokens (test key), the tier they give and when they are
refused, the grace period, clock set back, notices, and the record of the last check."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import AppConfig, app_paths, load_config
from config.settings import LicenseConfig
from core import licensing
from tests.license_support import (
    TEST_KEY_ID,
    TEST_PUBLIC_KEY_HEX,
    UNTRUSTED_PRIVATE_KEY,
    grant,
    now_utc,
    plant_token,
    sign,
    token_payload,
    trust_test_key,
)


@pytest.fixture
def home(_isolated_home) -> Path:
    return _isolated_home


@pytest.fixture
def paths(home):
    p = app_paths()
    p.ensure()
    return p


@pytest.fixture
def config(home) -> AppConfig:
    return trust_test_key(home)


def _token(paths, tier="premium", **overrides) -> str:
    return sign(token_payload(licensing.instance_id(paths), tier, **overrides))


def _status(paths, now=None):
    return licensing.status(paths, load_config(paths.config_file), now=now)


# --------------------------------------------------------------------------- instance id


def test_instance_id_is_random_private_and_stable(paths):
    first = licensing.instance_id(paths)
    assert len(first) == 32 and int(first, 16) >= 0
    assert licensing.instance_id(paths) == first
    path = licensing.instance_id_file(paths)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_instance_ids_differ_between_installations(tmp_path, monkeypatch):
    ids = set()
    for n in range(3):
        monkeypatch.setenv("TSSG_CRM_HOME", str(tmp_path / f"h{n}"))
        ids.add(licensing.instance_id(app_paths()))
    assert len(ids) == 3


# --------------------------------------------------------------------------- tiers


def test_no_license_is_free(paths):
    status = _status(paths)
    assert (status.tier, status.state) == ("free", "none")
    assert licensing.effective_tier(paths, AppConfig()) == "free"


@pytest.mark.parametrize("tier", ["free", "premium", "sovereign"])
def test_grant_runs_the_app_at_that_tier(home, paths, tier):
    grant(home, tier)
    status = _status(paths)
    assert status.tier == tier and status.state == "valid"
    assert status.license_id == "lic-test-0001"
    assert licensing.effective_tier(paths, load_config(paths.config_file)) == tier


def test_accepted_token_file_is_private(home, paths):
    grant(home, "premium")
    assert stat.S_IMODE(licensing.license_file(paths).stat().st_mode) == 0o600


def test_expired_token_keeps_its_tier_through_the_grace_period_then_free(paths, config):
    now = now_utc()
    licensing.accept_token(paths, config, _token(paths, expires_at=now + dt.timedelta(days=1),
                                                 grace_days=7), now=now)
    assert _status(paths, now).state == "valid"
    in_grace = _status(paths, now + dt.timedelta(days=3))
    assert (in_grace.tier, in_grace.state) == ("premium", "grace")
    assert "expired" in in_grace.message and "until" in in_grace.message
    after = _status(paths, now + dt.timedelta(days=9))
    assert (after.tier, after.state) == ("free", "expired")
    assert "data stays fully usable" in after.message


def test_grace_days_cannot_be_stretched_beyond_the_cap(paths, config):
    now = now_utc()
    token = licensing.accept_token(paths, config, _token(paths, grace_days=10_000), now=now)
    assert token.grace_days == licensing.MAX_GRACE_DAYS


# --------------------------------------------------------------------------- refused tokens


def test_bad_signature_is_refused_and_the_previous_token_holds(paths, config):
    licensing.accept_token(paths, config, _token(paths, "premium"))
    forged = sign(token_payload(licensing.instance_id(paths), "sovereign"),
                  key=UNTRUSTED_PRIVATE_KEY)
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, forged)
    assert err.value.reason == "bad_signature"
    assert _status(paths).tier == "premium"


def _with_tier(token: str, tier: str) -> str:
    version, kid, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["tier"] = tier
    new_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{version}.{kid}.{new_body}.{signature}"


def test_tampered_tier_is_refused(paths, config):
    tampered = _with_tier(_token(paths, "premium"), "sovereign")
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, tampered)
    assert err.value.reason == "bad_signature"


def test_a_tampered_license_file_gives_free_with_the_reason(home, paths):
    grant(home, "premium")
    stored = json.loads(licensing.license_file(paths).read_text())["token"]
    plant_token(home, _with_tier(stored, "sovereign"))
    status = _status(paths)
    assert (status.tier, status.state) == ("free", "refused")
    assert "altered" in status.message


def test_token_for_another_installation_is_refused(home, paths, config):
    other = sign(token_payload("f" * 32, "premium"))
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, other)
    assert err.value.reason == "other_instance"
    assert _status(paths).tier == "free"
    plant_token(home, other)  # copied in by hand: still refused
    assert _status(paths).state == "refused"


def test_unknown_key_id_is_refused(paths, config):
    token = sign(token_payload(licensing.instance_id(paths)), key_id="nobody")
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, token)
    assert err.value.reason == "unknown_key"


def test_without_the_config_key_the_test_token_is_not_trusted(paths):
    with pytest.raises(licensing.TokenRefused):
        licensing.accept_token(paths, AppConfig(), _token(paths))


def test_config_key_cannot_replace_a_shipped_key_id(paths):
    shipped_id = next(iter(licensing.SHIPPED_PUBLIC_KEYS))
    config = AppConfig(license=LicenseConfig(public_keys={shipped_id: TEST_PUBLIC_KEY_HEX}))
    token = sign(token_payload(licensing.instance_id(paths)), key_id=shipped_id)
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, token)
    assert err.value.reason == "bad_signature"


def test_shipped_key_is_a_real_ed25519_public_key_and_no_private_key_is_in_the_repo():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    for hexkey in licensing.SHIPPED_PUBLIC_KEYS.values():
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(hexkey))
    repo = Path(licensing.__file__).resolve().parents[1]
    for folder in ("core", "config", "integrations", "tui"):
        for path in (repo / folder).rglob("*.py"):
            assert "PRIVATE KEY" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("token", ["", "garbage", "v1.a.b", "v2.test-key-1.e30.AAAA",
                                   f"v1.{TEST_KEY_ID}.!!!.AAAA", "v1..."])
def test_malformed_tokens_are_refused(paths, config, token):
    with pytest.raises(licensing.TokenRefused):
        licensing.accept_token(paths, config, token)


@pytest.mark.parametrize("overrides", [
    {"tier": "platinum"},
    {"license_id": ""},
    {"grace_days": -1},
    {"grace_days": True},
    {"issued_at": "yesterday"},
])
def test_signed_but_invalid_payload_is_refused(paths, config, overrides):
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, _token(paths, **overrides))
    assert err.value.reason == "bad_payload"


def test_clock_set_back_is_refused(paths, config):
    now = now_utc()
    licensing.accept_token(paths, config, _token(paths), now=now)
    assert _status(paths, now).tier == "premium"
    back = _status(paths, now - dt.timedelta(days=2))
    assert (back.tier, back.state) == ("free", "refused")
    assert "clock" in back.message
    assert _status(paths, now).tier == "premium"  # fixing the clock fixes the tier


def test_clock_set_back_after_expiry_does_not_revive_the_license(paths, config):
    now = now_utc()
    licensing.accept_token(paths, config, _token(paths, expires_at=now + dt.timedelta(days=10),
                                                 grace_days=0), now=now)
    later = now + dt.timedelta(days=20)
    assert _status(paths, later).tier == "free"
    assert _status(paths, now + dt.timedelta(days=5)).state == "refused"


def test_token_issued_in_the_future_means_the_clock_is_behind(paths, config):
    now = now_utc()
    token = _token(paths, issued_at=now + dt.timedelta(days=3),
                   expires_at=now + dt.timedelta(days=300))
    with pytest.raises(licensing.TokenRefused) as err:
        licensing.accept_token(paths, config, token, now=now)
    assert err.value.reason == "clock_set_back"


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300))
def test_any_damaged_license_file_gives_free_and_never_raises(tmp_path_factory, content):
    home = tmp_path_factory.mktemp("home")
    paths = app_paths()
    paths = type(paths)(config_dir=home / "c", data_dir=home / "d", state_dir=home / "s",
                        cache_dir=home / "k", config_file=home / "c" / "config.toml")
    paths.ensure()
    licensing.license_file(paths).write_bytes(content)
    assert licensing.effective_tier(paths, AppConfig()) == "free"


# --------------------------------------------------------------------------- notices


def test_update_notice_shows_until_acknowledged_and_again_for_a_newer_release(paths, config):
    update = {"latest_version": "0.2.0", "release_notes_url": "https://example.invalid/0.2",
              "security": True}
    licensing.accept_token(paths, config, _token(paths, update=update))
    notices = licensing.pending_notices(paths, "0.1.0")
    assert [n.kind for n in notices] == ["update"]
    assert "0.2.0" in notices[0].text and "security" in notices[0].text
    assert notices[0].url == "https://example.invalid/0.2"
    licensing.acknowledge(paths, notices[0])
    assert licensing.pending_notices(paths, "0.1.0") == []
    licensing.accept_token(paths, config, _token(paths, update=update))  # next day's check
    assert licensing.pending_notices(paths, "0.1.0") == []
    licensing.accept_token(paths, config, _token(paths, update={"latest_version": "0.3.0"}))
    assert [n.key for n in licensing.pending_notices(paths, "0.1.0")] == ["0.3.0"]


def test_no_update_notice_when_running_the_latest_or_newer(paths, config):
    licensing.accept_token(paths, config, _token(paths, update={"latest_version": "0.1.0"}))
    assert licensing.pending_notices(paths, "0.1.0") == []
    assert licensing.pending_notices(paths, "0.10.0") == []


def test_privacy_policy_notice_only_when_the_policy_changes(paths, config):
    licensing.accept_token(paths, config, _token(paths, privacy_policy_version="2026-01"))
    assert licensing.pending_notices(paths, "0.1.0") == []  # the policy installed under
    licensing.accept_token(paths, config, _token(paths, privacy_policy_version="2026-11"))
    notices = licensing.pending_notices(paths, "0.1.0")
    assert [(n.kind, n.key) for n in notices] == [("privacy_policy", "2026-11")]
    licensing.acknowledge(paths, notices[0])
    assert licensing.pending_notices(paths, "0.1.0") == []


@pytest.mark.parametrize(("candidate", "current", "newer"), [
    ("0.2.0", "0.1.0", True), ("0.10.0", "0.9.9", True), ("1.0", "1.0.0", False),
    ("0.1.0", "0.2.0", False), ("v2.0.0", "1.9", True),
])
def test_version_comparison(candidate, current, newer):
    assert licensing.is_newer(candidate, current) is newer


# --------------------------------------------------------------------------- the last check


def test_check_payload_has_exactly_the_promised_fields(paths):
    payload = licensing.check_payload(paths, "LK-SECRET-123456", "0.1.0")
    assert tuple(sorted(payload)) == tuple(sorted(licensing.CHECK_FIELDS))
    assert payload["instance_id"] == licensing.instance_id(paths)
    assert payload["app_version"] == "0.1.0"


def test_record_check_keeps_the_payload_with_the_key_masked(paths):
    sent = licensing.check_payload(paths, "LK-SECRET-123456", "0.1.0")
    at = now_utc()
    licensing.record_check(paths, at=at, url="https://x.invalid/v1/check", sent=sent, ok=False,
                           message="could not be reached")
    check = licensing.last_check(paths)
    assert check is not None
    assert check["sent"]["license_key"] == "••••3456"
    assert {k: v for k, v in check["sent"].items() if k != "license_key"} == {
        k: v for k, v in sent.items() if k != "license_key"}
    assert check["at"] == licensing.format_time(at) and check["ok"] is False
    assert "LK-SECRET-123456" not in licensing.license_file(paths).read_text()
    assert licensing.consecutive_failures(paths) == 1


def test_next_check_is_daily_with_jitter_and_backs_off_quietly_after_failures():
    rng = random.Random(4)
    day = licensing.next_check_in(0, rng=rng)
    assert dt.timedelta(hours=23) <= day <= dt.timedelta(hours=25)
    waits = [licensing.next_check_in(n, rng=random.Random(1)) for n in range(1, 12)]
    assert waits[0] < waits[1] < waits[2]
    assert all(w <= licensing.RETRY_MAX * 1.2 for w in waits)
    assert waits[0] >= licensing.RETRY_FIRST * 0.8


def test_a_clock_that_ran_ahead_is_cured_by_the_next_fresh_token_but_not_by_a_replay(paths,
                                                                                    config):
    now = now_utc()
    ahead = now + dt.timedelta(days=30)  # the machine's clock once ran a month fast
    first = _token(paths, issued_at=now - dt.timedelta(days=1))
    licensing.accept_token(paths, config, first, now=ahead)
    assert _status(paths, ahead).state == "valid"
    assert _status(paths, now).state == "refused"  # the clock went "back" to the right time
    with pytest.raises(licensing.TokenRefused):
        licensing.accept_token(paths, config, first, now=now)  # replaying the same answer
    licensing.accept_token(paths, config, _token(paths, issued_at=now), now=now)  # a real check
    assert _status(paths, now).state == "valid"
