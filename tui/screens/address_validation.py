"""USPS address validation on screen: "Validate" for one stored address (from the client form)
and "Validate all unvalidated" in bulk (``v`` on the Clients list, and the command palette).

:class:`AddressValidationDialog` asks USPS in a thread worker
(:func:`integrations.usps.validate_address`) and shows, side by side, what was typed and USPS's
standardised form with the ZIP+4, the delivery-point (DPV) confirmation in words, and a ``≠``
on each line USPS would change. ``a`` stores USPS's form, ``k`` keeps what was typed; both
mark the address validated today (:func:`core.addresses_validation.accept` / ``keep``).
Escape leaves the address as it was. Errors (locked tier, not set up, not found, USPS down)
are said in plain words and nothing is written.

:class:`BulkRun` runs :func:`integrations.usps.validate_unvalidated` one address at a time in
a worker owned by the Clients list, so the dialog can show progress and the person can hide
it (escape) or stop the run (``s``) while the rest of the app stays usable. A 429 is waited
out as USPS's ``Retry-After`` says (at most :data:`integrations.http.MAX_RETRY_AFTER` s a
time); when the hourly quota is spent the run stops, and the next run goes on where it
stopped.

Decisions where the brief is silent:

* USPS checks the *stored* address (the core works on saved ids), so the form refuses to
  validate an address block that is new or has unsaved edits, and says to save first; the
  rest of the form may have unsaved changes, which validation leaves alone.
* ``a`` and ``k`` are offered only when USPS confirms the address as deliverable (DPV ``Y``):
  an address missing its unit, or one USPS cannot place, is explained and not marked
  validated; the person corrects it on the form and validates again.
* A bulk run checks at most :data:`BULK_LIMIT` addresses (USPS's default quota is 60 lookups
  an hour). Answers that confirm the address as typed are stored at once; the others are
  listed as "needs a look", and enter opens each one in the dialog above (no second lookup).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from core import addresses_validation as av
from core import licensing, tiers
from core.address_status import AddressStatus, address_statuses
from core.addresses_validation import Comparison
from core.errors import DomainError
from tui import render
from tui.screens.base import CrmModal
from tui.screens.sms_dialog import app_secrets, problem_text

if TYPE_CHECKING:
    from integrations.usps import UspsClient
    from tui.app import CrmApp

FEATURE = "integrations.usps"
BULK_LIMIT = 50  # lookups in one bulk run: within USPS's default 60 an hour
PROBLEMS_SHOWN = 2  # lines of "could not be checked" in the dialog (it fits 80x24)

#: How the USPS client waits before a retry (``Retry-After`` on a 429, backoff on a 5xx).
#: A seam: tests put a recorder here so nothing really waits.
usps_sleep: Callable[[float], None] = time.sleep

DPV_BRIEF = {"D": "unit missing", "S": "unit not confirmed", "N": "not deliverable"}
DPV_SHORT = {
    "Y": "confirmed (Y)",
    "D": "apartment, suite or unit missing (D)",
    "S": "apartment, suite or unit not confirmed (S)",
    "N": "not deliverable (N)",
}
ROWS = (  # (label, difference name in core, typed field, standardised field)
    ("Street", "street", "line1"),
    ("Line 2", "line 2", "line2"),
    ("City", "city", "city"),
    ("State", "state", "region"),
    ("ZIP+4", "ZIP", "postal_code"),
)


def usps_client(app: Any, sleep: Callable[[float], None] | None = None) -> UspsClient:
    """The USPS client from the app's config and secrets (raises if it is not set up)."""
    from integrations.usps import UspsClient

    return UspsClient.from_config(app.config, app_secrets(app),
                                  sleep=sleep or (lambda seconds: usps_sleep(seconds)))


def plain_problem(text: str) -> str:
    """A core/integration message as a sentence: "Address #3: USPS: found no such address"
    becomes "USPS found no such address"."""
    text = re.sub(r"^Address #\d+: ", "", render.one_line(text))
    return re.sub(r"^(USPS): ", r"\1 ", text)


def validated_on(at: dt.datetime | None) -> str:
    """The stored (naive UTC) validation time as the person's local date."""
    return at.replace(tzinfo=dt.UTC).astimezone().date().isoformat() if at else ""


def _first_sentence(text: str) -> str:
    """"12 Elm St, Springfield: USPS found no such address." without the advice after it
    (the one-address dialog gives that in full)."""
    head, sep, _rest = text.partition(". ")
    return head + "." if sep else text


