"""The ``tssg-crm`` subcommands (registered with :func:`tui.cli.command`): demo, backup,
restore and doctor. Each gathers its input, calls the core and prints the outcome.

Decisions: ``backup FILE`` refuses to overwrite an existing file unless ``--force`` and never
writes over the database itself; a directory as FILE gets a timestamped name inside it.
``restore`` asks for confirmation on a terminal (anything but "y"/"yes" cancels, exit 1).
``doctor --rebuild-search`` repairs the search index before checking. Output that names the
database shows a file path or a URL without its password.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from config import AppPaths, app_paths, load_config
from tui.cli import UsageError, command, database_url_arg, one_line

DEMO_MAX_CLIENTS = 1_000_000


@dataclass(frozen=True)
class _Target:
    paths: AppPaths
    url: str  # normalised SQLAlchemy URL

    @property
    def sqlite_path(self) -> Path | None:
        from core.db import sqlite_path

        return sqlite_path(self.url)


def _target(args: argparse.Namespace) -> _Target:
    """Resolve the database the way every command does: --db, config, default file."""
    from core.db import normalise_url

    paths = app_paths(args.config)
    config = load_config(paths.config_file)
    if args.db:
        url = args.db  # validated by tui.cli.main
    elif config.database.url:
        url = database_url_arg(config.database.url, f"{paths.config_file}: database.url")
    else:
        url = normalise_url(str(paths.database_file))
    return _Target(paths=paths, url=url)


def _display(url: str) -> str:
    from core.doctor import display_url

    return display_url(url)


# --------------------------------------------------------------------------- demo


def _client_count(value: str) -> int:
    try:
        n = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if not 1 <= n <= DEMO_MAX_CLIENTS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {DEMO_MAX_CLIENTS:,}, not {n:,}")
    return n


@command("demo", "fill the database with a realistic sample business")
class Demo:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--clients", type=_client_count, default=40, metavar="N",
                            help="how many clients to create (1 to 1,000,000; default 40)")
        parser.add_argument("--force", action="store_true",
                            help="add the demo business even if the database has clients")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        import importlib.util

        from sqlalchemy import func, select

        from core.errors import DomainError
        from core.models import Client
        from core.runtime import open_runtime

        target = _target(args)
        runtime = open_runtime(target.url, args.config)
        try:
            with runtime.db.read() as s:
                existing = s.scalar(select(func.count()).select_from(Client)) or 0
            if existing and not args.force:
                raise UsageError(
                    f"{_display(target.url)} already has {existing:,} "
                    f"client{'' if existing == 1 else 's'}; the demo business would mix with "
                    "real records. Pass --force to add it anyway, or use --db NEW.sqlite3"
                )
            if importlib.util.find_spec("core.demo") is None:
                raise DomainError("demo data is not part of this build")
            from core.demo import seed_demo  # lazily: the generator is large

            seed_demo(runtime.db, clients=args.clients)
        finally:
            runtime.close()
        print(f"Added a demo business with {args.clients:,} clients to {_display(target.url)}")
        return 0


# --------------------------------------------------------------------------- backup


def _backup_destination(arg: str | None, backup_dir: Path, db_path: Path, force: bool) -> Path:
    from core.backup import default_backup_name

    if arg is None:
        return default_backup_name(backup_dir)
    dest = Path(arg).expanduser().absolute()
    if dest.is_dir():
        return default_backup_name(dest)
    if dest.exists() and dest.samefile(db_path):
        raise UsageError(f"{dest} is the database itself; choose another file")
    if not dest.parent.is_dir():
        raise UsageError(f"{dest.parent}: no such directory")
    if dest.exists() and not force:
        raise UsageError(f"{dest} already exists; choose another name or pass --force")
    return dest


@command("backup", "copy the SQLite database, consistently, to FILE or the backups folder")
class Backup:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", nargs="?", metavar="FILE",
                            help="where to write (a directory: a timestamped file in it; "
                                 "default: the backups folder)")
        parser.add_argument("--force", action="store_true", help="replace FILE if it exists")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core.backup import copy_sqlite_file

        target = _target(args)
        db_path = target.sqlite_path
        if db_path is None:
            raise UsageError(
                "backup copies the built-in SQLite database; this one is on PostgreSQL: "
                "use pg_dump (for example: pg_dump -Fc -f crm.dump DATABASE)"
            )
        if not db_path.exists() or db_path.stat().st_size == 0:
            raise UsageError(f"no database at {db_path}; nothing to back up")
        dest = _backup_destination(args.file, target.paths.backup_dir, db_path, args.force)
        copy_sqlite_file(db_path, dest)
        print(dest)
        return 0


# --------------------------------------------------------------------------- restore


def _confirmed(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


@command("restore", "replace the database with a backup (the current one is backed up first)")
class Restore:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE", help="a backup made by tssg-crm backup")
        parser.add_argument("--yes", action="store_true",
                            help="do not ask (needed when stdin is not a terminal)")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core.backup import restore_database, verify_backup

        target = _target(args)
        db_path = target.sqlite_path
        if db_path is None:
            raise UsageError(
                "restore replaces the built-in SQLite database; this one is on PostgreSQL: "
                "use pg_restore (for example: pg_restore --clean -d DATABASE crm.dump)"
            )
        source = Path(args.file).expanduser().absolute()
        verify_backup(source)  # before asking: a bad file is refused without a question
        if db_path.exists() and db_path.samefile(source):
            raise UsageError(f"{source} is the current database itself")
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("pass --yes to replace the current database "
                                 "(stdin is not a terminal, so there is no one to ask)")
            if not _confirmed(f"Replace {db_path} with {source}?"):
                print("Cancelled; nothing was changed.", file=sys.stderr)
                return 1
        result = restore_database(db_path, source, target.paths.backup_dir)
        if result.safety_backup is not None:
            print(f"Saved the current database to {result.safety_backup}")
        else:
            print("There was no current database to save.")
        migrated = (
            f", migrated from {result.restored_revision} to {result.revision}"
            if result.restored_revision != result.revision
            else ""
        )
        print(f"Restored {source} into {db_path}{migrated}")
        return 0


# --------------------------------------------------------------------------- doctor


@command("doctor", "check integrity, migrations, the search index, file permissions and config")
class Doctor:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rebuild-search", action="store_true",
                            help="refill the search index from the records first")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core import doctor

        if args.rebuild_search:
            from core.runtime import open_runtime

            runtime = open_runtime(_target(args).url, args.config)
            try:
                counts = doctor.rebuild_search_index(runtime.db)
            finally:
                runtime.close()
            print("Rebuilt the search index: "
                  + ", ".join(f"{kind} {n:,}" for kind, n in counts.items()))
        checks = doctor.run_checks(app_paths(args.config), args.db)
        width = max(len(c.name) for c in checks)
        for check in checks:
            print(f"{check.status:<4}  {check.name:<{width}}  {one_line(check.detail)}")
        return 1 if any(c.status == "FAIL" for c in checks) else 0


import tui.commands_ai  # noqa: E402,F401 - registers query and ask
import tui.commands_data  # noqa: E402,F401 - registers export, import and license
import tui.commands_integrations  # noqa: E402,F401 - registers sync and remind
