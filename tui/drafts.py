"""No lost edits: while a form has unsaved changes, what it holds is kept as a draft in the
local state store (:class:`config.state.LocalState`), and the next start offers to put each
draft back into its form.

A form opts in with :class:`DraftForm` and two methods: ``draft_values()`` (what it holds,
as JSON) and ``apply_draft(values)`` (put that back). It calls ``draft_ready(record_id)``
once its fields are filled in (a restored draft is applied then) and ``draft_finished()``
when it is saved or its changes are discarded; that deletes the draft. Every edit
(``Input``/``TextArea``/``Select``/``Checkbox`` changes reach the screen) restarts a
``DRAFT_DEBOUNCE`` timer; when it fires the draft is written in a thread worker owned by the
app, so a form closing meanwhile cannot cut a write short. A form whose changes were undone
by hand deletes its draft rather than keep an identical copy.

Decisions where the issue is silent:

- A draft is keyed ``kind:record id`` for an edit form (one draft per record) and
  ``kind:new:<random>`` for a new record, so two new-client forms never overwrite each other.
- At start (once the business is set up) each draft is offered in turn, oldest first:
  restore (opens its form in its section with the draft in it), discard, or later (kept,
  asked again next start). A draft of an edit form keeps the version the form was opened
  with: if the record changed since, saving is refused with the usual message rather than
  overwrite the newer change, and the restore says so.
- Quitting with "Quit and lose them" discards the drafts of the forms that were dirty.
- Local storage off: nothing is written (the store refuses) and the form says so in its
  draft line; the app offers nothing at start.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Label

from config import AppPaths, app_paths
from config.state import LocalState
from tui.render import one_line
from tui.screens.base import CrmModal

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.app import CrmApp

DRAFT_DEBOUNCE = 1.0  # seconds of quiet after the last keystroke before the draft is written

OFF_MESSAGE = "Local storage is off: unsaved changes here are not kept as a draft."
TOO_BIG_MESSAGE = "This form is too large to keep as a draft; save it to keep your changes."


@dataclass(frozen=True)
class Draft:
    key: str
    kind: str  # the form that wrote it: DraftForm.DRAFT_KIND
    record_id: int | None  # None: a new record
    label: str  # what the form was about ("Greenway Landscaping"), shown in the offer
    saved_at: str  # ISO local time
    values: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "record_id": self.record_id, "label": self.label,
                "saved_at": self.saved_at, "values": self.values}

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> Draft | None:
        """A stored draft, or None when the entry is not one (hand-edited, older format)."""
        kind, record_id, values = data.get("kind"), data.get("record_id"), data.get("values")
        if not isinstance(kind, str) or not isinstance(values, dict):
            return None
        if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, int)):
            return None
        label, saved_at = data.get("label"), data.get("saved_at")
        return cls(key, kind, record_id, label if isinstance(label, str) else "",
                   saved_at if isinstance(saved_at, str) else "", values)

    def describe(self) -> str:
        """``New client “Greenway”`` / ``Changes to client “Acme”`` for the restore offer."""
        form = form_class(self.kind)
        custom = form.describe_draft(self) if form is not None else None
        if custom:
            return custom
        noun = form.DRAFT_NOUN if form is not None else self.kind
        what = f"New {noun}" if self.record_id is None else f"Changes to {noun}"
        label = one_line(self.label)[:60]
        return f"{what} “{label}”" if label else what

    def kept_at(self) -> str:
        try:
            return dt.datetime.fromisoformat(self.saved_at).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return "earlier"


class DraftStore:
    """The app's drafts, over the local state store. Safe to call from worker threads.

    A key that was finished (saved or discarded) stays closed, so an autosave still on its
    way cannot bring the draft back after the form is gone.
    """

    def __init__(self, paths: AppPaths) -> None:
        self.state = LocalState(paths)
        self._lock = threading.Lock()
        self._closed: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self.state.enabled

    def open(self, key: str) -> None:
        with self._lock:
            self._closed.discard(key)

    def save(self, draft: Draft) -> bool:
        """Keep ``draft``; False when nothing was kept (local storage off, too large)."""
        with self._lock:
            if draft.key in self._closed:
                return True
            return self.state.save_draft(draft.key, draft.to_json())

    def discard(self, key: str, *, close: bool = True) -> None:
        with self._lock:
            if close:
                self._closed.add(key)
            self.state.discard_draft(key)

    def load(self) -> list[Draft]:
        drafts = [Draft.from_json(key, data) for key, data in self.state.load_drafts().items()]
        return sorted((d for d in drafts if d is not None), key=lambda d: (d.saved_at, d.key))


def store_for(app: Any) -> DraftStore:
    """The app's draft store (one per app), in its paths or those of ``TSSG_CRM_HOME``."""
    store = getattr(app, "_draft_store", None)
    if store is None:
        files = getattr(app, "app_files", None)  # the app's paths, as Settings uses them
        paths = files() if callable(files) else None
        store = DraftStore(paths if isinstance(paths, AppPaths) else app_paths())
        app._draft_store = store
    return cast(DraftStore, store)


