"""The license check against a loopback fake server that signs real Ed25519 tokens: what is
sent (exactly the promised fields), and what each kind of answer does to the tier."""

from __future__ import annotations

import json
import platform

import pytest

from config import app_paths, load_config
from config.secrets import load_secrets
from core import licensing
from integrations import license_client
from integrations.http import RetryPolicy
from tests.fakes.license_server import LicenseServer
from tests.license_support import grant, trust_test_key

NO_RETRY = RetryPolicy(retries=1, backoff=0.0)


@pytest.fixture
def server():
    with LicenseServer() as fake:
        yield fake


@pytest.fixture
def setup(_isolated_home, server, monkeypatch):
    """An app home trusting the test key and pointing at the fake server, with a license key."""
    monkeypatch.setenv("TSSG_CRM_LICENSE_KEY", "LK-9F3A-77Q2-TEST")
    trust_test_key(_isolated_home, server_url=server.url)
    paths = app_paths()
    paths.ensure()
    return paths


def check(paths, **kw):
    config = load_config(paths.config_file)
    return license_client.check_now(paths, config, load_secrets(paths.secrets_file),
                                    app_version="0.1.0", policy=NO_RETRY,
                                    sleep=lambda s: None, **kw)


def test_check_sends_exactly_the_promised_fields_and_nothing_else(setup, server):
    result = check(setup)
    assert result.ok, result.message
    assert len(server.checks) == 1
    sent = server.checks[0].json
    assert sent == {
        "instance_id": licensing.instance_id(setup),
        "license_key": "LK-9F3A-77Q2-TEST",
        "app_version": "0.1.0",
        "os": f"{platform.system()} {platform.release()}".strip(),
        "python": platform.python_version(),
    }
    # no cookies, no auth, no client data in the headers either
    headers = server.checks[0].headers
    assert not {"cookie", "authorization"} & set(headers)
    assert headers["content-type"] == "application/json"


def test_a_valid_answer_sets_the_tier_and_is_recorded_for_settings(setup, server):
    server.tier = "sovereign"
    result = check(setup)
    assert result.ok and result.status.tier == "sovereign"
    assert result.sent["license_key"] == "••••TEST"
    recorded = licensing.last_check(setup)
    assert recorded is not None and recorded["ok"] is True and recorded["url"] == server.url
    assert set(recorded["sent"]) == set(licensing.CHECK_FIELDS)
    assert "LK-9F3A-77Q2-TEST" not in licensing.license_file(setup).read_text()


def test_without_a_license_key_the_check_still_runs_and_sends_an_empty_key(setup, server,
                                                                           monkeypatch):
    monkeypatch.delenv("TSSG_CRM_LICENSE_KEY")
    server.tier = "free"
    assert check(setup).ok
    assert server.checks[0].json["license_key"] == ""


@pytest.mark.parametrize(("mode", "state"), [("expired", "expired"), ("grace", "grace")])
def test_expired_and_grace_answers(setup, server, mode, state):
    server.mode = mode
    result = check(setup)
    assert result.ok
    assert result.status.state == state
    assert result.status.tier == ("premium" if state == "grace" else "free")


@pytest.mark.parametrize(("mode", "words"), [
    ("bad_signature", "altered"),
    ("tampered", "altered"),
    ("other_instance", "another installation"),
    ("clock_ahead", "clock"),
    ("rejected", "not valid"),
    ("down", "server error"),
    ("garbage", "not a license token"),
])
def test_bad_answers_keep_the_last_valid_token(setup, server, mode, words):
    assert check(setup).status.tier == "premium"
    server.mode = mode
    server.tier = "sovereign"
    result = check(setup)
    assert not result.ok
    assert words in result.message
    assert "\n" not in result.message
    assert result.status.tier == "premium"  # the last valid token holds
    assert licensing.last_check(setup)["ok"] is False


def test_slow_server_times_out_quietly(setup, server):
    server.mode, server.delay = "slow", 1.0
    result = check(setup, timeout=0.2)
    assert not result.ok and "did not answer" in result.message
    assert result.status.tier == "free"


def test_server_down_retries_are_bounded(setup, server):
    server.mode = "down"
    config = load_config(setup.config_file)
    waits: list[float] = []
    result = license_client.check_now(setup, config, None, app_version="0.1.0",
                                      policy=RetryPolicy(retries=2, backoff=0.5),
                                      sleep=waits.append)
    assert not result.ok
    assert len(server.checks) == 3 and waits == [0.5, 1.0]
    assert licensing.consecutive_failures(setup) == 1


