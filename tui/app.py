"""The Textual application: sections, global keys, the keymap, theme, logging and start-up.

:func:`run_app` is what ``tssg-crm`` (no arguments) runs: it opens the runtime (config and
the migrated database), logs to ``paths.log_file`` ("started in N ms", tracebacks) and runs
:class:`CrmApp`. Each section is a Textual mode with its own screen stack, so switching
section with ``1``-``7`` never throws away an open form; quitting asks first when a form
has unsaved changes. Every binding has an id (``clients.new``) that the config's
``[keymap]`` table can remap; unknown ids are reported in a notice rather than ignored.
The theme comes from ``TEXTUAL_THEME``, then ``[ui] theme``; ``TEXTUAL_COLOR_SYSTEM`` and
``TEXTUAL_ANIMATIONS`` are honoured by Textual itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from config import AppConfig, AppPaths, app_paths
from core import business
from core.db import Database
from core.errors import DomainError
from tui import START_TIME_NS
from tui.background import BackgroundChecks, IntegrationPoll, LicenseView
from tui.cli import __version__
from tui.drafts import discard_drafts_of, offer_drafts
from tui.palette import ActionCommands, RecordCommands
from tui.render import error_text
from tui.screens.assistant import AssistantScreen
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.client_form import ClientFormScreen
from tui.screens.clients import ClientListScreen
from tui.screens.coming_soon import ComingSoonScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.help import HelpScreen
from tui.screens.import_clients import ImportClientsScreen
from tui.screens.invoice_detail import InvoiceDetailScreen
from tui.screens.invoices import InvoiceListScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.jobs import JobListScreen
from tui.screens.proposal_editor import ProposalEditorScreen
from tui.screens.proposals import ProposalListScreen
from tui.screens.query_bar import QueryBarScreen
from tui.screens.reports import ReportsScreen
from tui.screens.schedule import ScheduleScreen
from tui.screens.settings import SettingsScreen
from tui.screens.tasks import TaskListScreen
from tui.widgets.section_bar import SECTIONS
from tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from textual.binding import BindingType

logger = logging.getLogger("tssg_crm.tui")


def _coming_soon(mode: str, title: str) -> Callable[[], Screen[Any]]:
    return lambda: ComingSoonScreen(mode, title)


class CrmApp(App[int]):
    TITLE = "TSSG CRM Pro"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {RecordCommands, ActionCommands}
    MODES = {
        "clients": ClientListScreen,
        "reports": ReportsScreen,
        "proposals": ProposalListScreen,
        "jobs": JobListScreen,
        "invoices": InvoiceListScreen,
        "tasks": TaskListScreen,
        "schedule": ScheduleScreen,
        **{mode: _coming_soon(mode, title) for mode, title, _key in SECTIONS
           if mode not in ("clients", "reports", "proposals", "jobs", "invoices", "tasks",
                           "schedule")},
    }
    DEFAULT_MODE = "clients"
    BINDINGS: list[BindingType] = [
        *(
            Binding(key, f"section('{mode}')", title, id=f"app.section.{mode}", show=False)
            for mode, title, key in SECTIONS
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("t", "quick_task", "New task", id="app.quick_task", show=False),
        Binding("f3", "query_bar", "Query data", id="app.query", show=False),
        Binding("f4", "assistant", "Assistant", id="app.assistant", show=False),
        Binding("ctrl+p", "command_palette", "Commands", id="app.command_palette",
                show=False, priority=True),
        Binding("f2", "settings", "Settings", id="app.settings", show=False),
    ]

    business_name: reactive[str] = reactive("")

    def __init__(
        self,
        db: Database,
        *,
        config: AppConfig | None = None,
        log_file: Path | None = None,
        today: dt.date | None = None,
        paths: AppPaths | None = None,
        background: bool = False,
    ) -> None:
        super().__init__()
        self.db = db
        self.config = config or AppConfig()
        self.log_file = log_file
        self._today = today
        self.data_version = 0  # bumped by every save; screens reload when it moved
        self.open_forms: set[Any] = set()
        self.keymap_overrides = dict(self.config.keymap)
        self.set_keymap(self.keymap_overrides)
        self.paths = paths  # None: config.app_paths() (TSSG_CRM_HOME), see app_files()
        # license/update checks and analytics batches (tui/background.py); run_app turns
        # them on, tests that are not about them leave them off
        self.background: BackgroundChecks | None = None
        self.integration_poll: IntegrationPoll | None = None
        if background:
            self.background = BackgroundChecks(self, self.app_files(), self.config,
                                               self.app_version)
            self.integration_poll = IntegrationPoll(self, self.app_files(), self.config,
                                                    self.background.view,
                                                    self.background.publish)

    @property
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def key_for(self, binding_id: str, default: str) -> str:
        """The key shown for a binding, after the user's keymap."""
        keys = self.keymap_overrides.get(binding_id, default)
        return keys.split(",")[0].strip()

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        wanted = os.environ.get("TEXTUAL_THEME") or self.config.ui.theme
        # the names people try for the terminal's own colours (over SSH, 16-colour terminals)
        wanted = {"ansi": "ansi-dark", "textual-ansi": "ansi-dark"}.get(wanted, wanted)
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notice(f"Unknown theme '{wanted}'; using {self.theme}.", severity="warning")
        # binding_ids() imports every screen module: only worth it when there is a keymap
        unknown = sorted(set(self.keymap_overrides) - binding_ids()) if self.keymap_overrides \
            else []
        if unknown:
            self.notice(
                f"The keymap names bindings that do not exist: {', '.join(unknown)}. "
                "Press ? on a screen to see its keys.",
                severity="warning",
            )
        self._start_background()

    def on_ready(self) -> None:
        elapsed_ms = (time.perf_counter_ns() - START_TIME_NS) // 1_000_000
        logger.info("started in %d ms", elapsed_ms)
        self._check_setup()

    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def _check_setup(self) -> None:
        name = business.load(self.db, "business")["name"]
        self.call_from_thread(self._setup_checked, name)

    def _setup_checked(self, name: str) -> None:
        self.business_name = name
        if not name:
            self.push_screen(FirstRunScreen())
        else:
            offer_drafts(self)  # unsaved forms from last time (tui/drafts.py)

    # ------------------------------------------------------------------ errors and notices

    def notice(self, message: str, *, severity: str = "information", title: str = "") -> None:
        """A notification whose text is never parsed as markup (it may quote user data)."""
        self.notify(message, title=title, severity=severity, markup=False)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.report_worker_error(event.worker)

    def report_worker_error(self, worker: Worker[Any]) -> None:
        error = worker.error
        if isinstance(error, DomainError):
            self.notice(error_text(error), severity="error")
            return
        if error is not None:
            logger.error("background task %r failed", worker.name,
                         exc_info=(type(error), error, error.__traceback__))
        where = f" Details are in {self.log_file}." if self.log_file else ""
        self.notice(
            f"Something went wrong ({type(error).__name__}).{where}",
            severity="error",
            title="Error",
        )

    def _handle_exception(self, error: Exception) -> None:
        # Textual's crash path (pinned textual==8.2.8): keep the traceback in the log file.
        logger.error("the app stopped on an error", exc_info=(type(error), error, error.__traceback__))
        super()._handle_exception(error)

    # ------------------------------------------------------------------ navigation

    def action_section(self, mode: str) -> None:
        if mode != self.current_mode:
            self.switch_mode(mode)

    def open_client(self, client_id: int) -> None:
        if self.current_mode != "clients":
            self.switch_mode("clients")
        self.push_screen(ClientDetailScreen(client_id))

    def new_client(self) -> None:
        def saved(client_id: int | None) -> None:
            if client_id is not None:
                self.push_screen(ClientDetailScreen(client_id))

        self.push_screen(ClientFormScreen(None), saved)

    def edit_client(self, client_id: int) -> None:
        self.push_screen(ClientFormScreen(client_id))

    def note_data_changed(self) -> None:
        self.data_version += 1

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        rows = self.binding_rows(screen) + self.binding_rows(self)
        title = getattr(screen, "HELP_TITLE", "") or "This screen"
        self.push_screen(HelpScreen(title, rows))

    def hint_rows(self, screen: Screen[Any]) -> list[tuple[str, str]]:
        """The keys worth a place in the bottom line: the screen's, then help, quit, palette."""
        rows = [(keys.split(" / ")[0], what) for keys, what in self.binding_rows(screen, True)]
        for keys, what in self.binding_rows(self, True):
            first, *others = keys.split(" / ")
            # where a text field may hold the focus, "?" is typed, not help: show F1
            if what == "Help" and getattr(screen, "TEXT_ENTRY", False) and others:
                first = others[0]
            rows.append((first, what))
        rows.append((self.key_for("app.command_palette", "ctrl+p").replace("ctrl+", "^"),
                     "Commands"))
        return rows

    def binding_rows(self, node: Any, shown_only: bool = False) -> list[tuple[str, str]]:
        """(keys, what it does) for a screen's or the app's own bindings, after the keymap."""
        rows = []
        for binding in node.BINDINGS:
            if not isinstance(binding, Binding) or not binding.id or not binding.description:
                continue
            if shown_only and not binding.show:
                continue
            if node is not self and node.check_action(binding.action, ()) is not True:
                continue  # e.g. "Restore" on a client that is not archived
            keys = self.keymap_overrides.get(binding.id, binding.key)
            shown = [self.get_key_display(Binding(k.strip(), "")) for k in keys.split(",")]
            rows.append((" / ".join(shown), binding.description))
        return rows

    async def action_quit(self) -> None:
        dirty = [form for form in self.open_forms if form.is_dirty]
        if not dirty:
            self.exit(0)
            return

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                discard_drafts_of(dirty)  # "lose them": no draft offered next time
                self.exit(0)

        self.push_screen(
            ConfirmScreen("A form has unsaved changes. Quit and lose them?", yes="Quit",
                          no="Keep editing"),
            answered,
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # sections and "New ..." come from tui.palette.ActionCommands (only what exists)
        yield SystemCommand("Keys for this screen", "What each key does here", self.action_help)
        yield SystemCommand("Settings", "Business, tax rates, numbering, keys, privacy, license",
                            self.action_settings)
        yield SystemCommand("Import clients", "From a CSV file (FreshBooks, Wave, Zoho, ...)",
                            self.import_clients)
        yield SystemCommand("Query data", "Run a structured query (JSON) and see the rows",
                            self.action_query_bar)
        yield SystemCommand("Ask the assistant", "Questions in plain words (Sovereign, AI consent)",
                            self.action_assistant)
        yield from super().get_system_commands(screen)

    def open_proposal(self, proposal_id: int) -> None:
        """Show a proposal in the Proposals section (from a task, the palette, ...)."""
        if self.current_mode != "proposals":
            self.switch_mode("proposals")
        self.push_screen(ProposalEditorScreen(proposal_id))

    def open_job(self, job_id: int) -> None:
        """Show a job's page in the Jobs section (after converting a proposal, say)."""
        if self.current_mode != "jobs":
            self.switch_mode("jobs")
        self.push_screen(JobDetailScreen(job_id))

    def open_invoice(self, invoice_id: int) -> None:
        """Show an invoice in the Invoices section (after invoicing a job, say)."""
        if self.current_mode != "invoices":
            self.switch_mode("invoices")
        self.push_screen(InvoiceDetailScreen(invoice_id))

    def open_schedule(self, day: dt.date, visit_id: int | None = None) -> None:
        """Show the week of ``day`` in the Schedule section, on the visit when given."""
        if self.current_mode == "schedule" and isinstance(self.screen, ScheduleScreen):
            self.screen.go_to(day, visit_id)
            return
        self.schedule_target = (day, visit_id)  # taken by the schedule screen when it shows
        self.switch_mode("schedule")

    def action_quick_task(self) -> None:
        """``t`` anywhere: a new task, linked to the record the screen shows (if any)."""
        from tui.screens.task_dialogs import quick_task_dialog

        self.push_screen(quick_task_dialog(self.screen, self.today))

    # ------------------------------------------------------------------ settings, license (issue 4)

    app_version = __version__

    def app_files(self) -> AppPaths:
        """Where config, secrets, license and privacy files live for this app."""
        return self.paths or app_paths()

    def action_settings(self, section: str = "business") -> None:
        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen(section))

    def import_clients(self) -> None:
        self.push_screen(ImportClientsScreen())

    def _start_background(self) -> None:
        if self.background is None:
            return
        self.background.listeners.append(self._show_license_view)
        self.screen_change_signal.subscribe(self, self._add_status_line)
        self._add_status_line(self.screen)
        self.background.start()
        if self.integration_poll is not None:
            self.integration_poll.start()

    def _add_status_line(self, screen: Screen[Any]) -> None:
        """Every full screen gets the one-line license status (dialogs do not)."""
        from textual.screen import ModalScreen

        if self.background is None or isinstance(screen, ModalScreen):
            return
        lines = list(screen.query(StatusLine))
        if not lines:
            lines = [StatusLine()]
            screen.mount(lines[0])
        for line in lines:  # a screen of another section may have missed an update
            self.call_after_refresh(line.show, self.background.view)

    def _show_license_view(self, view: LicenseView) -> None:
        for screen in self.screen_stack:
            for line in screen.query(StatusLine):
                line.show(view)

    def action_query_bar(self) -> None:
        """F3: the query bar (structured queries, no AI), over the current screen."""
        if not isinstance(self.screen, QueryBarScreen):
            self.push_screen(QueryBarScreen())

    def action_assistant(self) -> None:
        """F4: the AI assistant; it says why when the tier or consent keeps it off."""
        if not isinstance(self.screen, AssistantScreen):
            self.push_screen(AssistantScreen())


