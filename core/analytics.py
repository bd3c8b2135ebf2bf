"""Opt-in anonymous usage analytics: the local queue and exactly what a batch contains.

Only while the user has opted in (``config.privacy``), the app counts features used (a screen
opened, an action run — identified by code-defined ids such as ``screen.invoices`` or
``action.invoice.issue``) and error class names (``ValueError``, never the message). A batch
is ``{analytics_id, app_version, features: {id: count}, errors: {class: count}}``: no business
data, no free text, no timestamps. Ids must look like dotted lowercase identifiers, which
keeps names, emails, amounts and record numbers out even if a caller passes one by mistake.

The analytics id is random, separate from the license instance id, and lives in the queue
file: opting out deletes the queue and the id together, so opting in again starts a new,
unlinked id. Counting is capped per id so a runaway loop cannot grow the file.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from config import AppPaths
from config.files import read_json_object, remove_file, write_private_json
from config.privacy import PrivacySettings, analytics_queue_file, load_privacy, save_privacy

FEATURE_ID = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*){0,5}")
ERROR_CLASS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_ID_LENGTH = 64
MAX_DISTINCT = 500  # ids kept in the queue; more are dropped until the next send
MAX_COUNT = 1_000_000
_LOCK = threading.Lock()


def enabled(paths: AppPaths) -> bool:
    return load_privacy(paths).analytics


def set_enabled(paths: AppPaths, on: bool) -> None:
    """Opt in or out. Opting out deletes the queue (and the analytics id) at once."""
    with _LOCK:
        current = load_privacy(paths)
        save_privacy(paths, PrivacySettings(analytics=on, ai_consent=current.ai_consent,
                                            local_storage=current.local_storage))


def is_feature_id(value: str) -> bool:
    return len(value) <= MAX_ID_LENGTH and FEATURE_ID.fullmatch(value) is not None


def _read_queue(paths: AppPaths) -> dict[str, Any]:
    data = read_json_object(analytics_queue_file(paths)) or {}
    if not isinstance(data.get("analytics_id"), str) or not re.fullmatch(
        r"[0-9a-f]{32}", data["analytics_id"]
    ):
        data = {"analytics_id": secrets.token_hex(16)}
    for key in ("features", "errors"):
        table = data.get(key)
        data[key] = {
            k: v for k, v in (table.items() if isinstance(table, dict) else ())
            if isinstance(v, int) and not isinstance(v, bool) and v > 0
        }
    return data


def _count(paths: AppPaths, table: str, key: str) -> bool:
    with _LOCK:
        if not enabled(paths):
            remove_file(analytics_queue_file(paths))  # a leftover from a racing opt-out
            return False
        queue = _read_queue(paths)
        counts = queue[table]
        if key not in counts and len(counts) >= MAX_DISTINCT:
            return False
        counts[key] = min(counts.get(key, 0) + 1, MAX_COUNT)
        write_private_json(analytics_queue_file(paths), queue)
        return True


def record_feature(paths: AppPaths, feature_id: str) -> bool:
    """Count one use of a feature; True if counted. Nothing happens unless opted in.

    ``feature_id`` must be a code-defined dotted id; anything else raises ValueError (a bug:
    it could be user data).
    """
    if not isinstance(feature_id, str) or not is_feature_id(feature_id):
        raise ValueError("analytics feature ids are dotted lowercase names like 'screen.jobs'")
    return _count(paths, "features", feature_id)


def record_error(paths: AppPaths, error: BaseException | type[BaseException] | str) -> bool:
    """Count an error by its class name only — never its message or traceback."""
    if isinstance(error, BaseException):
        name = type(error).__name__
    elif isinstance(error, type):
        name = error.__name__
    else:
        name = error
    if not (isinstance(name, str) and len(name) <= MAX_ID_LENGTH and ERROR_CLASS.fullmatch(name)):
        raise ValueError("analytics error names are Python class names like 'ValueError'")
    return _count(paths, "errors", name)


def pending_batch(paths: AppPaths, app_version: str) -> dict[str, Any] | None:
    """Exactly what the next send would transmit (Settings shows it); None when opted out or
    there is nothing to send."""
    if not enabled(paths):
        remove_file(analytics_queue_file(paths))
        return None
    if not analytics_queue_file(paths).exists():
        return None
    queue = _read_queue(paths)
    if not queue["features"] and not queue["errors"]:
        return None
    return {
        "analytics_id": queue["analytics_id"],
        "app_version": app_version,
        "features": dict(sorted(queue["features"].items())),
        "errors": dict(sorted(queue["errors"].items())),
    }


def mark_sent(paths: AppPaths, batch: Mapping[str, Any]) -> None:
    """Take what a successful send carried off the queue (counts made meanwhile stay)."""
    with _LOCK:
        if not enabled(paths):
            remove_file(analytics_queue_file(paths))
            return
        queue = _read_queue(paths)
        for table in ("features", "errors"):
            sent = batch.get(table) or {}
            for key, count in sent.items():
                left = queue[table].get(key, 0) - int(count)
                if left > 0:
                    queue[table][key] = left
                else:
                    queue[table].pop(key, None)
        write_private_json(analytics_queue_file(paths), queue)
