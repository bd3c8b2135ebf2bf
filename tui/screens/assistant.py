"""The AI assistant (Sovereign): questions in plain words answered through structured
queries that run here, read-only (:class:`integrations.ai.assistant.Assistant`).

Gates first: when the tier is below Sovereign or AI consent is off, the screen says why
(:func:`disabled_reason`) and the question box is disabled; no assistant is even built, so
no request can be made. A session is one opening of this screen (or until redaction is
switched with F5, which starts a new one): before its first question goes out, a dialog
shows :func:`disclosure` (what will be sent, where) and the question is sent only on ``y``.

Answers are plain text (never markup), followed by the queries that ran (or why they were
refused) and their row counts. Actions the model proposes are listed under the conversation
and are only proposals: one runs after the owner highlights it, presses ``x`` (or enter)
and confirms with ``y`` — nothing in an answer or in returned rows can run one. A text
message needs the Twilio integration; without it the action fails with the reason and
nothing is sent. F2 shows the local exchange log (what was sent, what came back) and can
delete it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from config import AppPaths, app_paths
from config.settings import ConfigError
from core.errors import DomainError
from tui import render
from tui.screens.base import CrmModal, CrmScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets import table_fill
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

if TYPE_CHECKING:
    from integrations.ai.actions import ProposedAction
    from integrations.ai.assistant import Answer, Assistant

ACTOR = "owner (proposed by the assistant)"
LOG_ENTRIES = 200  # the newest exchanges the log view reads


def app_paths_of(app: Any) -> AppPaths:
    """The app's paths when it carries them, else those of ``TSSG_CRM_HOME`` (as drafts)."""
    paths = getattr(app, "paths", None)
    return paths if isinstance(paths, AppPaths) else app_paths()


@dataclass
class _Proposal:
    action: ProposedAction
    outcome: str = ""  # "" while pending; what happened once it ran or failed
    done: bool = False

    def prompt(self) -> Text:
        text = Text(end="", no_wrap=False)
        if self.done:
            text.append("Done  ", style="bold")
            text.append(render.one_line(self.outcome))
            return text
        if self.outcome:
            text.append("Not done  ", style="bold")
            text.append(render.one_line(self.outcome))
            text.append("  · ")
        else:
            text.append("Proposed  ", style="bold")
        text.append(render.one_line(self.action.summary))
        return text


