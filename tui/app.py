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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from config import AppConfig
from core import business
from core.db import Database
from core.errors import DomainError
from tui import START_TIME_NS
from tui.palette import ClientCommands
from tui.render import error_text
from tui.screens.client_detail import ClientDetailScreen
from tui.screens.client_form import ClientFormScreen
from tui.screens.clients import ClientListScreen
from tui.screens.coming_soon import ComingSoonScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.help import HelpScreen
from tui.widgets.section_bar import SECTIONS

if TYPE_CHECKING:
    from textual.binding import BindingType

logger = logging.getLogger("tssg_crm.tui")


def _coming_soon(mode: str, title: str) -> Callable[[], Screen[Any]]:
    return lambda: ComingSoonScreen(mode, title)


class CrmApp(App[int]):
    TITLE = "TSSG CRM Pro"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ClientCommands}
    MODES = {
        "clients": ClientListScreen,
        **{mode: _coming_soon(mode, title) for mode, title, _key in SECTIONS if mode != "clients"},
    }
    DEFAULT_MODE = "clients"
    BINDINGS: list[BindingType] = [
        *(
            Binding(key, f"section('{mode}')", title, id=f"app.section.{mode}", show=False)
            for mode, title, key in SECTIONS
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+p", "command_palette", "Commands", id="app.command_palette",
                show=False, priority=True),
    ]

    business_name: reactive[str] = reactive("")

    def __init__(
        self,
        db: Database,
        *,
        config: AppConfig | None = None,
        log_file: Path | None = None,
        today: dt.date | None = None,
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
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notice(f"Unknown theme '{wanted}'; using {self.theme}.", severity="warning")
        unknown = sorted(set(self.keymap_overrides) - binding_ids())
        if unknown:
            self.notice(
                f"The keymap names bindings that do not exist: {', '.join(unknown)}. "
                "Press ? on a screen to see its keys.",
                severity="warning",
            )

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
                self.exit(0)

        self.push_screen(
            ConfirmScreen("A form has unsaved changes. Quit and lose them?", yes="Quit",
                          no="Keep editing"),
            answered,
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for mode, title, _key in SECTIONS:
            yield SystemCommand(f"Go to {title}", f"Open the {title} section",
                                lambda mode=mode: self.action_section(mode))
        yield SystemCommand("New client", "Add a client", self.new_client)
        yield SystemCommand("Keys for this screen", "What each key does here", self.action_help)
        yield from super().get_system_commands(screen)


def binding_ids() -> set[str]:
    """Every binding id the keymap may name."""
    classes: list[type[Any]] = [CrmApp, ClientListScreen, ClientDetailScreen, ClientFormScreen,
                                FirstRunScreen, ConfirmScreen, HelpScreen]
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
        app = CrmApp(runtime.db, config=runtime.config, log_file=runtime.paths.log_file)
        app.run()
        return app.return_code or 0
    finally:
        logging.getLogger("tssg_crm").removeHandler(handler)
        handler.close()
        runtime.close()