def _subclasses(cls: type[Any]) -> Iterator[type[Any]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def binding_ids() -> set[str]:
    """Every binding id the keymap may name: the app's and those of every screen, dialog and
    widget of ours (every module of tui.screens and tui.widgets is imported first, so a
    dialog no section imports at start still counts)."""
    import importlib
    import pkgutil

    import tui.screens
    import tui.widgets

    for package in (tui.screens, tui.widgets):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    classes: list[type[Any]] = [CrmApp] + [
        cls for cls in _subclasses(Widget) if cls.__module__.startswith("tui.")]
    return {b.id for cls in classes for b in cls.BINDINGS if isinstance(b, Binding) and b.id}


def start_logging(path: Path) -> logging.Handler:
    """Send the app's log (``tssg_crm.*``) to ``path``, created private (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():  # tracebacks may quote client data: private from the start
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("tssg_crm")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    return handler


def run_app(db_arg: str | None = None, config_file: str | None = None) -> int:
    """Open the database named by the arguments/config and run the TUI; the exit code."""
    from sqlalchemy.exc import SQLAlchemyError

    from config.settings import ConfigError
    from core.runtime import open_runtime

    try:
        runtime = open_runtime(db_arg, config_file)
    except ConfigError as exc:
        print(f"tssg-crm: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"tssg-crm: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"tssg-crm: cannot open the database: {first_line}", file=sys.stderr)
        return 1
    handler = start_logging(runtime.paths.log_file)
    try:
        app = CrmApp(runtime.db, config=runtime.config, log_file=runtime.paths.log_file,
                     paths=runtime.paths, background=True)
        app.run()
        return app.return_code or 0
    finally:
        logging.getLogger("tssg_crm").removeHandler(handler)
        handler.close()
        runtime.close()