# --------------------------------------------------------------------------- forms

FORMS: dict[str, type[DraftForm]] = {}  # DRAFT_KIND -> form class, filled by subclassing
# where each kind of form lives: a form's module is imported when a draft of it is offered
# (the app imports forms when they are first opened, not at start)
FORM_MODULES = {
    "client": "tui.screens.client_form",
    "invoice": "tui.screens.invoice_form",
    "job": "tui.screens.job_form",
    "proposal": "tui.screens.proposal_editor",
    "task": "tui.screens.task_dialogs",
    "visit_log": "tui.screens.visit_dialogs",
}


def form_class(kind: str) -> type[DraftForm] | None:
    """The form a draft of ``kind`` belongs to, its module imported if need be."""
    if kind not in FORMS and kind in FORM_MODULES:
        importlib.import_module(FORM_MODULES[kind])
    return FORMS.get(kind)


class DraftStatus(Label):
    """One line in a form: whether its unsaved changes are being kept."""

    DEFAULT_CSS = """
    DraftStatus {
        display: none;
        width: 1fr;
        color: $text-muted;
        text-align: right;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 1 1 0 0;
    }
    DraftStatus.-shown {
        display: block;
    }
    DraftStatus.-off {
        color: $text-warning;
    }
    """

    def __init__(self) -> None:
        super().__init__("", markup=False, id="draft-status")


@dataclass
class _DraftState:
    key: str | None = None
    record_id: int | None = None
    pending: Draft | None = None
    listening: bool = False
    written: bool = False
    finished: bool = False
    timer: Timer | None = None


