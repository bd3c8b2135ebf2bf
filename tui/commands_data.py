"""Data-rights and license subcommands: ``export``, ``import clients|all`` and ``license``.

Decisions: ``export`` writes ``tssg-crm-export-YYYYMMDD-HHMMSS.zip`` (or ``...-client-ID...``)
in the current folder unless ``--out`` names a file or folder, and never replaces a file
without ``--force``. ``import`` always prints the preview first; ``--dry-run`` stops there,
``--yes`` skips the question (required when stdin is not a terminal). A file the import
refuses (malformed CSV, a row with an error) exits 2 with the reason on stderr after the
preview. ``license`` (= ``license status``) reads local files only; ``license check`` asks the
license server now. No license state ever stops an export or import: they never look at it.
Values from the user's files are printed on one line each with control characters removed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from config import app_paths, load_config
from tui.cli import UsageError, command, one_line
from tui.commands import _confirmed, _display, _target


def _open(args: argparse.Namespace):
    from core.runtime import open_runtime

    target = _target(args)
    return target, open_runtime(target.url, args.config)


# --------------------------------------------------------------------------- export


def _export_destination(arg: str | None, client_id: int | None, force: bool) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"tssg-crm-export-{f'client-{client_id}-' if client_id else ''}{stamp}.zip"
    dest = Path(arg).expanduser().absolute() if arg else Path.cwd() / name
    if dest.is_dir():
        dest = dest / name
    if not dest.parent.is_dir():
        raise UsageError(f"{dest.parent}: no such directory")
    if dest.exists() and not force:
        raise UsageError(f"{dest} already exists; choose another name or pass --force")
    return dest


def _client_id(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a client number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a client number")
    return n


@command("export", "export every table (or one client) as JSON and CSV in one zip archive")
class Export:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--client", type=_client_id, metavar="ID",
                            help="export only this client's data (a data-access request)")
        parser.add_argument("--out", metavar="FILE",
                            help="the zip file to write, or a folder for it (default: here)")
        parser.add_argument("--force", action="store_true", help="replace FILE if it exists")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core import export
        from core.errors import NotFound

        dest = _export_destination(args.out, args.client, args.force)
        _target_, runtime = _open(args)
        try:
            if args.client:
                try:
                    summary = export.export_client(runtime.db, args.client, dest)
                except NotFound as exc:
                    raise UsageError(f"--client {args.client}: {exc}") from None
            else:
                summary = export.export_all(runtime.db, dest)
        finally:
            runtime.close()
        tables = sum(1 for n in summary.rows.values() if n)
        print(f"Exported {summary.total_rows:,} records from {tables} tables to {summary.path}")
        return 0


# --------------------------------------------------------------------------- import


def _print_plan(plan) -> None:
    from core.importing import FORMATS

    label = {"freshbooks": "FreshBooks", "wave": "Wave", "zoho": "Zoho Books",
             "invoicely": "Invoicely"}.get(plan.format, "any CSV")
    how = "recognised" if plan.format in FORMATS else "columns matched by name or --map"
    print(f"Format: {label} ({how}); {plan.rows_read} rows read.")
    print(f"To import: {len(plan.clients)} clients, {plan.contact_count} contacts, "
          f"{plan.address_count} addresses.")
    for client in plan.clients[:50]:
        extra = f" ({len(client.contacts)} contact{'s' * (len(client.contacts) != 1)}, " \
                f"{len(client.addresses)} address{'es' * (len(client.addresses) != 1)})"
        print(f"  line {client.line}: {one_line(client.client.name)}{extra}")
    if len(plan.clients) > 50:
        print(f"  ... and {len(plan.clients) - 50} more")
    sections = (("Errors (nothing is imported until they are fixed)", plan.errors),
                ("Skipped rows", plan.skipped), ("Duplicates", plan.duplicates),
                ("Warnings", plan.warnings))
    for title, notes in sections:
        if notes:
            print(f"{title}: {len(notes)}")
            for note in notes:
                print(f"  {one_line(note)}")
    if plan.columns_not_imported:
        print(f"Columns not imported: {len(plan.columns_not_imported)}")
        for col in plan.columns_not_imported:
            kind = "not used by this CRM" if col.known else "unknown column"
            print(f"  {one_line(col.column)}: {kind}, {col.values} rows with a value")


@command("import", "import clients from a CSV file (FreshBooks, Wave, Zoho, Invoicely, any "
                   "CSV) or a full export archive into an empty database")
class Import:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("what", choices=["clients", "all"],
                            help="clients: a CSV client list; all: a zip made by export")
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--format", default="auto",
                            choices=["auto", "freshbooks", "wave", "zoho", "invoicely",
                                     "generic"],
                            help="the tool the CSV comes from (default: recognise it)")
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                            help="map a CSV column to a field (name, company, first_name, "
                                 "last_name, email, phone, billing.street, custom:LABEL, "
                                 "ignore, ...); repeatable")
        parser.add_argument("--duplicates", choices=["skip", "import"], default="skip",
                            help="rows matching an existing client: skip (default) or import")
        parser.add_argument("--dry-run", action="store_true",
                            help="show what would be imported and stop")
        parser.add_argument("--yes", action="store_true",
                            help="do not ask (needed when stdin is not a terminal)")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        path = Path(args.file).expanduser()
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        if args.what == "all":
            return _import_all(args, path)
        from core import importing
        from core.errors import ValidationError

        try:
            mapping = importing.parse_mapping(args.map)
        except ValidationError as exc:
            raise UsageError(str(exc)) from None
        _target_, runtime = _open(args)
        try:
            try:
                plan = importing.plan_import(runtime.db, path, format=args.format,
                                             mapping=mapping, duplicates=args.duplicates)
            except importing.ImportRefused as exc:
                raise UsageError(f"{path.name}: {exc}; nothing was imported") from None
            _print_plan(plan)
            if plan.errors:
                sys.stdout.flush()
                raise UsageError(f"{path.name}: {len(plan.errors)} row(s) have errors (first: "
                                 f"{plan.errors[0]}); nothing was imported")
            if args.dry_run:
                print("Dry run: nothing was imported.")
                return 0
            if not plan.clients:
                print("Nothing to import.")
                return 0
            if not args.yes:
                if not sys.stdin.isatty():
                    raise UsageError("pass --yes to import (stdin is not a terminal, so there "
                                     "is no one to ask), or --dry-run to preview")
                if not _confirmed(f"Import {len(plan.clients)} clients?"):
                    print("Cancelled; nothing was imported.", file=sys.stderr)
                    return 1
            try:
                done = importing.run_import(runtime.db, path, format=args.format,
                                            mapping=mapping, duplicates=args.duplicates,
                                            source_name=path.name)
            except importing.ImportRefused as exc:
                raise UsageError(f"{path.name}: {exc}") from None
        finally:
            runtime.close()
        print(f"Imported {len(done.clients)} clients ({done.contact_count} contacts, "
              f"{done.address_count} addresses) from {path.name}.")
        return 0


def _import_all(args: argparse.Namespace, path: Path) -> int:
    from core import export
    from core.errors import ValidationError

    try:
        archive = export.read_archive(path)  # checksums verified before any question
    except ValidationError as exc:
        raise UsageError(exc.message) from None
    total = sum(archive.rows.values())
    print(f"Export made {archive.manifest.get('created_at', '?')}: {total:,} records in "
          f"{len(archive.rows)} tables; checksums verified.")
    if args.dry_run:
        print("Dry run: nothing was imported.")
        return 0
    target, runtime = _open(args)
    try:
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("pass --yes to restore (stdin is not a terminal, so there is "
                                 "no one to ask), or --dry-run to check the archive")
            if not _confirmed(f"Load every record into {_display(target.url)}?"):
                print("Cancelled; nothing was imported.", file=sys.stderr)
                return 1
        try:
            restored = export.restore_all(runtime.db, path)
        except ValidationError as exc:
            raise UsageError(exc.message) from None
    finally:
        runtime.close()
    print(f"Restored {sum(restored.values()):,} records into {_display(target.url)}.")
    return 0


# --------------------------------------------------------------------------- license


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _print_status(status, notices) -> None:
    print(f"Tier: {status.tier.capitalize()} ({status.state})")
    print(one_line(status.message))
    if status.license_id:
        print(f"License: {one_line(status.license_id)} ({(status.licensed_tier or '').capitalize()}"
              f"), issued {_when(status.issued_at)}, expires {_when(status.expires_at)}, "
              f"grace until {_when(status.grace_until)}")
    print(f"Instance id: {status.instance_id}")
    check = status.last_check
    if check:
        outcome = "ok" if check.get("ok") else "failed"
        print(f"Last check: {check.get('at')} to {one_line(check.get('url', ''))}: {outcome}"
              + (f" ({one_line(check.get('message', ''))})" if check.get("message") else ""))
        print("Sent: " + json.dumps(check.get("sent", {}), sort_keys=True, ensure_ascii=False))
    else:
        print("Last check: never")
    for notice in notices:
        print(f"Notice: {one_line(notice.title)}: {one_line(notice.text)}"
              + (f" {one_line(notice.url)}" if notice.url else ""))


@command("license", "show the license status, or check with the license server now")
class License:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", nargs="?", choices=["status", "check"], default="status",
                            help="status (default): what this copy runs at; check: ask now")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core import licensing
        from tui.cli import __version__

        paths = app_paths(args.config)
        paths.ensure()
        config = load_config(paths.config_file)
        if args.action == "check":
            from config.secrets import load_secrets
            from integrations import license_client

            result = license_client.check_now(paths, config, load_secrets(paths.secrets_file),
                                              app_version=__version__)
            print("Checked with the license server." if result.ok else
                  f"The check failed: {one_line(result.message)}")
            _print_status(result.status, licensing.pending_notices(paths, __version__))
            return 0 if result.ok else 1
        _print_status(licensing.status(paths, config), licensing.pending_notices(paths, __version__))
        return 0
