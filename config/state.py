"""The local state store: preferences, the last screen, autosaved drafts of unsaved forms.

One JSON file (``state.json``, 0600) in the state dir, kept only while the "local storage"
privacy toggle is on. Every write first checks the toggle: when it is off nothing is written,
the setters return False (so a form can say "drafts are not kept"), reads give the defaults
and a leftover file is deleted. Values must be JSON (str, numbers, bools, None, lists, dicts);
callers never put secrets (API keys, the license key) in a draft.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from config.files import read_json_object, remove_file, write_private_json
from config.paths import AppPaths
from config.privacy import load_privacy, save_privacy

MAX_DRAFT_BYTES = 256 * 1024  # one form's draft; a larger one is not kept
_LOCK = threading.Lock()  # the TUI thread and workers share one process


class LocalState:
    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths

    # ------------------------------------------------------------------ the toggle

    @property
    def enabled(self) -> bool:
        return load_privacy(self.paths).local_storage

    def set_enabled(self, enabled: bool) -> None:
        """Turn local storage on or off; off deletes the state file at once."""
        with _LOCK:
            settings = load_privacy(self.paths)
            save_privacy(self.paths, type(settings)(
                analytics=settings.analytics, ai_consent=settings.ai_consent,
                local_storage=enabled))

    @property
    def exists(self) -> bool:
        return self.paths.state_file.exists()

    # ------------------------------------------------------------------ file access

    def _read(self) -> dict[str, Any]:
        if not self.enabled:
            remove_file(self.paths.state_file)
            return {}
        return read_json_object(self.paths.state_file) or {}

    def _update(self, change: Any) -> bool:
        with _LOCK:
            if not self.enabled:
                remove_file(self.paths.state_file)
                return False
            data = read_json_object(self.paths.state_file) or {}
            change(data)
            write_private_json(self.paths.state_file, data)
            return True

    # ------------------------------------------------------------------ preferences

    def preferences(self) -> dict[str, Any]:
        prefs = self._read().get("preferences")
        return copy.deepcopy(prefs) if isinstance(prefs, dict) else {}

    def get_preference(self, key: str, default: Any = None) -> Any:
        return self.preferences().get(key, default)

    def set_preference(self, key: str, value: Any) -> bool:
        _check_json(value)
        return self._update(lambda d: _table(d, "preferences").__setitem__(key, value))

    def last_screen(self) -> str | None:
        value = self._read().get("last_screen")
        return value if isinstance(value, str) else None

    def set_last_screen(self, screen_id: str) -> bool:
        return self._update(lambda d: d.__setitem__("last_screen", screen_id))

    # ------------------------------------------------------------------ drafts

    def save_draft(self, form_id: str, data: dict[str, Any]) -> bool:
        """Keep what a form holds so far; False when local storage is off (nothing kept)."""
        if not isinstance(data, dict):
            raise TypeError("a draft is a dict of field name -> value")
        if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_DRAFT_BYTES:
            return False
        return self._update(lambda d: _table(d, "drafts").__setitem__(form_id, data))

    def load_drafts(self) -> dict[str, dict[str, Any]]:
        drafts = self._read().get("drafts")
        if not isinstance(drafts, dict):
            return {}
        return {k: copy.deepcopy(v) for k, v in drafts.items() if isinstance(v, dict)}

    def discard_draft(self, form_id: str) -> None:
        if self.exists:
            self._update(lambda d: _table(d, "drafts").pop(form_id, None))


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        value = data[key] = {}
    return value


def _check_json(value: Any) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise TypeError(f"preferences hold JSON values, not {type(value).__name__}") from None
