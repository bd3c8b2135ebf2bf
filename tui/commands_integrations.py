"""The ``sync`` and ``remind`` subcommands (for cron): check Stripe payment links and text
message statuses; text tomorrow's (or a given day's) visit reminders.

Both run at the license tier of this copy (Premium; reminders are automation). Output: what
happened on stdout; a failure on stderr as one line, exit 1. Bad input (a date that is not
one): exit 2. ``remind`` sends each visit's reminder at most once, however often it runs;
during quiet hours it sends nothing and exits 1 so cron reports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from tui.cli import UsageError, command, one_line


def _day(value: str, today: dt.date | None = None) -> dt.date:
    base = today or dt.date.today()
    word = value.strip().lower()
    if word == "today":
        return base
    if word == "tomorrow":
        return base + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(word)
    except ValueError:
        raise UsageError(f"--date {one_line(value)[:40]}: not a date; give today, tomorrow or "
                         "a date like 2026-03-31") from None


def _open(args: argparse.Namespace):  # -> (Runtime, tier)
    from core import licensing
    from core.runtime import open_runtime
    from tui.commands import _target

    runtime = open_runtime(_target(args).url, args.config)
    return runtime, licensing.effective_tier(runtime.paths, runtime.config)


def _err(message: object) -> None:
    print(f"tssg-crm: {one_line(message)}", file=sys.stderr)


@command("sync", "check Stripe payment links and text message delivery (for cron)")
class Sync:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--quiet", action="store_true",
                            help="print only changes and errors")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from integrations.sync import sync_all

        runtime, tier = _open(args)
        try:
            report = sync_all(runtime.db, runtime.config, runtime.secrets, tier)
        finally:
            runtime.close()
        for line in report.events + report.routine:
            print(one_line(line))
        if not args.quiet:
            for line in report.notes:
                print(one_line(line))
            if not report.events and not report.routine and report.ok:
                print("Nothing changed.")
        for line in report.errors:
            _err(line)
        return 0 if report.ok else 1


@command("remind", "text visit reminders for a day's visits (each visit once)")
class Remind:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--date", default="tomorrow", metavar="DAY",
                            help="today, tomorrow (default) or a date like 2026-03-31")
        parser.add_argument("--template", default="visit_reminder",
                            choices=("visit_reminder", "on_my_way"),
                            help="which message to send (default: visit_reminder)")
        parser.add_argument("--dry-run", action="store_true",
                            help="list who would get a reminder; send nothing")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from integrations.http import IntegrationError
        from integrations.sync import remind

        day = _day(args.date)
        runtime, tier = _open(args)
        try:
            report = remind(runtime.db, runtime.config, runtime.secrets, tier, day,
                            template=args.template, dry_run=args.dry_run)
        except IntegrationError as exc:
            _err(exc)
            return 1
        finally:
            runtime.close()
        when = day.isoformat()
        if args.dry_run:
            print(f"Would text {len(report.would_send)} reminder(s) for {when}:")
            for line in report.would_send:
                print(f"  {one_line(line)}")
        else:
            print(f"Sent {len(report.sent)} reminder(s) for {when}.")
            for line in report.sent:
                print(f"  {one_line(line)}")
        for line in report.skipped:
            print(f"  skipped {one_line(line)}")
        for line in report.failed:
            print(f"  not sent {one_line(line)}")
        if report.stopped:
            _err(report.stopped)
            return 1
        return 1 if report.failed else 0
