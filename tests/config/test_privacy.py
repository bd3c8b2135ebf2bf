"""The privacy toggles: defaults, persistence, private file, and that switching one off carries
out its promise at once."""

from __future__ import annotations

import json
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import app_paths
from config.privacy import (
    TOGGLES,
    PrivacySettings,
    analytics_queue_file,
    load_privacy,
    privacy_file,
    save_privacy,
)


@pytest.fixture
def paths(_isolated_home):
    p = app_paths()
    p.ensure()
    return p


def test_defaults_analytics_and_ai_off_local_storage_on(paths):
    assert load_privacy(paths) == PrivacySettings(analytics=False, ai_consent=False,
                                                  local_storage=True)
    assert not privacy_file(paths).exists()


def test_toggles_persist_across_loads_in_a_private_file(paths):
    wanted = PrivacySettings(analytics=True, ai_consent=True, local_storage=False)
    save_privacy(paths, wanted)
    assert load_privacy(app_paths()) == wanted
    assert stat.S_IMODE(privacy_file(paths).stat().st_mode) == 0o600
    # not in the state file, which the local-storage toggle deletes
    assert privacy_file(paths).parent == paths.data_dir


def test_turning_analytics_off_deletes_the_queue(paths):
    save_privacy(paths, PrivacySettings(analytics=True))
    analytics_queue_file(paths).write_text("{}")
    save_privacy(paths, PrivacySettings(analytics=False))
    assert not analytics_queue_file(paths).exists()


def test_turning_local_storage_off_deletes_the_state_file(paths):
    paths.state_file.write_text('{"last_screen": "clients"}')
    save_privacy(paths, PrivacySettings(local_storage=False))
    assert not paths.state_file.exists()


def test_revoking_ai_consent_takes_effect_on_the_next_load(paths):
    save_privacy(paths, PrivacySettings(ai_consent=True))
    assert load_privacy(paths).ai_consent
    save_privacy(paths, PrivacySettings(ai_consent=False))
    assert not load_privacy(paths).ai_consent


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
                 st.dictionaries(st.sampled_from(["analytics", "ai_consent", "local_storage",
                                                  "x"]),
                                 st.one_of(st.text(max_size=5), st.integers(), st.none()))
                 .map(json.dumps)))
def test_a_damaged_or_hand_edited_file_never_turns_sharing_on(tmp_path_factory, text):
    from config.paths import AppPaths

    root = tmp_path_factory.mktemp("p")
    paths = AppPaths(root / "c", root / "d", root / "s", root / "k", root / "c" / "c.toml")
    paths.ensure()
    privacy_file(paths).write_text(text, encoding="latin-1")
    loaded = load_privacy(paths)
    assert loaded.analytics is False and loaded.ai_consent is False


def test_every_toggle_has_an_explanation_saying_what_leaves_the_machine():
    assert [t.field for t in TOGGLES] == ["analytics", "ai_consent", "local_storage"]
    assert "Off by default" in TOGGLES[0].explanation
    assert "Off by default" in TOGGLES[1].explanation
    assert "On by default" in TOGGLES[2].explanation
    assert "deletes" in TOGGLES[0].explanation and "deletes" in TOGGLES[2].explanation


def test_set_toggle_flips_one_and_keeps_the_others(paths):
    from config.privacy import set_toggle

    set_toggle(paths, "ai_consent", True)
    set_toggle(paths, "analytics", True)
    paths.state_file.write_text("{}")
    now = set_toggle(paths, "local_storage", False)
    assert now == PrivacySettings(analytics=True, ai_consent=True, local_storage=False)
    assert load_privacy(paths) == now and not paths.state_file.exists()
    with pytest.raises(ValueError):
        set_toggle(paths, "telemetry", True)
