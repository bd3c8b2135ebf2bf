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
import gc
import importlib
import logging
import os
import sys
import threading
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
from core.errors import DomainError
from tui import START_TIME_NS
from tui.background import BackgroundChecks, IntegrationPoll, LicenseView
from tui.cli import __version__
from tui.render import error_text
from tui.screens.clients import ClientListScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.widgets.section_bar import SECTIONS
from tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from textual.binding import BindingType
    from textual.command import Provider

    from core.db import Database
    from core.first_look import FirstLook
    from core.runtime import Runtime

logger = logging.getLogger("tssg_crm.tui")

# on a quick start the client list starts the loader once its first page is drawn; this is
# when the app starts it anyway (say the first screen is a restored draft)
LOADER_FALLBACK_DELAY = 0.5


class RuntimeLoader:
    """Opens the runtime (config, SQLAlchemy, the database at head) in a thread, once.

    ``start`` is called when the first screen is on show; :meth:`runtime` waits for the
    result from any thread (a worker that needs the database before it is open) and raises
    what opening raised."""

    def __init__(self, open_runtime: Callable[[], Runtime]) -> None:
        self._open = open_runtime
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._started = False
        self._runtime: Runtime | None = None
        self.error: BaseException | None = None
        # called in the loader's thread when it is done, whoever started it
        self.when_done: Callable[[BaseException | None], None] | None = None

    @property
    def started(self) -> bool:
        return self._started

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def start(self) -> bool:
        """Start loading; False when it had already started."""
        with self._lock:
            if self._started:
                return False
            self._started = True
        threading.Thread(target=self._load, name="runtime-loader", daemon=True).start()
        return True

    def _load(self) -> None:
        try:
            self._runtime = self._open()
        except BaseException as exc:  # handed to whoever waits, and to run_app
            self.error = exc
        finally:
            self._done.set()
        if self.when_done is not None:
            self.when_done(self.error)

    def runtime(self) -> Runtime:
        self.start()
        self._done.wait()
        if self.error is not None:
            raise self.error
        assert self._runtime is not None
        return self._runtime

    def close(self) -> None:
        """At exit: wait for a load under way, then close what it opened."""
        if self._started:
            self._done.wait()
        if self._runtime is not None:
            self._runtime.close()


# Only the Clients list is imported at start (it is the first screen); every other section,
# page and dialog is imported when first opened, so the first frame never waits for them.
SECTION_SCREENS = {
    "reports": ("tui.screens.reports", "ReportsScreen"),
    "proposals": ("tui.screens.proposals", "ProposalListScreen"),
    "jobs": ("tui.screens.jobs", "JobListScreen"),
    "invoices": ("tui.screens.invoices", "InvoiceListScreen"),
    "tasks": ("tui.screens.tasks", "TaskListScreen"),
    "schedule": ("tui.screens.schedule", "ScheduleScreen"),
}


def screen_class(module: str, name: str) -> Any:
    """A class of ours from ``module``, imported on first use."""
    return getattr(importlib.import_module(module), name)


