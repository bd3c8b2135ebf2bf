"""A thread for search as you type: it runs the latest job handed to it, at once.

A Textual thread worker starts on a later turn of the event loop, after the keystroke's own
redraw: 10 ms or more on a busy machine, several times what a search costs. This thread is
already waiting; :meth:`LatestOnly.submit` wakes it. While a job runs, a newer one replaces
any that waits, so a slow database gets one query at a time and only the newest text is
searched next, never a queue of stale ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("tssg_crm.tui")


class LatestOnly:
    def __init__(self, name: str, on_error: Callable[[Exception], None]) -> None:
        self.name = name
        self._on_error = on_error  # called in this thread with what a job raised
        self._wake = threading.Condition()
        self._job: Callable[[], None] | None = None
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` in the thread as soon as it is free (replacing a job still waiting)."""
        with self._wake:
            if self._stopped:
                return
            self._job = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        """Drop a waiting job and end the thread once the running one (if any) returns."""
        with self._wake:
            self._stopped = True
            self._job = None
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._job is None and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                job, self._job = self._job, None
            try:
                job()
            except Exception as exc:  # the next keystroke must still be searched
                try:
                    self._on_error(exc)
                except Exception:  # e.g. the app has stopped: nobody left to tell
                    logger.exception("%s: a job failed", self.name)
