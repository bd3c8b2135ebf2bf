"""The ``tssg-crm`` command: no arguments opens the TUI; subcommands serve scripts and cron.

Exit codes: 0 success, 1 an operation failed, 2 bad input (one line on stderr saying why).
An unexpected failure prints one line naming the log file; the traceback goes to that file
(mode 0600) with every known secret and any URL password replaced by ``***``.
Heavy imports (Textual, Alembic, SDKs) happen inside the command that needs them.
``--db`` and ``--config`` are accepted before or after the subcommand name.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from config.settings import ConfigError
from core.errors import DomainError, ValidationError

if TYPE_CHECKING:
    import argparse

__version__ = "0.1.0"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)([^@\s]+)(@)")


class UsageError(Exception):
    """Bad input from the command line: exit code 2."""


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse, imported for subcommands and mistakes only (opening the TUI never needs it)."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str):  # type: ignore[override]
            # argparse's own exit(2) prints usage over several lines; keep it to one line
            m = re.match(r"argument command: invalid choice: (.+?) \(choose from (.*)\)$",
                         message)
            if m:
                names = m.group(2).replace("'", "")
                message = f"unknown command {m.group(1)} (commands: {names})"
            raise UsageError(message)

    return _Parser


COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[..., int], str]] = {}


def command(name: str, help_text: str):
    """Register ``setup(parser)`` and ``run(args) -> exit code`` for a subcommand."""

    def wrap(cls):
        COMMANDS[name] = (cls.setup, cls.run, help_text)
        return cls

    return wrap


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--db", metavar="URL|PATH", default=default,
                        help="database URL (postgresql://...) or SQLite file path")
    parser.add_argument("--config", metavar="FILE", default=default,
                        help="config file (default: platform location or TSSG_CRM_CONFIG)")


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser_class = _parser_class()
    parser = parser_class(prog="tssg-crm", description="TSSG CRM Pro: a CRM for the terminal.")
    parser.add_argument("--version", action="version", version=f"tssg-crm {__version__}")
    _add_global_options(parser, None)
    sub = parser.add_subparsers(dest="command", parser_class=parser_class)
    from tui import commands  # noqa: F401 - registers the subcommands

    for name, (setup, _run, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        # SUPPRESS: a value given after the command name wins, none given keeps the global one
        _add_global_options(sub_parser, argparse.SUPPRESS)
        setup(sub_parser)
    return parser


def _tui_arguments(argv: Sequence[str]) -> Any:
    """The arguments when they only open the TUI (``--db``/``--config``, each at most once,
    no subcommand), read without argparse and without registering every subcommand (40 ms
    of a start); None for anything else, which the full parser then reads (subcommands,
    --help, --version, abbreviations, mistakes)."""
    values: dict[str, str] = {}
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        name, has_value, value = arg.partition("=")
        if name not in ("--db", "--config") or name in values:
            return None
        if not has_value:
            if not rest or rest[0].startswith("-"):  # argparse says what is missing
                return None
            value = rest.pop(0)
        values[name] = value
    return SimpleNamespace(command=None, db=values.get("--db"), config=values.get("--config"))


def one_line(message: object) -> str:
    """A message fit for one terminal line: no control characters, no line breaks."""
    return " ".join(_CONTROL.sub(" ", str(message)).split())


def database_url_arg(value: str, where: str, *, plain_path: bool = False) -> str:
    """Validate a ``--db`` value (or the config's ``database.url``) into a SQLAlchemy URL.

    ``where`` names the source in the message. The value is never echoed back whole: it may
    hold a password. With ``plain_path`` a file path comes back as an absolute path rather
    than a URL, checked without importing SQLAlchemy (the TUI's quick start needs that).
    """
    if not value.strip():
        raise UsageError(f"{where}: is empty; give a SQLite file path or a postgresql:// URL")
    if "://" in value:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        from core.db import normalise_url

        try:
            url = make_url(value)
        except ArgumentError:
            raise UsageError(
                f"{where}: not a database URL; give a SQLite file path, sqlite:///PATH "
                "or postgresql://USER@HOST/DATABASE"
            ) from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres"):
            if url.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
                raise UsageError(f"{where}: use postgresql:// (driver psycopg), "
                                 f"not {url.drivername}://")
            if not url.database:
                raise UsageError(f"{where}: the URL names no database (postgresql://HOST/DATABASE)")
            import importlib.util

            if importlib.util.find_spec("psycopg") is None:
                raise UsageError(f"{where}: PostgreSQL support is not installed; "
                                 "run: pip install 'tssg-crm[postgres]'")
            return normalise_url(value)
        if backend != "sqlite":
            raise UsageError(f"{where}: {backend} is not supported; use a SQLite file path "
                             "or postgresql://")
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise UsageError(f"{where}: name a database file (sqlite:///PATH); an in-memory "
                             "database would lose everything on exit")
        path = Path(url.database).expanduser()
    else:
        path = Path(value).expanduser()
    if path.is_dir():
        raise UsageError(f"{where}: {path} is a directory; name the database file in it")
    if path.exists() and path.stat().st_size > 0:
        from core.first_look import is_sqlite_file

        if not is_sqlite_file(path):
            raise UsageError(f"{where}: {path} is not a SQLite database")
    if plain_path and "://" not in value:
        return str(path.resolve())
    from core.db import normalise_url

    return normalise_url(str(path))


def _check_global_options(args: argparse.Namespace) -> None:
    if args.config is not None:
        config = Path(args.config).expanduser()
        if not config.exists():
            raise UsageError(f"--config {config}: no such file")
        if config.is_dir():
            raise UsageError(f"--config {config}: is a directory, not a config file")
    elif os.environ.get("TSSG_CRM_CONFIG"):
        config = Path(os.environ["TSSG_CRM_CONFIG"]).expanduser()
        if config.is_dir():
            raise UsageError(f"TSSG_CRM_CONFIG={config}: is a directory, not a config file")
    if args.db is not None:
        args.db = database_url_arg(args.db, "--db", plain_path=not args.command)


def _known_secrets(config_file: str | None) -> list[str]:
    values: list[str] = []
    try:
        from config.paths import app_paths
        from config.secrets import SECRET_ENV, load_secrets

        values += [os.environ[v] for v in SECRET_ENV.values() if os.environ.get(v)]
        values += [s.get() for s in load_secrets(app_paths(config_file).secrets_file).values.values()]
    except Exception:  # the log is written even when the secrets file is the problem
        pass
    return [v for v in values if len(v) >= 4]


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every secret value and any password inside a URL with ``***``."""
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "***")
    return _URL_PASSWORD.sub(r"\1***\3", text)


def _log_failure(exc: BaseException, argv: Sequence[str], config_file: str | None) -> Path | None:
    """Append the traceback to the log file (mode 0600); returns it, or None if impossible."""
    try:
        from config.paths import app_paths

        log_file = app_paths(config_file).log_file
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        secrets = _known_secrets(config_file)
        body = "".join(traceback.format_exception(exc))
        entry = (
            f"--- {dt.datetime.now().isoformat(timespec='seconds')} tssg-crm {__version__} "
            f"{' '.join(argv)}\n{body}"
        )
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="replace") as fh:
            fh.write(redact(entry, secrets))
        return log_file
    except Exception:
        return None


