"""The analytics sender against a loopback collector: no request at all unless opted in, and
exactly the queued payload when it is."""

from __future__ import annotations

import pytest

from config import AppConfig, app_paths
from config.settings import AnalyticsConfig
from core import analytics
from integrations.analytics import send_pending
from integrations.http import IntegrationError, RetryPolicy
from tests.fakes.analytics_server import AnalyticsServer


@pytest.fixture
def server():
    with AnalyticsServer() as fake:
        yield fake


@pytest.fixture
def paths(_isolated_home):
    p = app_paths()
    p.ensure()
    return p


def _send(paths, server):
    config = AppConfig(analytics=AnalyticsConfig(endpoint=server.url))
    return send_pending(paths, config, app_version="0.1.0", sleep=lambda s: None,
                        policy=RetryPolicy(retries=0))


def test_opted_out_means_no_request_ever(paths, server):
    for _ in range(3):
        analytics.record_feature(paths, "screen.clients")
        analytics.record_error(paths, RuntimeError("x"))
        assert _send(paths, server) is False
    assert server.requests == []


def test_opted_in_sends_exactly_the_pending_batch_then_clears_it(paths, server):
    analytics.set_enabled(paths, True)
    analytics.record_feature(paths, "screen.clients")
    analytics.record_error(paths, ZeroDivisionError)
    shown = analytics.pending_batch(paths, "0.1.0")
    assert _send(paths, server) is True
    assert server.batches == [shown]
    assert analytics.pending_batch(paths, "0.1.0") is None
    assert _send(paths, server) is False  # nothing queued: no request
    assert len(server.requests) == 1


def test_opting_out_after_queueing_sends_nothing(paths, server):
    analytics.set_enabled(paths, True)
    analytics.record_feature(paths, "screen.clients")
    analytics.set_enabled(paths, False)
    assert _send(paths, server) is False
    assert server.requests == []


def test_a_failed_send_keeps_the_queue(paths, server):
    server.status = 503
    analytics.set_enabled(paths, True)
    analytics.record_feature(paths, "screen.clients")
    with pytest.raises(IntegrationError):
        _send(paths, server)
    assert analytics.pending_batch(paths, "0.1.0")["features"] == {"screen.clients": 1}
    server.status = 202
    assert _send(paths, server) is True