class DisclosureDialog(CrmModal[bool]):
    """What will be sent, before the first question of a session; ``y`` sends it."""

    CSS_PATH = ["dialogs.tcss", "assistant.tcss"]
    BINDINGS = [
        Binding("y", "answer(True)", "Send", id="assistant.disclosure_send"),
        Binding("n,escape", "answer(False)", "Cancel", id="assistant.disclosure_cancel"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog disclosure-dialog"):
            yield Label("Before your first question", markup=False, classes="dialog-title")
            with VerticalScroll(classes="disclosure-scroll"):
                yield Static(render.paragraph(self.text), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (n)", id="no", compact=True)
                yield Button("Send (y)", id="yes", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ExchangeLogScreen(CrmScreen[None]):
    """The transparency log: every exchange with the provider, newest first; ``d`` deletes it."""

    CSS_PATH = "assistant.tcss"
    HELP_TITLE = "Assistant exchange log"
    BINDINGS = [
        Binding("d", "delete", "Delete log", id="assistant_log.delete"),
        Binding("escape", "close", "Back", id="assistant_log.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield SectionBar(self.app.current_mode)
        with Vertical(id="log-body"):
            yield Label("Reading the exchange log…", markup=False, id="log-status")
            yield DataTable(id="log-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="log-detail"):
                yield Static("", id="log-detail-text")
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#log-table", DataTable).focus()
        self._load()

    @work(thread=True, exclusive=True, group="assistant-log", exit_on_error=False)
    def _load(self) -> None:
        from integrations.ai import exchange_log

        paths = app_paths_of(self.app)
        entries = exchange_log.read_exchanges(paths, last=LOG_ENTRIES)
        where = str(exchange_log.log_path(paths))
        self.app.call_from_thread(self._show, list(reversed(entries)), where)

    def _show(self, entries: list[dict[str, Any]], where: str) -> None:
        if not self.is_attached:  # the screen was closed while the worker ran
            return
        self.entries = entries
        rows: list[list[Text | str]] = [[
            render.plain(str(entry.get("at", ""))[:19].replace("T", " ")),
            render.plain(entry.get("round", "")),
            render.plain(entry.get("status") if entry.get("status") is not None else "—"),
            render.plain(entry.get("question", "")),
        ] for entry in entries]
        table_fill.fill(self.query_one("#log-table", DataTable),
                        ("When (UTC)", "Step", "Status", "Question"), rows,
                        column_keys=("at", "round", "status", "question"), widest=200)
        if entries:
            text = (f"{len(entries)} exchange{'s' if len(entries) != 1 else ''} kept in {where}"
                    " · the arrows pick one · d deletes the whole log")
        else:
            text = f"No exchanges are kept ({where} is empty or gone)."
        self.query_one("#log-status", Label).update(render.content(text))
        self._detail(0)

    @on(DataTable.RowHighlighted, "#log-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    def _detail(self, index: int) -> None:
        static = self.query_one("#log-detail-text", Static)
        if not 0 <= index < len(self.entries):
            static.update("")
            return
        static.update(render.paragraph(json.dumps(self.entries[index], ensure_ascii=False,
                                                  indent=2, default=str)))

    def action_delete(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._delete()

        self.app.push_screen(ConfirmScreen(
            "Delete the whole assistant exchange log from this machine?", yes="Delete",
            no="Keep it"), answered)

    @work(thread=True, exclusive=True, group="assistant-log", exit_on_error=False)
    def _delete(self) -> None:
        from integrations.ai import exchange_log

        existed = exchange_log.delete_exchanges(app_paths_of(self.app))
        self.app.call_from_thread(
            self.notice, "The exchange log was deleted." if existed else "There was no log.")
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)


class AssistantScreen(CrmScreen[None]):
    CSS_PATH = "assistant.tcss"
    HELP_TITLE = "Assistant"
    TEXT_ENTRY = True
    BINDINGS = [
        Binding("x", "execute", "Do it", id="assistant.execute"),
        Binding("f2", "log", "Exchange log", id="assistant.log"),
        Binding("f5", "toggle_redact", "Redaction", id="assistant.redact"),
        Binding("escape", "close", "Back", id="assistant.close"),
        Binding("down", "to_actions", "To the proposed actions", id="assistant.to_actions",
                show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None  # why the assistant is off; None when it may run
        self.checked = False
        self.redact = False
        self.busy = False
        self.disclosed = False  # the disclosure was accepted in this session
        self.proposals: list[_Proposal] = []
        self._assistant: Assistant | None = None
        self._tier = "free"
        self._sms_sender: Any = None

    def compose(self) -> ComposeResult:
        yield SectionBar(self.app.current_mode)
        with Vertical(id="assistant-body"):
            yield Label("Checking whether the assistant may run…", markup=False,
                        id="assistant-state")
            with VerticalScroll(id="conversation"):
                yield Static("", id="assistant-intro")
            yield Label("", markup=False, id="actions-title")
            yield OptionList(id="assistant-actions")
            yield Input(placeholder="Ask about your clients, jobs, invoices…", id="question",
                        disabled=True, compact=True, max_length=2000)
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#actions-title").display = False
        self.query_one("#assistant-actions").display = False
        self._check()

    # ------------------------------------------------------------------ the gates

    @work(thread=True, exclusive=True, group="assistant-check", exit_on_error=False)
    def _check(self) -> None:
        from core import licensing
        from integrations.ai.assistant import disabled_reason

        paths = app_paths_of(self.app)
        tier = licensing.effective_tier(paths, self.crm.config)
        reason = disabled_reason(paths, tier)
        self.app.call_from_thread(self._checked, tier, reason)

    def _checked(self, tier: str, reason: str | None) -> None:
        if not self.is_attached:  # the screen was closed while the worker ran
            return
        self.checked = True
        self._tier = tier
        self.reason = reason
        question = self.query_one("#question", Input)
        if reason:
            question.disabled = True
            self._state("The assistant is off; nothing is sent.", error=True)
            self.query_one("#assistant-intro", Static).update(render.paragraph(reason))
            self.query_one("#conversation", VerticalScroll).focus()
            return
        question.disabled = False
        question.focus()
        self._show_intro()

    def _disclosure(self) -> str:
        from integrations.ai.assistant import disclosure

        return disclosure(self.crm.config, app_paths_of(self.app), redact=self.redact)

    def _show_intro(self) -> None:
        from integrations.ai.providers import provider_label

        redaction = "names sent as tokens" if self.redact else "redaction off (F5 turns it on)"
        self._state(f"Assistant · {provider_label(self.crm.config)} · {redaction}")
        if not self.disclosed:
            self.query_one("#assistant-intro", Static).update(
                render.paragraph("What will be sent:\n" + self._disclosure()))

    def _state(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#assistant-state", Label)
        label.update(render.content(text))
        label.set_class(error, "-off")

    # ------------------------------------------------------------------ asking

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if self.reason or not self.checked:
            return
        if self.busy:
            self.notice("The assistant is still answering the last question.")
            return
        if not question:
            self.notice("Type a question first.", severity="warning")
            return
        if self.disclosed:
            self._send(question)
            return

        def answered(send: bool | None) -> None:
            if send:
                self.disclosed = True
                self.query_one("#assistant-intro", Static).display = False
                self._send(question)
            else:
                self.notice("Nothing was sent.")

        self.app.push_screen(DisclosureDialog(self._disclosure()), answered)

    def _send(self, question: str) -> None:
        self.busy = True
        self.query_one("#question", Input).value = ""
        self._say(f"You: {question}", "question")
        self._state("Asking… the model may take a while; the queries run here.")
        self._ask(question)

    @work(thread=True, exclusive=True, group="assistant-ask", exit_on_error=False)
    def _ask(self, question: str) -> None:
        from core import licensing
        from integrations.http import IntegrationError

        try:
            assistant = self._session()
            assistant.tier = licensing.effective_tier(assistant.paths, self.crm.config)
            answer: Answer | str = assistant.ask(question)
        except (DomainError, IntegrationError, ConfigError) as exc:
            answer = render.error_text(exc)
        self.app.call_from_thread(self._answered, answer)

    def _session(self) -> Assistant:
        """This screen's assistant session, built on the first question (never before the
        gates and the disclosure)."""
        if self._assistant is None:
            from config.secrets import load_secrets
            from integrations.ai.assistant import Assistant

            paths = app_paths_of(self.app)
            key = load_secrets(paths.secrets_file).get("ai_api_key")
            self._assistant = Assistant(self.db, paths, self.crm.config, tier=self._tier,
                                        api_key=key, redact=self.redact, today=self.crm.today)
        return self._assistant

    def _answered(self, answer: Answer | str) -> None:
        if not self.is_attached:  # the screen was closed while the worker ran
            return
        self.busy = False
        if isinstance(answer, str):
            self._say(f"Not answered: {answer}", "failed")
            self._state("The question was not answered; see the message above.", error=True)
            self.notice(answer, severity="error", title="Assistant")
            return
        self._say(answer.text, "answer")
        for run in answer.queries:
            shown = json.dumps(run.ran or run.query, ensure_ascii=False)
            if run.error:
                self._say(f"Query refused: {run.error}\n  {shown}", "query failed")
            else:
                rows = len(run.result.rows) if run.result else 0
                self._say(f"Query ran here: {rows} row{'s' if rows != 1 else ''} "
                          f"({run.rows_sent} sent)\n  {shown}", "query")
        if answer.actions:
            self._add_proposals(answer.actions)
        self._show_intro()

    def _say(self, text: str, kind: str) -> None:
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.mount(Static(render.paragraph(text), classes=f"turn {kind}"))
        conversation.scroll_end(animate=False)

    # ------------------------------------------------------------------ actions

    def _add_proposals(self, actions: tuple[ProposedAction, ...]) -> None:
        options = self.query_one("#assistant-actions", OptionList)
        for action in actions:
            proposal = _Proposal(action)
            self.proposals.append(proposal)
            options.add_option(Option(proposal.prompt(), id=str(len(self.proposals) - 1)))
        options.display = True
        title = self.query_one("#actions-title", Label)
        title.display = True
        keys = self.crm.key_for("assistant.execute", "x")
        title.update(render.content(
            f"Proposed by the assistant, not done: down arrow to the list, {keys} does one "
            "(after you confirm)"))
        self.query_one(KeyHints).refresh_hints()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "execute":
            return any(not p.done for p in self.proposals)
        if action == "to_actions":
            return bool(self.proposals)
        return True

    def action_to_actions(self) -> None:
        # down from the question box (the list and the conversation use the arrows themselves)
        options = self.query_one("#assistant-actions", OptionList)
        options.focus()
        if options.highlighted is None and options.option_count:
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#assistant-actions")
    def _selected(self) -> None:
        self.action_execute()

    def action_execute(self) -> None:
        options = self.query_one("#assistant-actions", OptionList)
        index = options.highlighted
        if self.focused is not options or index is None or not 0 <= index < len(self.proposals):
            if options.option_count:
                options.focus()
                self.notice("Pick a proposed action with the arrows, then press x.")
            return
        proposal = self.proposals[index]
        if proposal.done:
            self.notice("That action was already done.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._execute(index)
            else:
                self.notice("Not done; nothing was changed or sent.")

        self.app.push_screen(ConfirmScreen(f"Do this? {render.one_line(proposal.action.summary)}",
                                           yes="Do it", no="Not now"), answered)

    @work(thread=True, exclusive=True, group="assistant-execute", exit_on_error=False)
    def _execute(self, index: int) -> None:
        from integrations.ai.actions import execute_action
        from integrations.http import IntegrationError

        proposal = self.proposals[index]
        try:
            sender = self._sender() if proposal.action.kind == "draft_sms" else None
            outcome = execute_action(self.db, proposal.action, actor=ACTOR, send_sms=sender)
            done = True
        except (DomainError, IntegrationError, ConfigError) as exc:
            outcome, done = render.error_text(exc), False
        self.app.call_from_thread(self._executed, index, outcome, done)

    def _sender(self) -> Any:
        """Sends a confirmed text through Twilio (as ``tssg-crm ask --execute`` does)."""
        if self._sms_sender is None:
            from config.secrets import load_secrets
            from integrations.twilio_sms import TwilioGateway, send_draft

            paths = app_paths_of(self.app)
            gateway = TwilioGateway.from_config(self.crm.config,
                                                load_secrets(paths.secrets_file))
            db, tier = self.db, self._tier
            self._sms_sender = lambda draft: send_draft(db, gateway, tier, draft, actor=ACTOR)
        return self._sms_sender

    def _executed(self, index: int, outcome: str, done: bool) -> None:
        proposal = self.proposals[index]
        proposal.outcome, proposal.done = outcome, done
        if done:
            self.crm.note_data_changed()
            self.crm.notice(outcome)
        else:
            self.crm.notice(f"Not done: {outcome}", severity="error")
        if not self.is_attached:  # the screen was closed while the action ran
            return
        options = self.query_one("#assistant-actions", OptionList)
        options.replace_option_prompt_at_index(index, proposal.prompt())
        self.query_one(KeyHints).refresh_hints()

    # ------------------------------------------------------------------ other keys

    def action_log(self) -> None:
        self.app.push_screen(ExchangeLogScreen())

    def action_toggle_redact(self) -> None:
        if self.busy:
            self.notice("Wait for the answer before switching redaction.")
            return
        self.redact = not self.redact
        if self._assistant is not None:
            self._assistant.close()
        self._assistant = None  # a new session: the redaction tokens belong to one session
        self.disclosed = False
        intro = self.query_one("#assistant-intro", Static)
        intro.display = True
        conversation = self.query_one("#conversation", VerticalScroll)
        turns = list(conversation.query(".turn"))
        if turns:  # what the next session will send goes below the answers so far
            conversation.move_child(intro, after=turns[-1])
        if self.reason is None and self.checked:
            self._show_intro()
            conversation.scroll_end(animate=False)
        self.notice("Redaction is on: names, emails, phones and addresses go as tokens."
                    if self.redact else "Redaction is off: rows are sent as they are.")

    def action_close(self) -> None:
        self.dismiss(None)

    def on_unmount(self) -> None:
        if self._assistant is not None:
            self._assistant.close()
