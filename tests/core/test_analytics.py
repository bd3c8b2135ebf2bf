"""The opt-in analytics queue: nothing counted while opted out, only ids and class names
counted while in, the queued payload visible, opting out deleting it at once."""

from __future__ import annotations

import json
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import app_paths
from config.privacy import analytics_queue_file
from core import analytics, licensing


@pytest.fixture
def paths(_isolated_home):
    p = app_paths()
    p.ensure()
    return p


@pytest.fixture
def opted_in(paths):
    analytics.set_enabled(paths, True)
    return paths


def test_off_by_default_and_nothing_is_queued(paths):
    assert analytics.enabled(paths) is False
    assert analytics.record_feature(paths, "screen.clients") is False
    assert analytics.record_error(paths, ValueError("boom")) is False
    assert not analytics_queue_file(paths).exists()
    assert analytics.pending_batch(paths, "0.1.0") is None


def test_counts_features_and_error_class_names_only(opted_in):
    for _ in range(3):
        analytics.record_feature(opted_in, "screen.invoices")
    analytics.record_feature(opted_in, "action.invoice.issue")
    analytics.record_error(opted_in, KeyError("client 'Ann Smith' ann@example.com"))
    analytics.record_error(opted_in, TimeoutError)
    batch = analytics.pending_batch(opted_in, "0.1.0")
    assert batch == {
        "analytics_id": batch["analytics_id"],
        "app_version": "0.1.0",
        "features": {"action.invoice.issue": 1, "screen.invoices": 3},
        "errors": {"KeyError": 1, "TimeoutError": 1},
    }
    raw = analytics_queue_file(opted_in).read_text()
    assert "Ann Smith" not in raw and "example.com" not in raw
    assert stat.S_IMODE(analytics_queue_file(opted_in).stat().st_mode) == 0o600


def test_analytics_id_is_random_and_not_the_instance_id(opted_in):
    analytics.record_feature(opted_in, "screen.jobs")
    batch = analytics.pending_batch(opted_in, "0.1.0")
    assert len(batch["analytics_id"]) == 32
    assert batch["analytics_id"] != licensing.instance_id(opted_in)
    assert licensing.instance_id(opted_in) not in json.dumps(batch)


def test_opting_out_deletes_the_queue_and_id_at_once(opted_in):
    analytics.record_feature(opted_in, "screen.jobs")
    first_id = analytics.pending_batch(opted_in, "0.1.0")["analytics_id"]
    analytics.set_enabled(opted_in, False)
    assert not analytics_queue_file(opted_in).exists()
    assert analytics.pending_batch(opted_in, "0.1.0") is None
    analytics.set_enabled(opted_in, True)
    analytics.record_feature(opted_in, "screen.jobs")
    assert analytics.pending_batch(opted_in, "0.1.0")["analytics_id"] != first_id


def test_a_queue_left_behind_after_opting_out_is_never_sent(opted_in):
    analytics.record_feature(opted_in, "screen.jobs")
    saved = analytics_queue_file(opted_in).read_text()
    analytics.set_enabled(opted_in, False)
    analytics_queue_file(opted_in).write_text(saved)  # a write that raced the opt-out
    assert analytics.pending_batch(opted_in, "0.1.0") is None
    assert not analytics_queue_file(opted_in).exists()


def test_mark_sent_keeps_counts_made_meanwhile(opted_in):
    analytics.record_feature(opted_in, "screen.jobs")
    batch = analytics.pending_batch(opted_in, "0.1.0")
    analytics.record_feature(opted_in, "screen.jobs")
    analytics.mark_sent(opted_in, batch)
    assert analytics.pending_batch(opted_in, "0.1.0")["features"] == {"screen.jobs": 1}
    analytics.mark_sent(opted_in, analytics.pending_batch(opted_in, "0.1.0"))
    assert analytics.pending_batch(opted_in, "0.1.0") is None


@pytest.mark.parametrize("bad", ["Acme Plumbing", "INV-0042", "ann@example.com", "screen.",
                                 "screen.clients.42", "x" * 65, "", "écran", "+15555550123"])
def test_anything_that_could_be_user_data_is_refused_as_a_feature_id(opted_in, bad):
    with pytest.raises(ValueError):
        analytics.record_feature(opted_in, bad)
    assert analytics.pending_batch(opted_in, "0.1.0") is None


@pytest.mark.parametrize("bad", ["Ann Smith", "client 42 failed", "a-b"])
def test_error_names_must_be_class_names(opted_in, bad):
    with pytest.raises(ValueError):
        analytics.record_error(opted_in, bad)


def test_distinct_ids_are_capped(opted_in, monkeypatch):
    monkeypatch.setattr(analytics, "MAX_DISTINCT", 3)
    names = ["screen.a", "screen.b", "screen.c", "screen.d"]
    assert [analytics.record_feature(opted_in, n) for n in names] == [True, True, True, False]
    assert analytics.record_feature(opted_in, "screen.a") is True


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_property_no_free_text_gets_through(text):
    # whatever is accepted is a lowercase dotted identifier: no spaces, digits, @ or capitals
    if analytics.is_feature_id(text):
        assert all(c.islower() and c.isascii() or c in "._" for c in text)
