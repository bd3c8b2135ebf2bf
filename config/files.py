"""Small private files the app keeps beside the database (license state, privacy toggles,
analytics queue, local state): written atomically with mode 0600, read forgivingly.

A file that is missing, unreadable or not a JSON object reads as ``None``; callers fall back
to their defaults rather than crash at start because a file was half-edited by hand.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def write_private_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, created 0600 (never briefly wider), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object stored in ``path``, or None when there is none worth trusting."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_file(path: Path) -> bool:
    """Delete ``path`` if it exists; True when something was deleted."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
