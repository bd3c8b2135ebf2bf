"""The local state store: preferences, last screen and drafts persist while local storage is
on; turning it off deletes the file and nothing is written from then on."""

from __future__ import annotations

import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import app_paths
from config.privacy import load_privacy
from config.state import MAX_DRAFT_BYTES, LocalState


@pytest.fixture
def state(_isolated_home):
    paths = app_paths()
    paths.ensure()
    return LocalState(paths)


def test_preferences_last_screen_and_drafts_persist(state):
    assert state.set_preference("theme", "nord")
    assert state.set_last_screen("invoices")
    assert state.save_draft("client.new", {"name": "Acme", "notes": "line 1\nline 2"})
    again = LocalState(app_paths())
    assert again.get_preference("theme") == "nord"
    assert again.get_preference("missing", 3) == 3
    assert again.last_screen() == "invoices"
    assert again.load_drafts() == {"client.new": {"name": "Acme", "notes": "line 1\nline 2"}}
    again.discard_draft("client.new")
    assert LocalState(app_paths()).load_drafts() == {}


def test_state_file_is_private(state):
    state.set_preference("x", 1)
    assert stat.S_IMODE(state.paths.state_file.stat().st_mode) == 0o600


def test_turning_local_storage_off_deletes_the_file_and_nothing_is_written_after(state):
    state.save_draft("invoice.edit.4", {"notes": "half typed"})
    assert state.exists
    state.set_enabled(False)
    assert not state.paths.state_file.exists()
    assert load_privacy(state.paths).local_storage is False
    assert state.save_draft("invoice.edit.4", {"notes": "more"}) is False
    assert state.set_preference("theme", "nord") is False
    assert state.set_last_screen("clients") is False
    state.discard_draft("invoice.edit.4")
    assert not state.paths.state_file.exists()
    assert state.load_drafts() == {} and state.preferences() == {}
    assert not any(state.paths.state_dir.glob("*state*"))


def test_a_file_left_behind_while_off_is_deleted_not_read(state):
    state.set_enabled(False)
    state.paths.state_file.write_text('{"last_screen": "clients"}')
    assert state.last_screen() is None
    assert not state.paths.state_file.exists()


def test_turning_it_back_on_starts_empty(state):
    state.set_preference("theme", "nord")
    state.set_enabled(False)
    state.set_enabled(True)
    assert state.preferences() == {}
    assert state.set_preference("theme", "gruvbox")
    assert state.get_preference("theme") == "gruvbox"


def test_oversized_draft_is_not_kept(state):
    assert state.save_draft("note", {"notes": "x" * (MAX_DRAFT_BYTES + 1)}) is False
    assert state.load_drafts() == {}


def test_non_json_preference_is_refused(state):
    with pytest.raises(TypeError):
        state.set_preference("when", object())


def test_a_damaged_state_file_reads_as_empty(state):
    state.paths.state_file.write_text("{not json")
    assert state.preferences() == {} and state.load_drafts() == {}
    assert state.set_preference("a", 1)  # and is replaced by a good one
    assert state.get_preference("a") == 1


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=6))
def test_any_text_draft_round_trips(tmp_path_factory, draft):
    from config.paths import AppPaths

    root = tmp_path_factory.mktemp("s")
    store = LocalState(AppPaths(root / "c", root / "d", root / "s", root / "k", root / "c.toml"))
    assert store.save_draft("form", draft)
    assert store.load_drafts() == {"form": draft}


def test_naughty_strings_round_trip_in_a_draft(state, naughty_strings):
    draft = {str(i): s for i, s in enumerate(naughty_strings)}
    assert state.save_draft("client.new", draft)
    assert LocalState(app_paths()).load_drafts()["client.new"] == draft
