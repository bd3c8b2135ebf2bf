"""The three privacy toggles (DESIGN section 4) and what each one promises.

Stored in ``privacy.json`` (0600) in the data dir — not in the local state file, which the
local-storage toggle deletes. Saving a toggle as off carries out its promise at once, whoever
calls :func:`save_privacy`: analytics off deletes the analytics queue, local storage off deletes
the state file. A missing or damaged file reads as the defaults (everything off except local
storage), which is the privacy-safe reading.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from config.files import read_json_object, remove_file, write_private_json
from config.paths import AppPaths


@dataclass(frozen=True)
class PrivacySettings:
    analytics: bool = False
    ai_consent: bool = False
    local_storage: bool = True


@dataclass(frozen=True)
class Toggle:
    field: str
    label: str
    explanation: str


# What Settings shows beside each toggle: what it does and exactly what leaves the machine.
TOGGLES: tuple[Toggle, ...] = (
    Toggle(
        "analytics",
        "Anonymous usage analytics",
        "Off by default. When on, the app counts which screens and actions you use and the "
        "names of error types, and sends those counts with the app version and a random "
        "analytics id (not your license or instance id) to the vendor in small batches. No "
        "client, job, invoice or other business data, no text you typed and no names or "
        "numbers from your records are ever included; you can view the queued data before it "
        "is sent. Turning it off deletes the queue at once.",
    ),
    Toggle(
        "ai_consent",
        "AI features consent",
        "Off by default. When on (Sovereign tier), questions you ask the assistant, the query "
        "description and the rows a query returns are sent to the AI provider you configured, "
        "with your own API key; the screen shows what was sent. Nothing is sent while this "
        "is off, and turning it off disables the assistant immediately.",
    ),
    Toggle(
        "local_storage",
        "Local storage",
        "On by default. Keeps your preferences, the last screen you used and drafts of forms "
        "you have not saved in a private file on this computer, so you can pick up where you "
        "left off. Nothing in it leaves the machine. Turning it off deletes that file, and "
        "from then on nothing is written there (unsaved form drafts are then not kept).",
    ),
)


def privacy_file(paths: AppPaths) -> Path:
    return paths.data_dir / "privacy.json"


def analytics_queue_file(paths: AppPaths) -> Path:
    """The opt-in analytics queue (and the analytics id); deleted whenever analytics is off."""
    return paths.data_dir / "analytics_queue.json"


def load_privacy(paths: AppPaths) -> PrivacySettings:
    data = read_json_object(privacy_file(paths)) or {}
    defaults = PrivacySettings()
    values = {}
    for f in fields(PrivacySettings):
        value = data.get(f.name)
        # anything but a real boolean is ignored, so a hand-edited "yes" never turns sharing on
        values[f.name] = value if isinstance(value, bool) else getattr(defaults, f.name)
    return PrivacySettings(**values)


def save_privacy(paths: AppPaths, settings: PrivacySettings) -> None:
    """Store the toggles, then delete what a switched-off toggle says is not kept.

    The readers (:mod:`core.analytics`, :mod:`config.state`) also check the toggle before
    every write and delete a file left behind, so a write racing this call cannot survive it.
    """
    write_private_json(privacy_file(paths), asdict(settings))
    if not settings.analytics:
        remove_file(analytics_queue_file(paths))
    if not settings.local_storage:
        remove_file(paths.state_file)


def set_toggle(paths: AppPaths, name: str, on: bool) -> PrivacySettings:
    """Flip one toggle (what the Settings screen calls); returns the settings now in force."""
    if name not in {t.field for t in TOGGLES}:
        raise ValueError(f"unknown privacy toggle {name!r}")
    current = asdict(load_privacy(paths))
    current[name] = bool(on)
    settings = PrivacySettings(**current)
    save_privacy(paths, settings)
    return settings
