"""The layers (DESIGN section 2): core and integrations never import Textual or the TUI;
core never imports httpx, stripe or twilio. Checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    pkg = importlib.import_module({pkg!r})
    for m in pkgutil.walk_packages(pkg.__path__, {pkg!r} + "."):
        if ".migrations" in m.name:
            continue
        importlib.import_module(m.name)
    print(" ".join(sorted({{n.split(".")[0] for n in sys.modules}})))
    """
)


def _loaded_after_import(pkg: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(pkg=pkg)], capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_core_is_free_of_ui_and_http():
    loaded = _loaded_after_import("core")
    assert not loaded & {"textual", "tui", "httpx", "stripe", "twilio", "integrations"}, loaded


def test_integrations_are_free_of_ui():
    loaded = _loaded_after_import("integrations")
    assert not loaded & {"textual", "tui"}, loaded


def test_config_imports_nothing_of_ours():
    loaded = _loaded_after_import("config")
    assert not loaded & {"textual", "tui", "core", "integrations"}, loaded
