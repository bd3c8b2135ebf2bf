"""First run: name the business, or fill the database with demo data to look around.

Shown over the client list while :func:`core.business.is_set_up` is false. It cannot be
skipped (invoices need a business name); ``ctrl+q`` still quits. If the demo data leaves
the business unnamed, it is called "Demo business" so this screen does not come back.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label
from textual.worker import Worker, WorkerState

from core import business
from core.errors import DomainError
from tui.render import error_text
from tui.screens.base import CrmModal

DEMO_FALLBACK_NAME = "Demo business"


class FirstRunScreen(CrmModal[bool]):
    """Dismisses with True once the business has a name."""

    CSS_PATH = "dialogs.tcss"
    HELP_TITLE = "Welcome"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="first_run.save"),
        Binding("ctrl+l", "demo", "Load demo data", id="first_run.demo"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog first-run"):
            yield Label("Welcome to TSSG CRM Pro", markup=False, classes="dialog-title")
            yield Label(
                "What is your business called? It appears on proposals and invoices.",
                markup=False,
                classes="dialog-question",
            )
            yield Input(placeholder="Business name", id="business-name", compact=True)
            yield Label("", markup=False, id="business-name-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"Load demo data ({self.crm.key_for('first_run.demo', 'ctrl+l')})",
                    id="demo",
                    compact=True,
                )
                yield Button("Save (enter)", id="save", variant="primary", compact=True)
            yield Label(
                "Demo data fills this database with a sample business to explore.",
                markup=False,
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#business-name", Input).focus()

    @on(Input.Submitted, "#business-name")
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._save(self.query_one("#business-name", Input).value)

    @on(Button.Pressed, "#demo")
    def action_demo(self) -> None:
        if self._busy:
            return
        self._busy = True
        self.query_one(".first-run").loading = True
        self._load_demo()

    @on(Input.Changed, "#business-name")
    def _clear_error(self) -> None:
        self._show_error("")

    def _show_error(self, message: str) -> None:
        error = self.query_one("#business-name-error", Label)
        error.update(message)
        error.display = bool(message)
        self.query_one("#business-name", Input).set_class(bool(message), "-error")

    @work(thread=True, exclusive=True, group="first-run", exit_on_error=False)
    def _save(self, name: str) -> None:
        try:
            saved = business.update(self.db, "business", {"name": name})
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._done, saved["name"], f"Welcome, {saved['name']}.")

    @work(thread=True, exclusive=True, group="first-run", exit_on_error=False)
    def _load_demo(self) -> None:
        try:
            from core.demo import seed_demo
        except ImportError:
            self.app.call_from_thread(
                self._failed, DomainError("Demo data is not available in this version.")
            )
            return
        seed_demo(self.db, today=self.crm.today)
        if not business.is_set_up(self.db):
            business.update(self.db, "business", {"name": DEMO_FALLBACK_NAME})
        name = business.load(self.db, "business")["name"]
        self.app.call_from_thread(self._done, name, "Demo data loaded.")

    def _failed(self, error: DomainError) -> None:
        self._ready_again()
        self._show_error(error_text(error))
        self.notice(error_text(error), severity="error")

    def _ready_again(self) -> None:
        self._busy = False
        self.query_one(".first-run").loading = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._ready_again()
        super().on_worker_state_changed(event)

    def _done(self, name: str, message: str) -> None:
        self.crm.business_name = name
        self.crm.note_data_changed()
        self.notice(message)
        self.dismiss(True)
