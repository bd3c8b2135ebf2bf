"""The ``tssg-crm`` command: no arguments opens the TUI; subcommands serve scripts and cron.

Exit codes: 0 success, 1 an operation failed, 2 bad input (one line on stderr saying why).
Heavy imports (Textual, Alembic, SDKs) happen inside the command that needs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from config.settings import ConfigError

__version__ = "0.1.0"


class UsageError(Exception):
    """Bad input from the command line: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        # argparse's own exit(2) prints usage over several lines; keep it to one line
        raise UsageError(message)


COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[..., int], str]] = {}


def command(name: str, help_text: str):
    """Register ``setup(parser)`` and ``run(args) -> exit code`` for a subcommand."""

    def wrap(cls):
        COMMANDS[name] = (cls.setup, cls.run, help_text)
        return cls

    return wrap


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tssg-crm", description="TSSG CRM Pro: a CRM for the terminal.")
    parser.add_argument("--version", action="version", version=f"tssg-crm {__version__}")
    parser.add_argument("--db", metavar="URL|PATH", help="database URL or SQLite file path")
    parser.add_argument("--config", metavar="FILE", help="config file (default: platform location)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    from tui import commands  # noqa: F401 - registers the subcommands

    for name, (setup, _run, help_text) in COMMANDS.items():
        setup(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not args.command:
            from tui.app import run_app

            return run_app(db_arg=args.db, config_file=args.config)
        _setup, run, _help = COMMANDS[args.command]
        return run(args)
    except UsageError as exc:
        print(f"tssg-crm: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"tssg-crm: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