class DraftForm:
    """Mixin for a form screen (put it before the screen class): autosaves a dirty form.

    The form provides ``is_dirty``, :meth:`draft_values` and :meth:`apply_draft`, calls
    :meth:`draft_ready` once loaded and :meth:`draft_finished` when saved or discarded, and
    may show :meth:`draft_status` somewhere. ``DRAFT_KIND`` names the form in the store,
    ``DRAFT_MODE`` the section it opens in, ``DRAFT_NOUN`` what it edits ("client").
    """

    DRAFT_KIND: ClassVar[str] = ""
    DRAFT_MODE: ClassVar[str] = ""
    DRAFT_NOUN: ClassVar[str] = ""

    app: Any
    is_dirty: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.DRAFT_KIND:
            FORMS[cls.DRAFT_KIND] = cls

    # ------------------------------------------------------------------ the form's part

    def draft_values(self) -> dict[str, Any]:
        """Everything the form holds, as JSON values."""
        raise NotImplementedError

    async def apply_draft(self, values: dict[str, Any]) -> None:
        """Put a draft's values back into the form's fields."""
        raise NotImplementedError

    def draft_label(self, values: dict[str, Any]) -> str:
        """A few words naming what the draft is about, for the restore offer."""
        return str(values.get("name") or values.get("title") or "")

    @classmethod
    def describe_draft(cls, draft: Draft) -> str | None:
        """The restore offer's words for ``draft`` when "New/Changes to <noun>" does not fit
        (None: those)."""
        return None

    @classmethod
    def for_draft(cls, draft: Draft) -> Screen[Any]:
        """The form to restore ``draft`` into (by default ``cls(record_id)``)."""
        return cast("Screen[Any]", cls(draft.record_id))  # type: ignore[call-arg]

    @classmethod
    def restored_form_closed(cls, app: Any, result: Any) -> None:
        """What follows when a restored form is dismissed with ``result`` (saved or not)."""

    # ------------------------------------------------------------------ what the mixin gives

    @property
    def _draft(self) -> _DraftState:
        state = self.__dict__.get("_draft_state")
        if state is None:
            state = self.__dict__["_draft_state"] = _DraftState()
        return cast(_DraftState, state)

    @property
    def draft_key(self) -> str | None:
        return self._draft.key

    def draft_status(self) -> DraftStatus:
        return DraftStatus()

    def restore_on_ready(self, draft: Draft) -> None:
        """Apply ``draft`` when the form says it is ready (its record loaded)."""
        self._draft.pending = draft

    async def draft_ready(self, record_id: int | None) -> None:
        """The form is filled in: apply a draft being restored and start autosaving."""
        state = self._draft
        state.record_id = record_id
        pending, state.pending = state.pending, None
        if pending is not None:
            state.key, state.written = pending.key, True
        elif record_id is not None:
            state.key = f"{self.DRAFT_KIND}:{record_id}"
        else:
            state.key = f"{self.DRAFT_KIND}:new:{uuid.uuid4().hex[:12]}"
        store = store_for(self.app)
        store.open(state.key)
        if pending is not None:
            await self.apply_draft(pending.values)
            self.app.notice(f"Restored your unsaved work: {pending.describe()}. "
                            "Save it, or escape to discard it.")
        state.listening = True
        self.app.run_worker(lambda: self._check_storage(store), thread=True,
                            group="drafts-check", exit_on_error=False)

    def draft_touched(self) -> None:
        """Something changed: write the draft after a moment of quiet."""
        state = self._draft
        if not state.listening or state.finished:
            return
        if state.timer is not None:
            state.timer.stop()
        state.timer = cast("Screen[Any]", self).set_timer(DRAFT_DEBOUNCE, self._autosave)

    def draft_finished(self) -> None:
        """Saved or discarded: stop autosaving and delete the draft."""
        state = self._draft
        state.listening, state.finished = False, True
        if state.timer is not None:
            state.timer.stop()
        key = state.key or (state.pending.key if state.pending else None)
        if key is None:
            return
        store = store_for(self.app)
        self.app.run_worker(lambda: store.discard(key), thread=True, group="drafts-write",
                            exit_on_error=False)

    def discard_draft_now(self) -> None:
        """Delete the draft before returning (the app is about to exit)."""
        state = self._draft
        state.listening, state.finished = False, True
        key = state.key or (state.pending.key if state.pending else None)
        if key is not None:
            store_for(self.app).discard(key)

    # ------------------------------------------------------------------ edits reach the screen

    def _on_input_changed(self) -> None:
        self.draft_touched()

    def _on_text_area_changed(self) -> None:
        self.draft_touched()

    def _on_select_changed(self) -> None:
        self.draft_touched()

    def _on_checkbox_changed(self) -> None:
        self.draft_touched()

    # ------------------------------------------------------------------ writing

    def _autosave(self) -> None:
        state = self._draft
        state.timer = None
        if not state.listening or state.key is None:
            return
        store = store_for(self.app)
        key = state.key
        if not self.is_dirty:
            if state.written:  # changed back by hand: nothing left worth keeping
                state.written = False
                self.app.run_worker(lambda: store.discard(key, close=False), thread=True,
                                    group="drafts-write", exit_on_error=False)
            return
        values = self.draft_values()
        draft = Draft(key, self.DRAFT_KIND, state.record_id, self.draft_label(values),
                      dt.datetime.now().isoformat(timespec="seconds"), values)
        state.written = True
        self.app.run_worker(lambda: self._write(store, draft), thread=True,
                            group="drafts-write", exit_on_error=False)

    def _write(self, store: DraftStore, draft: Draft) -> None:
        kept = store.save(draft)
        enabled = kept or store.enabled
        self.app.call_from_thread(self._show_kept, kept, enabled, draft.kept_at())

    def _check_storage(self, store: DraftStore) -> None:
        enabled = store.enabled
        if not enabled:
            self.app.call_from_thread(self._show_kept, False, False, "")

    def _show_kept(self, kept: bool, enabled: bool, at: str) -> None:
        try:
            status = cast("Screen[Any]", self).query_one(DraftStatus)
        except Exception:  # the form has no status line, or is gone
            return
        if not enabled:
            status.update(OFF_MESSAGE)
        elif not kept:
            status.update(TOO_BIG_MESSAGE)
        else:
            status.update(f"Unsaved changes kept as a draft ({at[-5:]})")
        status.set_class(not kept, "-off")
        status.add_class("-shown")


