"""The Textual application (placeholder until the first TUI slice lands)."""

from __future__ import annotations


def run_app(db_arg: str | None = None, config_file: str | None = None) -> int:
    from textual.app import App

    from core.runtime import open_runtime

    runtime = open_runtime(db_arg, config_file)
    runtime.close()
    App().run()
    return 0
