"""The ``query`` and ``ask`` subcommands: structured queries without AI, and the assistant.

``query '<json>'`` (or ``query -`` to read stdin) prints the rows as a JSON array; a bad
query is exit 2 with one line saying what to fix, checked before the database is opened.
When more rows matched than the limit, a note goes to stderr. ``query --schema`` prints the
whitelist, exactly the text the AI model is told.

``ask "<question>"`` prints the assistant's answer. Actions it proposes are listed and not
carried out. With ``--execute`` each one is asked about at the keyboard ("y" does it,
anything else skips it); there is deliberately no way to skip that question, and
``--execute`` without a terminal on stdin is refused before anything is sent, since a
proposal may come from text planted in a client's record. Exit 1 when the assistant is off
(tier or consent; nothing is sent), when the provider fails, or when the model did not
finish within its rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys

from tui.cli import UsageError, command, one_line

_C1 = re.compile(r"[\x7f-\x9f]")


def _today(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--today {one_line(value)[:40]}: not a date like 2026-03-31") from None


def _json(value: object) -> str:
    """JSON for a terminal: control characters escaped (json leaves C1 and DEL as they are)."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _C1.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


@command("query", "run a structured query (JSON) read-only and print the rows as JSON")
class Query:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("query", nargs="?", metavar="JSON",
                            help="the query, e.g. '{\"entity\": \"invoices\", \"where\": [...]}' "
                                 "(- reads it from stdin)")
        parser.add_argument("--schema", action="store_true",
                            help="print the entities, fields and operators a query can use")
        parser.add_argument("--today", metavar="DATE",
                            help="the day relative dates count from (default: today)")

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core.query import parse_query, run_query, schema_text, validate_query
        from core.runtime import open_runtime
        from tui.commands import _target

        if args.schema:
            print(schema_text(), end="")
            return 0
        if not args.query:
            raise UsageError("give a query as JSON, e.g. tssg-crm query '{\"entity\": "
                             "\"invoices\"}' (or --schema to see what can be queried)")
        text = sys.stdin.read() if args.query == "-" else args.query
        query = validate_query(parse_query(text), today=_today(args.today) or dt.date.today())
        runtime = open_runtime(_target(args).url, args.config)
        try:
            result = run_query(runtime.db, query)
        finally:
            runtime.close()
        print(_json(result.rows))
        if result.truncated:
            print(f"tssg-crm: note: more rows matched than the limit of {query.limit}; raise "
                  "\"limit\" or narrow the query", file=sys.stderr)
        return 0


def _confirmed(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _sms_sender(runtime, tier: str):  # -> SmsSender
    from integrations.twilio_sms import TwilioGateway, send_draft

    gateway = TwilioGateway.from_config(runtime.config, runtime.secrets)
    return lambda draft: send_draft(runtime.db, gateway, tier, draft,
                                    actor="owner (proposed by the assistant)")


@command("ask", "ask the AI assistant about your business (Sovereign tier, AI consent on)")
class Ask:
    @staticmethod
    def setup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("question", nargs="+", help="the question, in your own words")
        parser.add_argument("--redact", action="store_true",
                            help="send names, emails, phones and addresses as tokens (Client-3)")
        parser.add_argument("--execute", action="store_true",
                            help="offer to carry out each proposed action, asking y/N for each")
        parser.add_argument("--show-queries", action="store_true",
                            help="list the queries the assistant ran (on stderr)")
        parser.add_argument("--today", metavar="DATE", help=argparse.SUPPRESS)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from core import licensing
        from core.errors import DomainError
        from core.runtime import open_runtime
        from integrations.ai.actions import execute_action
        from integrations.ai.assistant import Assistant, AssistantDisabled, disabled_reason
        from integrations.http import IntegrationError
        from tui.commands import _target

        question = " ".join(args.question).strip()
        if not question:
            raise UsageError("the question is empty")
        today = _today(args.today)
        if args.execute and not sys.stdin.isatty():
            raise UsageError("--execute asks you to confirm each action at the keyboard; stdin "
                             "is not a terminal, so nothing was sent")
        runtime = open_runtime(_target(args).url, args.config)
        try:
            tier = licensing.effective_tier(runtime.paths, runtime.config)
            reason = disabled_reason(runtime.paths, tier)
            if reason:
                raise AssistantDisabled(reason)
            assistant = Assistant(runtime.db, runtime.paths, runtime.config, tier=tier,
                                  api_key=runtime.secrets.get("ai_api_key"),
                                  redact=args.redact, today=today)
            try:
                answer = assistant.ask(question)
            except IntegrationError as exc:
                raise DomainError(str(exc)) from None
            print(answer.text)
            if args.show_queries:
                for run in answer.queries:
                    outcome = (f"refused: {run.error}" if run.error else
                               f"{len(run.result.rows) if run.result else 0} rows")
                    print(f"query: {json.dumps(run.ran or run.query, ensure_ascii=False)} "
                          f"-> {one_line(outcome)}", file=sys.stderr)
            if answer.actions:
                print("\nProposed by the assistant (not done):")
                for n, action in enumerate(answer.actions, 1):
                    print(f"  {n}. {one_line(action.summary)}")
                if not args.execute:
                    print("Nothing was changed or sent. To carry any of them out, run the "
                          "question again with --execute and confirm each one.")
                else:
                    sender = None
                    for action in answer.actions:
                        if not _confirmed(f"Do this? {one_line(action.summary)}"):
                            print("Skipped.")
                            continue
                        if action.kind == "draft_sms" and sender is None:
                            sender = _sms_sender(runtime, tier)
                        try:
                            print(one_line(execute_action(
                                runtime.db, action, actor="owner (proposed by the assistant)",
                                send_sms=sender)))
                        except (DomainError, IntegrationError) as exc:
                            print(f"Not done: {one_line(exc)}")
        finally:
            runtime.close()
        return 1 if answer.stopped else 0