def test_unreachable_server(setup):
    config = load_config(setup.config_file)
    dead = type(config)(license=type(config.license)(
        server_url="http://127.0.0.1:9/v1/check", public_keys=config.license.public_keys))
    result = license_client.check_now(setup, dead, None, app_version="0.1.0", policy=NO_RETRY,
                                      sleep=lambda s: None)
    assert not result.ok and "could not be reached" in result.message


def test_notices_from_a_check(setup, server):
    server.update = {"latest_version": "9.0.0", "release_notes_url": "https://x.invalid/n"}
    server.privacy_policy_version = "1"
    check(setup)
    assert [n.kind for n in licensing.pending_notices(setup, "0.1.0")] == ["update"]
    server.privacy_policy_version = "2"
    check(setup)
    kinds = [n.kind for n in licensing.pending_notices(setup, "0.1.0")]
    assert kinds == ["update", "privacy_policy"]


def test_deletion_request_sends_only_instance_id_and_key(setup, server):
    config = load_config(setup.config_file)
    answer = license_client.request_deletion(setup, config, load_secrets(setup.secrets_file),
                                             policy=NO_RETRY, sleep=lambda s: None)
    assert "Deletion request received" in answer
    [sent] = [r for r in server.requests if r.path == "/v1/delete"]
    assert json.loads(sent.body) == {"instance_id": licensing.instance_id(setup),
                                     "license_key": "LK-9F3A-77Q2-TEST"}


def test_deletion_request_failure_is_reported(setup, server):
    from integrations.http import IntegrationError

    server.mode = "rejected"
    config = load_config(setup.config_file)
    with pytest.raises(IntegrationError) as err:
        license_client.request_deletion(setup, config, None, policy=NO_RETRY,
                                        sleep=lambda s: None)
    assert "not valid" in str(err.value)


def test_grant_and_a_real_check_agree(_isolated_home, setup, server):
    grant(_isolated_home, "sovereign")
    assert licensing.effective_tier(setup, load_config(setup.config_file)) == "sovereign"
    server.tier = "premium"
    assert check(setup).status.tier == "premium"


def test_background_round_checks_then_sends_analytics_only_when_opted_in(setup, server):
    import random

    from core import analytics
    from tests.fakes.analytics_server import AnalyticsServer

    with AnalyticsServer() as stats:
        trust_test_key(setup.config_dir.parent, server_url=server.url)
        text = setup.config_file.read_text()
        setup.config_file.write_text(text + f'[analytics]\n"endpoint" = "{stats.url}"\n')
        config = load_config(setup.config_file)
        analytics.record_feature(setup, "screen.clients")  # opted out: not even queued
        first = license_client.background_round(setup, config, None, app_version="0.1.0",
                                                rng=random.Random(1), sleep=lambda s: None)
        assert first.check.ok and first.quiet_notice == "" and not first.analytics_sent
        assert first.next_check_in.total_seconds() > 23 * 3600
        analytics.set_enabled(setup, True)
        analytics.record_feature(setup, "screen.clients")
        second = license_client.background_round(setup, config, None, app_version="0.1.0",
                                                 sleep=lambda s: None)
        assert second.analytics_sent and len(stats.batches) == 1
        server.mode = "down"
        third = license_client.background_round(setup, config, None, app_version="0.1.0",
                                                rng=random.Random(1), sleep=lambda s: None)
    assert not third.check.ok
    assert third.next_check_in.total_seconds() < 3600  # quiet, short backoff
    assert "\n" not in third.quiet_notice and "retrying in" in third.quiet_notice
    assert "Premium" in third.quiet_notice  # the last valid token holds


def test_status_bar_text():
    import datetime as dt

    s = licensing.LicenseStatus
    day = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    assert licensing.status_bar_text(s("free", "none", "", "")) == "Free"
    assert licensing.status_bar_text(s("premium", "valid", "", "", expires_at=day)) == \
        "Premium · until 2027-01-02"
    assert "grace until 2027-01-02" in licensing.status_bar_text(
        s("premium", "grace", "", "", grace_until=day))
    assert licensing.status_bar_text(s("free", "refused", "", "")) == \
        "Free · license not accepted"