class LazySection:
    """A section's screen in ``MODES``: its module is imported when the section first shows
    (or when the palette asks what the screen can do, through :attr:`screen_class`)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    @property
    def screen_class(self) -> type[Screen[Any]]:
        return screen_class(self.module, self.name)  # type: ignore[no-any-return]

    def __call__(self) -> Screen[Any]:
        return self.screen_class()


def _coming_soon(mode: str, title: str) -> Callable[[], Screen[Any]]:
    return lambda: screen_class("tui.screens.coming_soon", "ComingSoonScreen")(mode, title)


def _section(mode: str) -> Callable[[], Screen[Any]]:
    if mode in SECTION_SCREENS:
        return LazySection(*SECTION_SCREENS[mode])
    title = next(title for key, title, _key in SECTIONS if key == mode)
    return _coming_soon(mode, title)


def _record_commands() -> type[Provider]:
    return screen_class("tui.palette", "RecordCommands")  # type: ignore[no-any-return]


def _action_commands() -> type[Provider]:
    return screen_class("tui.palette", "ActionCommands")  # type: ignore[no-any-return]


class CrmApp(App[int]):
    TITLE = "TSSG CRM Pro"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {_record_commands, _action_commands}
    MODES = {
        "clients": ClientListScreen,
        **{mode: _section(mode) for mode, _title, _key in SECTIONS if mode != "clients"},
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
        db: Database | None,
        *,
        config: AppConfig | None = None,
        log_file: Path | None = None,
        today: dt.date | None = None,
        paths: AppPaths | None = None,
        background: bool = False,
        loader: RuntimeLoader | None = None,
        first_look: FirstLook | None = None,
    ) -> None:
        super().__init__()
        if db is None and loader is None:
            raise ValueError("CrmApp needs a database or a loader that opens one")
        self._db = db
        # the quick start (run_app): the first screen from core.first_look, the database
        # (SQLAlchemy, models) opened by the loader once that screen is on show
        self.loader = loader
        if loader is not None:  # the background checks start once the database is open
            loader.when_done = self._runtime_loaded
        self.first_look = first_look  # taken by the client list
        self._first_business_name = first_look.business_name if first_look else None
        self._drafts_offered = False
        if first_look is not None:  # in the section bar from the first frame: no layout later
            self.set_reactive(CrmApp.business_name, first_look.business_name)
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
    def db(self) -> Database:
        """The database. On a quick start, a worker that asks before the loader is done
        waits for it (and starts it, if the first screen has not yet)."""
        if self._db is None:
            assert self.loader is not None
            self._db = self.loader.runtime().db
        return self._db

    @property
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def key_for(self, binding_id: str, default: str) -> str:
        """The key shown for a binding, after the user's keymap."""
        keys = self.keymap_overrides.get(binding_id, default)
        return keys.split(",")[0].strip()

    def shown_key(self, binding_id: str, default: str) -> str:
        """A binding's key as the key hints show it ("^s"), after the user's keymap."""
        return str(self.get_key_display(Binding(self.key_for(binding_id, default), "")))

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        wanted = os.environ.get("TEXTUAL_THEME") or self.config.ui.theme
        # the names people try for the terminal's own colours (over SSH, 16-colour terminals)
        wanted = {"ansi": "ansi-dark", "textual-ansi": "ansi-dark"}.get(wanted, wanted)
        if wanted == self.theme:
            pass  # setting it again would parse every stylesheet again
        elif wanted in self.available_themes:
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
        if self.background is not None:
            self.screen_change_signal.subscribe(self, self._refresh_status_line)
        if self.loader is None:
            self._start_background()
        else:  # in case the first screen is not the client list (it starts the loader)
            self.set_timer(LOADER_FALLBACK_DELAY, self.load_runtime)

    def on_ready(self) -> None:
        elapsed_ms = (time.perf_counter_ns() - START_TIME_NS) // 1_000_000
        logger.info("started in %d ms", elapsed_ms)
        # Textual drew the first frame while it held the output (App.run mounts in a batch),
        # so the terminal has only what changed since: draw all of it now, as Pilot.pause
        # does, rather than on the update timer's next tick or with whatever next needs a
        # layout (~10-20 ms later on a pty). Textual is pinned (8.2.8): a private method.
        self.screen.refresh()
        self.screen._on_timer_update()
        if self.loader is None:
            self._keep_for_good()
        if self._first_business_name is not None:
            self._setup_checked(self._first_business_name)
        else:
            self._check_setup()

    def load_runtime(self) -> None:
        """Quick start: open the database in a thread now that the first screen shows; the
        background checks start when it is open."""
        if self.loader is not None and self.loader.start():
            logger.info("first screen in %d ms",
                        (time.perf_counter_ns() - START_TIME_NS) // 1_000_000)

    def _runtime_loaded(self, error: BaseException | None) -> None:
        # called in the loader's thread
        try:
            self.call_from_thread(self._after_runtime_loaded, error)
        except RuntimeError:  # the app has already stopped
            pass

    def _after_runtime_loaded(self, error: BaseException | None) -> None:
        if error is not None:  # run_app prints why after the terminal is restored
            self.exit(return_code=1)
            return
        logger.info("database open in %d ms", (time.perf_counter_ns() - START_TIME_NS) // 1_000_000)
        self._keep_for_good()
        self._start_background()
        if self.business_name:
            self._offer_drafts()

    @staticmethod
    def _keep_for_good() -> None:
        """Everything made so far (modules, SQLAlchemy's mappers, the screens, the styles)
        lives as long as the app: out of the garbage collector's full passes, which then
        scan only what is new (70-85 ms each, a stutter while typing, became ~2 ms)."""
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()  # a process that goes on (the tests) collects this app's cycles

    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def _check_setup(self) -> None:
        from core import business

        name = business.load(self.db, "business")["name"]
        self.call_from_thread(self._setup_checked, name)

    def _setup_checked(self, name: str) -> None:
        self.business_name = name
        if not name:
            self.push_screen(screen_class("tui.screens.first_run", "FirstRunScreen")())
        elif self.loader is None or self.loader.done:
            self._offer_drafts()
        # else: on a quick start, once the database is open (_after_runtime_loaded): reading
        # the drafts is not worth holding the first frame for

    def _offer_drafts(self) -> None:
        if self._drafts_offered:
            return
        self._drafts_offered = True
        from tui.drafts import offer_drafts

        offer_drafts(self)  # unsaved forms from last time (tui/drafts.py)

    # ------------------------------------------------------------------ errors and notices

    def notice(self, message: str, *, severity: str = "information", title: str = "") -> None:
        """A notification whose text is never parsed as markup (it may quote user data)."""
        self.notify(message, title=title, severity=severity, markup=False)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.report_worker_error(event.worker)

    def report_worker_error(self, worker: Worker[Any]) -> None:
        self.report_error(worker.error, worker.name)

    def report_error(self, error: BaseException | None, task: str) -> None:
        """A background task failed: a domain refusal in its own words, else a notice that
        points to the log (where the traceback goes)."""
        if isinstance(error, DomainError):
            self.notice(error_text(error), severity="error")
            return
        if error is not None:
            logger.error("background task %r failed", task,
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
        self.push_screen(screen_class("tui.screens.client_detail", "ClientDetailScreen")(client_id))

    def new_client(self) -> None:
        def saved(client_id: int | None) -> None:
            if client_id is not None:
                self.push_screen(
                    screen_class("tui.screens.client_detail", "ClientDetailScreen")(client_id))

        self.push_screen(screen_class("tui.screens.client_form", "ClientFormScreen")(None), saved)

    def edit_client(self, client_id: int) -> None:
        self.push_screen(screen_class("tui.screens.client_form", "ClientFormScreen")(client_id))

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
                from tui.drafts import discard_drafts_of

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
        self.push_screen(
            screen_class("tui.screens.proposal_editor", "ProposalEditorScreen")(proposal_id))

    def open_job(self, job_id: int) -> None:
        """Show a job's page in the Jobs section (after converting a proposal, say)."""
        if self.current_mode != "jobs":
            self.switch_mode("jobs")
        self.push_screen(screen_class("tui.screens.job_detail", "JobDetailScreen")(job_id))

    def open_invoice(self, invoice_id: int) -> None:
        """Show an invoice in the Invoices section (after invoicing a job, say)."""
        if self.current_mode != "invoices":
            self.switch_mode("invoices")
        self.push_screen(
            screen_class("tui.screens.invoice_detail", "InvoiceDetailScreen")(invoice_id))

    def open_schedule(self, day: dt.date, visit_id: int | None = None) -> None:
        """Show the week of ``day`` in the Schedule section, on the visit when given."""
        if self.current_mode == "schedule" and \
                isinstance(self.screen, screen_class("tui.screens.schedule", "ScheduleScreen")):
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
        settings = screen_class("tui.screens.settings", "SettingsScreen")
        if not isinstance(self.screen, settings):
            self.push_screen(settings(section))

    def import_clients(self) -> None:
        self.push_screen(screen_class("tui.screens.import_clients", "ImportClientsScreen")())

    def _start_background(self) -> None:
        if self.background is None:
            return
        self.background.listeners.append(self._show_license_view)
        self.background.start()
        if self.integration_poll is not None:
            self.integration_poll.start()

    def add_status_line(self, screen: Screen[Any]) -> None:
        """Every full screen gets the one-line license status (dialogs do not); called when
        the screen is mounted."""
        if self.background is None or screen.query(StatusLine):
            return
        line = StatusLine()
        screen.mount(line)
        self.call_after_refresh(line.show, self.background.view)

    def _refresh_status_line(self, screen: Screen[Any]) -> None:
        # a screen of another section may have missed an update
        if self.background is not None:
            for line in screen.query(StatusLine):
                self.call_after_refresh(line.show, self.background.view)

    def _show_license_view(self, view: LicenseView) -> None:
        for screen in self.screen_stack:
            for line in screen.query(StatusLine):
                line.show(view)

    def action_query_bar(self) -> None:
        """F3: the query bar (structured queries, no AI), over the current screen."""
        query_bar = screen_class("tui.screens.query_bar", "QueryBarScreen")
        if not isinstance(self.screen, query_bar):
            self.push_screen(query_bar())

    def action_assistant(self) -> None:
        """F4: the AI assistant; it says why when the tier or consent keeps it off."""
        assistant = screen_class("tui.screens.assistant", "AssistantScreen")
        if not isinstance(self.screen, assistant):
            self.push_screen(assistant())


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
    """Open the database named by the arguments/config and run the TUI; the exit code.

    On the embedded SQLite file at the current schema (the usual case) the first screen is
    read with :mod:`core.first_look` and shown before SQLAlchemy is even imported; the
    database is opened in a thread behind it (:class:`RuntimeLoader`). Otherwise (a first
    start, a migration to run, PostgreSQL) the database is opened first, as before.
    """
    from config import load_config
    from config.settings import ConfigError
    from core.first_look import first_look
    from tui.screens.clients import first_page_size

    def open_it() -> Runtime:
        from core.runtime import open_runtime

        return open_runtime(db_arg, config_file)

    try:
        paths = app_paths(config_file)
        paths.ensure()
        config = load_config(paths.config_file)
    except ConfigError as exc:
        return _cannot_open(exc)
    loader = RuntimeLoader(open_it)
    look = first_look(db_arg or config.database.url or str(paths.database_file),
                      first_page_size())
    db = None
    if look is None:
        try:
            db = loader.runtime().db
        except Exception as exc:
            return _cannot_open(exc)
    handler = start_logging(paths.log_file)
    try:
        app = CrmApp(db, config=config, log_file=paths.log_file, paths=paths, background=True,
                     loader=loader if db is None else None, first_look=look)
        # what the imports made lives as long as the process: keep it out of the garbage
        # collector's full passes (one during the first frame cost tens of milliseconds)
        CrmApp._keep_for_good()
        app.run()
        if loader.error is not None:
            return _cannot_open(loader.error)
        return app.return_code or 0
    finally:
        logging.getLogger("tssg_crm").removeHandler(handler)
        handler.close()
        loader.close()


def _cannot_open(error: BaseException) -> int:
    """Say on stderr why the database could not be opened; the exit code (2: bad config)."""
    from sqlalchemy.exc import SQLAlchemyError

    from config.settings import ConfigError

    if isinstance(error, ConfigError):
        print(f"tssg-crm: {error}", file=sys.stderr)
        return 2
    if isinstance(error, DomainError):
        print(f"tssg-crm: {error}", file=sys.stderr)
        return 1
    if isinstance(error, SQLAlchemyError):
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"tssg-crm: cannot open the database: {first_line}", file=sys.stderr)
        return 1
    raise error
