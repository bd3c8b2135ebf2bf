"""The transparency log: every exchange with the AI provider, kept on this machine.

One JSON line per request: when, the session, the question, the provider and URL, the body
exactly as sent (redacted when redaction was on; the API key travels in a header and is
never written), the status and body received, the queries run because of the reply (with
their row counts or errors) and the actions proposed. The file is ``assistant-log.jsonl`` in
the data directory, mode 0600 — not the state directory, whose file the local-storage
toggle deletes. The user reads it with :func:`read_exchanges` and deletes it with
:func:`delete_exchanges`; nothing else removes or trims it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from config import AppPaths

FILE_NAME = "assistant-log.jsonl"


def log_path(paths: AppPaths) -> Path:
    return paths.data_dir / FILE_NAME


def append_exchange(paths: AppPaths, entry: dict[str, Any]) -> None:
    path = log_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_exchanges(paths: AppPaths, *, session: str | None = None,
                   last: int | None = None) -> list[dict[str, Any]]:
    """The logged exchanges, oldest first (only one session's, or the last N, if asked).
    A damaged line is skipped, not fatal."""
    path = log_path(paths)
    if not path.exists():
        return []
    entries = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and (session is None or entry.get("session") == session):
                entries.append(entry)
    return entries[-last:] if last else entries


def delete_exchanges(paths: AppPaths) -> bool:
    """Delete the whole log; True when there was one."""
    try:
        log_path(paths).unlink()
    except FileNotFoundError:
        return False
    return True
