"""What every screen of the app shares: the database, notices that never parse markup, and
one place where a failed background task is reported (``Worker.StateChanged`` does not
bubble, so each screen forwards it to the app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import on
from textual.events import Mount
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from core.db import Database
    from tui.app import CrmApp

ResultType = TypeVar("ResultType")


class _AppAccess:
    app: Any

    @property
    def crm(self) -> CrmApp:
        return cast("CrmApp", self.app)

    @property
    def db(self) -> Database:
        return self.crm.db

    def notice(self, message: str, *, severity: str = "information", title: str = "") -> None:
        self.crm.notice(message, severity=severity, title=title)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.crm.report_worker_error(event.worker)


class CrmScreen(_AppAccess, Screen[ResultType]):
    """A full screen of the app."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new screen has no styles to bring up to date yet, but Textual (textual==8.2.8)
        # starts its CSS count at -1, so opening it as a section re-parsed every stylesheet
        # (14 ms before the first frame); its styles are applied when it is mounted anyway.
        try:
            self._css_update_count = self.app._css_update_count
        except Exception:  # made outside a running app (a test): Textual's default holds
            pass

    @on(Mount)
    def _add_status_line(self) -> None:
        # here, not when the app switches screen: a screen can only take widgets once mounted
        self.crm.add_status_line(self)


class CrmModal(_AppAccess, ModalScreen[ResultType]):
    """A dialog over the current screen; the app's keys do not reach past it."""