def describe_place(row: Any) -> str:
    """"12 Elm St, Springfield" for a list line."""
    return ", ".join(p for p in (render.one_line(row.line1), render.one_line(row.city)) if p)


# --------------------------------------------------------------------------- one address


class AddressValidationDialog(CrmModal[AddressStatus | None]):
    """Dismisses with the stored address (validated) after ``a`` or ``k``; with None when
    closed without a change. Give it an ``address_id`` to ask USPS, or a ``comparison`` a bulk
    run already has."""

    CSS_PATH = ["dialogs.tcss", "address_validation.tcss"]
    BINDINGS = [
        Binding("a", "accept", "Accept USPS's form", id="address_validation.accept"),
        Binding("k", "keep", "Keep mine", id="address_validation.keep"),
        Binding("escape", "close", "Close", id="address_validation.close"),
    ]

    def __init__(self, address_id: int | None = None, *,
                 comparison: Comparison | None = None) -> None:
        super().__init__(classes="dialog-screen")
        if address_id is None and comparison is None:
            raise ValueError("an address id or a comparison is needed")
        self.address_id = comparison.address_id if comparison else address_id
        self.comparison = comparison
        self.problem: str | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog av-dialog"):
            yield Label("Validate address with USPS", classes="dialog-title")
            yield Static("Asking USPS…", id="av-status")
            with Grid(id="av-table"):
                yield Static("", classes="av-cell av-field")
                yield Static("You typed", classes="av-cell av-head")
                yield Static("USPS", classes="av-cell av-head")
                for label, _diff, field in ROWS:
                    yield Static(label, classes="av-cell av-field", id=f"av-label-{field}")
                    yield Static("", classes="av-cell", id=f"av-typed-{field}")
                    yield Static("", classes="av-cell", id=f"av-usps-{field}")
            yield Static(id="av-dpv")
            yield Static(id="av-words")
            yield Static(id="av-problem")
            yield Static(id="av-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        for widget_id in ("#av-table", "#av-dpv", "#av-words", "#av-problem"):
            self.query_one(widget_id).display = False
        self._hint()
        if self.comparison is not None:
            self._show(self.comparison)
        else:
            self._lookup()

    # ------------------------------------------------------------------ asking USPS

    @work(thread=True, exclusive=True, group="address-validation", exit_on_error=False)
    def _lookup(self) -> None:
        from config.settings import ConfigError
        from integrations.http import IntegrationError
        from integrations.usps import validate_address

        assert self.address_id is not None
        tier = licensing.effective_tier(self.crm.app_files(), self.crm.config)
        locked = tiers.lock_reason(tier, FEATURE)
        if locked:
            self.app.call_from_thread(self._problem, locked)
            return
        try:
            usps = usps_client(self.app, sleep=self._wait)
            try:
                comparison = validate_address(self.db, usps, tier, self.address_id)
            finally:
                usps.close()
        except (DomainError, IntegrationError, ConfigError) as exc:
            self.app.call_from_thread(self._problem, problem_text(exc))
            return
        self.app.call_from_thread(self._show, comparison)

    def _wait(self, seconds: float) -> None:
        """In the worker: say why nothing happens for a while, then wait as USPS asked."""
        self.app.call_from_thread(self._say, f"USPS asked us to slow down; asking again in "
                                  f"{seconds:g} s…")
        usps_sleep(seconds)

    def _say(self, text: str) -> None:
        if self.is_attached:  # not closed meanwhile
            self.query_one("#av-status", Static).update(text)

    def _show(self, cmp: Comparison) -> None:
        if not self.is_attached:  # closed while USPS was asked
            return
        self.comparison = cmp
        status = self.query_one("#av-status", Static)
        changes = ", ".join(cmp.differences)
        if not cmp.result.confirmed:
            status.update(Content("USPS could not confirm this address"
                                  + (f"; it would also change: {changes} (marked ≠)."
                                     if changes else ".")))
        elif cmp.same:
            status.update("USPS writes this address the same way (ZIP+4 added).")
        else:
            status.update(Content(f"USPS would change: {changes} (marked ≠)."))
        for label, diff, field in ROWS:
            differs = diff in cmp.differences
            typed = getattr(cmp.typed, field)
            usps = getattr(cmp.standardised, field)
            self.query_one(f"#av-label-{field}", Static).update(
                Content(f"{label} ≠" if differs else label))
            for prefix, value in (("typed", typed), ("usps", usps)):
                cell = self.query_one(f"#av-{prefix}-{field}", Static)
                cell.update(render.content(value) if value else Content("—"))
                cell.set_class(differs, "-differs")
        self.query_one("#av-table").display = True
        result = cmp.result
        dpv = self.query_one("#av-dpv", Static)
        dpv.update(Content.assemble(("Delivery point (DPV): ", "bold"),
                                    DPV_SHORT.get(result.dpv, "not given")))
        dpv.set_class(not result.confirmed, "-warning")
        dpv.display = True
        words = self.query_one("#av-words", Static)
        words.update(render.paragraph("\n".join(cmp.sentences)))
        words.display = bool(cmp.sentences)
        self._hint()

    def _problem(self, text: str) -> None:
        if not self.is_attached:  # closed while USPS was asked
            return
        self.problem = text
        self.query_one("#av-status", Static).display = False
        self.query_one("#av-table").display = False
        problem = self.query_one("#av-problem", Static)
        problem.update(render.paragraph(text))
        problem.display = True
        self._hint()
        self.notice(render.one_line(text), severity="warning", title="Address not validated")

    def _hint(self) -> None:
        key = self.crm.key_for
        accept = key("address_validation.accept", "a")
        keep = key("address_validation.keep", "k")
        close = key("address_validation.close", "escape")
        cmp = self.comparison
        if cmp is not None and self._choice_refused() is None:
            parts: list[str | tuple[str, str]] = [
                (accept, "bold"), " stores USPS's form  ·  ", (keep, "bold"),
                " keeps yours  ·  ", (close, "bold"),
                " changes nothing\nEither choice marks the address validated today."]
        elif cmp is not None:
            parts = [(close, "bold"), " closes. Correct the address on the client form, "
                     "save, and validate again."]
        elif self.problem is not None:
            parts = [(close, "bold"), " closes; nothing was changed."]
        else:
            parts = [(close, "bold"), " closes"]
        self.query_one("#av-hint", Static).update(Content.assemble(*parts))

    # ------------------------------------------------------------------ choices

    def _choice_refused(self) -> str | None:
        """Why ``a``/``k`` cannot be used now, or None."""
        cmp = self.comparison
        if self._busy:
            return "Saving…"
        if cmp is None:
            return self.problem or "USPS has not answered yet."
        if not cmp.result.confirmed or not cmp.result.street:
            return ("USPS did not confirm this address as deliverable, so it cannot be marked "
                    "validated. Correct it on the client form and validate again.")
        return None

    def action_accept(self) -> None:
        self._choose("accept")

    def action_keep(self) -> None:
        self._choose("keep")

    def _choose(self, choice: str) -> None:
        refused = self._choice_refused()
        if refused is not None:
            if not self._busy:
                self.notice(refused, severity="warning")
            return
        self._busy = True
        assert self.comparison is not None
        self._store(choice, self.comparison)

    @work(thread=True, exclusive=True, group="address-validation-store", exit_on_error=False)
    def _store(self, choice: str, cmp: Comparison) -> None:
        try:
            (av.accept if choice == "accept" else av.keep)(self.db, cmp)
            status = address_statuses(self.db, [cmp.address_id]).get(cmp.address_id)
        except DomainError as exc:
            self.app.call_from_thread(self._store_failed, render.error_text(exc))
            return
        self.app.call_from_thread(self._stored, choice, status)

    def _store_failed(self, text: str) -> None:
        self._busy = False
        self.comparison = None
        self._problem(text)

    def _stored(self, choice: str, status: AddressStatus | None) -> None:
        self._busy = False
        self.crm.note_data_changed()
        place = describe_place(status.row) if status else "the address"
        if choice == "accept":
            self.notice(f"Stored USPS's form of {place} and marked it validated.")
        else:
            self.notice(f"Kept {place} as typed and marked it validated.")
        self.dismiss(status)

    def action_close(self) -> None:
        if not self._busy:
            self.dismiss(None)


# --------------------------------------------------------------------------- all of them


class BulkRun:
    """One "Validate all unvalidated" run: what was checked so far, and how it ended.

    :meth:`run` goes in a thread worker; listeners (the dialog) are called on the UI thread
    after each address."""

    def __init__(self, *, start_after: int = 0, limit: int = BULK_LIMIT) -> None:
        self.start_after = start_after
        self.limit = limit
        self.total = 0
        self.checked = 0
        self.validated: list[str] = []  # "12 ELM ST, SPRINGFIELD"
        self.to_review: list[Comparison] = []
        self.problems: list[str] = []
        self.stopped: str | None = None  # quota spent, USPS down, not set up
        self.locked: str | None = None
        self.waiting: float | None = None  # seconds USPS asked us to wait, while waiting
        self.stop_requested = False
        self.running = True
        self.next_after = 0  # where the next run starts (0: from the first address)
        self._listeners: list[Callable[[], None]] = []
        self._app: Any = None

    # ------------------------------------------------------------------ listening

    def listen(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def unlisten(self, callback: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def _changed(self) -> None:
        """From the worker: tell the listeners on the UI thread."""
        with contextlib.suppress(RuntimeError):  # the app is closing
            self._app.call_from_thread(self._notify)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    def _wait(self, seconds: float) -> None:
        self.waiting = seconds
        self._changed()
        try:
            usps_sleep(seconds)
        finally:
            self.waiting = None

    # ------------------------------------------------------------------ the run

    def run(self, app: CrmApp) -> None:
        """Check the unvalidated US addresses one by one (in a thread worker)."""
        from config.settings import ConfigError
        from integrations.http import IntegrationError
        from integrations.usps import validate_unvalidated

        self._app = app
        db = app.db
        after = self.start_after
        try:
            tier = licensing.effective_tier(app.app_files(), app.config)
            self.locked = tiers.lock_reason(tier, FEATURE)
            if self.locked:
                return
            ids = av.unvalidated(db, limit=self.limit, after_id=after)
            if not ids and after:  # the last run reached the end: start again from the top
                after = self.start_after = 0
                ids = av.unvalidated(db, limit=self.limit)
            self.total = len(ids)
            if not ids:
                return
            usps = usps_client(app, sleep=self._wait)
            try:
                while self.checked < self.total and not self.stop_requested:
                    report = validate_unvalidated(db, usps, tier, limit=1, after_id=after)
                    if report.stopped:
                        self.stopped = plain_problem(report.stopped)
                        break
                    if report.last_id == after:
                        break  # none left (validated elsewhere meanwhile)
                    self.checked += 1
                    self.validated += report.accepted
                    self.to_review += report.to_review
                    if report.problems:
                        place = address_statuses(db, [report.last_id]).get(report.last_id)
                        where = f"{describe_place(place.row)}: " if place else ""
                        self.problems += [where + plain_problem(p) for p in report.problems]
                    after = report.last_id
                    if report.accepted:
                        app.call_from_thread(app.note_data_changed)
                    self._changed()
            finally:
                usps.close()
        except (DomainError, IntegrationError, ConfigError) as exc:
            self.stopped = plain_problem(problem_text(exc))
        finally:
            ended_early = bool(self.stopped or self.stop_requested or
                               (self.total and self.checked >= self.limit))
            self.next_after = after if ended_early else 0
            self.running = False
            self._changed()
            self._finished_notice()

    def _finished_notice(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._app.call_from_thread(
                self._app.notice, self.summary(),
                severity="warning" if self.stopped or self.locked else "information",
                title="USPS address check")

    # ------------------------------------------------------------------ in words

    def progress(self) -> str:
        if self.locked:
            return self.locked
        if self.running:
            if not self.total:
                return "Looking for unvalidated addresses…"
            if self.waiting is not None:
                return (f"USPS asked us to slow down; waiting {self.waiting:g} s before going "
                        f"on ({self.checked} of {self.total} checked).")
            if self.stop_requested:
                return f"Stopping after this address ({self.checked} of {self.total} checked)…"
            return f"Checking {self.checked + 1} of {self.total} with USPS…"
        return self.summary()

    def summary(self) -> str:
        if self.locked:
            return self.locked
        if not self.total and not self.stopped:
            return "Every US address is validated already; nothing to check."
        counts = [f"{len(self.validated)} validated"]
        if self.to_review:
            counts.append(f"{len(self.to_review)} need"
                          f"{'s' if len(self.to_review) == 1 else ''} a look")
        if self.problems:
            counts.append(f"{len(self.problems)} could not be checked")
        done = f"Checked {self.checked} of {self.total}: " + ", ".join(counts) + "."
        if self.stopped:
            return (f"Stopped after {self.checked} of {self.total}: {self.stopped} "
                    f"{', '.join(counts).capitalize()}. Run it again later; it goes on where "
                    "it stopped.")
        if self.stop_requested:
            return f"Stopped as asked. {done}"
        if self.next_after:
            return f"{done} More are waiting: run it again in an hour (USPS's quota)."
        return done


class BulkValidationDialog(CrmModal[None]):
    """Progress and summary of a :class:`BulkRun`; enter opens an address that needs a look.

    Escape hides the dialog; the run goes on and a notice says how it ended."""

    CSS_PATH = ["dialogs.tcss", "address_validation.tcss"]
    BINDINGS = [
        Binding("s", "stop", "Stop", id="usps_bulk.stop"),
        Binding("escape", "close", "Close", id="usps_bulk.close"),
    ]

    def __init__(self, run: BulkRun) -> None:
        super().__init__(classes="dialog-screen")
        self.bulk = run

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog av-dialog"):
            yield Label("Validate all unvalidated addresses", classes="dialog-title")
            yield Static(id="bulk-progress")
            yield Label("Needs a look", id="bulk-review-title", classes="av-section")
            yield OptionList(id="bulk-review", compact=True)
            yield Label("Could not be checked", id="bulk-problems-title", classes="av-section")
            yield Static(id="bulk-problems")
            yield Static(id="bulk-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.bulk.listen(self._refresh)
        self._refresh()

    def on_unmount(self) -> None:
        self.bulk.unlisten(self._refresh)

    def _refresh(self) -> None:
        run = self.bulk
        self.query_one("#bulk-progress", Static).update(render.paragraph(run.progress()))
        review = self.query_one("#bulk-review", OptionList)
        highlighted = review.highlighted
        review.clear_options()
        review.add_options([Option(self._review_line(c)) for c in run.to_review])
        if run.to_review:
            review.highlighted = min(highlighted or 0, len(run.to_review) - 1)
        for widget_id in ("#bulk-review-title", "#bulk-review"):
            self.query_one(widget_id).display = bool(run.to_review)
        problems = self.query_one("#bulk-problems", Static)
        shown = [_first_sentence(p) for p in run.problems[:PROBLEMS_SHOWN]]
        if len(run.problems) > PROBLEMS_SHOWN:
            shown = [*shown, f"…and {len(run.problems) - PROBLEMS_SHOWN} more."]
        problems.update(render.paragraph("\n".join(shown)))
        for widget_id in ("#bulk-problems-title", "#bulk-problems"):
            self.query_one(widget_id).display = bool(run.problems)
        if run.to_review and self.focused is None:
            review.focus()
        self._hint()

    @staticmethod
    def _review_line(cmp: Comparison) -> Content:
        typed, std = cmp.typed, cmp.standardised
        if cmp.result.confirmed:
            what = "changes " + ", ".join(cmp.differences)
        else:
            what = DPV_BRIEF.get(cmp.result.dpv, "not confirmed")
        return Content.assemble(render.one_line(f"{typed.line1}, {typed.city}"),
                                (" → ", "dim"), render.one_line(std.line1), (f"  ({what})", "dim"))

    def _hint(self) -> None:
        key = self.crm.key_for
        stop, close = key("usps_bulk.stop", "s"), key("usps_bulk.close", "escape")
        parts: list[str | tuple[str, str]] = []
        if self.bulk.to_review:
            parts += [("enter", "bold"), " opens the highlighted address  ·  "]
        if self.bulk.running:
            parts += [(stop, "bold"), " stops  ·  ", (close, "bold"),
                      " hides this (the check goes on)"]
        else:
            parts += [(close, "bold"), " closes"]
        self.query_one("#bulk-hint", Static).update(Content.assemble(*parts))

    @on(OptionList.OptionSelected, "#bulk-review")
    def _open(self, event: OptionList.OptionSelected) -> None:
        index = event.option_index
        if not 0 <= index < len(self.bulk.to_review):
            return
        cmp = self.bulk.to_review[index]

        def done(status: AddressStatus | None) -> None:
            if status is None:
                return
            if cmp in self.bulk.to_review:
                self.bulk.to_review.remove(cmp)
            self.bulk.validated.append(describe_place(status.row))
            self._refresh()

        self.app.push_screen(AddressValidationDialog(comparison=cmp), done)

    def action_stop(self) -> None:
        if self.bulk.running and not self.bulk.stop_requested:
            self.bulk.stop_requested = True
            self._refresh()

    def action_close(self) -> None:
        self.dismiss(None)


async def validate_all_addresses(app: Any) -> None:
    """The palette's "Validate all unvalidated addresses": ``v`` on the Clients list."""
    if app.current_mode != "clients":
        await app.switch_mode("clients")
    for screen in reversed(app.screen_stack):
        action = getattr(screen, "action_validate_addresses", None)
        if callable(action):
            action()
            return