# --------------------------------------------------------------------------- restoring


class RestoreDraftScreen(CrmModal[str]):
    """Restore, discard or keep for later one draft; dismisses with which."""

    CSS_PATH = "screens/dialogs.tcss"
    HELP_TITLE = "Unsaved work"
    BINDINGS = [
        Binding("r", "answer('restore')", "Restore", id="drafts.restore"),
        Binding("d", "answer('discard')", "Discard", id="drafts.discard"),
        Binding("escape,l", "answer('later')", "Later", id="drafts.later"),
    ]

    def __init__(self, draft: Draft, position: int, count: int) -> None:
        super().__init__(classes="dialog-screen")
        self.draft, self.position, self.count = draft, position, count

    def compose(self) -> ComposeResult:
        of = f" ({self.position} of {self.count})" if self.count > 1 else ""
        with Vertical(classes="dialog"):
            yield Label(f"Unsaved work from last time{of}", markup=False, classes="dialog-title")
            yield Label(
                f"{self.draft.describe()}, kept {self.draft.kept_at()}, was never saved. "
                "Restore it into its form?",
                markup=False,
                classes="dialog-question",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Discard (d)", id="discard", compact=True)
                yield Button("Later (l)", id="later", compact=True)
                yield Button("Restore (r)", id="restore", variant="primary", compact=True)
            yield Label("Later keeps the draft and asks again next time.", markup=False,
                        classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#restore", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "later")

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)


def offer_drafts(app: CrmApp) -> None:
    """At start: read the drafts in a worker, then ask about each one in turn."""
    store = store_for(app)

    def load() -> None:
        drafts = [d for d in store.load() if form_class(d.kind) is not None]
        if drafts:
            app.call_from_thread(_ask, app, store, drafts, [], len(drafts))

    app.run_worker(load, thread=True, group="drafts-offer", exit_on_error=False)


def _ask(app: CrmApp, store: DraftStore, drafts: list[Draft], restore: list[Draft],
         total: int) -> None:
    """Ask about ``drafts[0]``, then the rest; open the ones to restore at the end."""
    if not drafts:
        for draft in restore:
            open_draft(app, draft)
        return
    draft, rest = drafts[0], drafts[1:]

    def answered(answer: str | None) -> None:
        if answer == "restore":
            restore.append(draft)
        elif answer == "discard":
            app.run_worker(lambda: store.discard(draft.key), thread=True, group="drafts-write",
                           exit_on_error=False)
        _ask(app, store, rest, restore, total)

    app.push_screen(RestoreDraftScreen(draft, total - len(rest), total), answered)


def open_draft(app: CrmApp, draft: Draft) -> None:
    """Open the form a draft belongs to, in its section, with the draft in it."""
    form_type = form_class(draft.kind)
    if form_type is None:
        return
    if form_type.DRAFT_MODE and app.current_mode != form_type.DRAFT_MODE:
        app.switch_mode(form_type.DRAFT_MODE)
    form = form_type.for_draft(draft)
    cast(DraftForm, form).restore_on_ready(draft)
    app.push_screen(form, partial(form_type.restored_form_closed, app))


def discard_drafts_of(forms: Iterable[object]) -> None:
    """The user chose to lose these forms' changes (quit anyway): delete their drafts."""
    for form in forms:
        discard: Callable[[], None] | None = getattr(form, "discard_draft_now", None)
        if discard is not None:
            discard()