def _fail(message: object, code: int) -> int:
    print(f"tssg-crm: {one_line(message)}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    config_file: str | None = None
    try:
        args = _tui_arguments(argv) or build_parser().parse_args(argv)
        config_file = args.config
        _check_global_options(args)
        if not args.command:
            from tui.app import run_app

            return run_app(db_arg=args.db, config_file=args.config)
        _setup, run, _help = COMMANDS[args.command]
        return run(args)
    except SystemExit as exc:  # --version and --help print, then exit 0
        return exc.code if isinstance(exc.code, int) else 0
    except (UsageError, ConfigError, ValidationError) as exc:
        return _fail(exc, 2)
    except DomainError as exc:  # a rule said no, or an operation could not finish: its reason
        return _fail(exc, 1)
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a file or directory the system refused: say which
        log_file = _log_failure(exc, argv, config_file)
        what = f"{exc.strerror or type(exc).__name__}: {exc.filename}" if exc.filename else (
            exc.strerror or type(exc).__name__)
        return _fail(f"{what}" + (f"; the details are in {log_file}" if log_file else ""), 1)
    except Exception as exc:
        log_file = _log_failure(exc, argv, config_file)
        where = f"the details are in {log_file}" if log_file else "no log file could be written"
        reason = _database_unavailable(exc)
        if reason:
            return _fail(f"cannot use the database: {redact(reason, _known_secrets(config_file))}"
                         f"; {where}", 1)
        return _fail(f"unexpected error ({type(exc).__name__}); {where}", 1)


def _database_unavailable(exc: Exception) -> str | None:
    """The driver's own first line for "server down", "database is locked" and the like.

    Only the driver's message (``exc.orig``), never SQLAlchemy's, which appends the SQL and
    its parameters: business data.
    """
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError) or exc.orig is None:
        return None
    lines = str(exc.orig).strip().splitlines()
    return one_line(lines[0]) if lines else None


if __name__ == "__main__":  # pragma: no cover
    # Run through the importable module: as __main__ this file would be a second copy whose
    # COMMANDS registry the subcommand modules never see.
    from tui.cli import main as _main

    sys.exit(_main())
