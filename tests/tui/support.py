"""Helpers for the TUI tests: an app on a test database with a fixed ``today``, waiting on
conditions (workers done, a screen shown) instead of sleeping, typing and pasting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from config import AppConfig
from tui.app import CrmApp

TODAY = dt.date(2026, 3, 15)


def make_app(db, *, keymap: dict[str, str] | None = None) -> CrmApp:
    app = CrmApp(db, config=AppConfig(keymap=keymap or {}), today=TODAY)
    app.animation_level = "none"  # as TEXTUAL_ANIMATIONS=none: no scroll animation to wait for
    return app


async def settle(pilot) -> None:
    """Let pending messages, screen switches and background workers finish."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot, condition: Callable[[], bool], what: str, tries: int = 200) -> None:
    """Poll a condition (debounce timers run on the clock, so settling alone is not enough)."""
    for _ in range(tries):
        await settle(pilot)
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def type_text(pilot, text: str) -> None:
    """Type like a person: one key per character (Pilot maps ``@``, ``.`` ... to key names)."""
    await pilot.press(*("space" if ch == " " else "enter" if ch == "\n" else ch for ch in text))


async def paste(pilot, text: str) -> None:
    """Paste into the focused field (a terminal's bracketed paste): one event, not one per key.

    Every key press costs a full layout pass (~40 ms), so long values are pasted.
    """
    from textual import events

    assert pilot.app.focused is not None, "nothing has the focus to paste into"
    pilot.app.post_message(events.Paste(text))  # as the terminal driver delivers it
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows right now, as plain lines (the same cells a snapshot draws)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]
