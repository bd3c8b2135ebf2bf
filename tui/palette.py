"""Command palette providers (``ctrl+p``): open any record by name or number, run any action.

:class:`RecordCommands` searches clients, contacts, addresses, proposals, jobs and invoices
through :func:`core.search.search` in a thread (the palette awaits it without blocking the
UI); a proposal, job or invoice opens in its own section when the app offers that
(``open_proposal``/``open_job``/``open_invoice``), otherwise its client opens. Prompts quote
user data, so they are plain ``Text``, never markup.

:class:`ActionCommands` lists what the user can do from anywhere: new client, proposal, job,
invoice, quick task, go to a section, open one of the reports. An action is offered only
when the app has a screen for it (the method exists, the section is not "coming soon"), so
the palette never leads to a dead end.

:class:`ScreenCommands` lists what the screen the palette was opened on can do: its own key
bindings (those with an id and a description, as ``?`` lists them, but not the ``escape``
ones: back, cancel, close), each run as its key would run it. Only what the screen allows
right now is offered: its ``check_action`` must say yes and it must not hide the hint
(``hidden_hints``, e.g. "Issue" on an issued invoice). The short key-hint words get a
fuller title here (:data:`SCREEN_TITLES`: "Payment" on an invoice is "Record payment"), and
the help names the key, so the palette teaches it.

Decision: the app registers :class:`RecordCommands` and :class:`ActionCommands`;
:class:`ActionCommands` is a :class:`ScreenCommands` that adds the app-wide actions after
the screen's, so both lists come from one provider (register one or the other, not both). A
screen action with the same title as an app-wide one ("New client" on the client list) is
listed once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.actions import parse as parse_action
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from core.search import SearchHit, search, terms
from core.text import clean_line
from tui.render import hit_detail
from tui.widgets.section_bar import SECTIONS

if TYPE_CHECKING:
    from tui.app import CrmApp

SEARCH_LIMIT = 20

KINDS = {  # kind -> (word shown before the label, method that opens it, help)
    "client": ("", "", "Open client"),
    "contact": ("Contact", "", "Open the client of this contact"),
    "address": ("Address", "", "Open the client at this address"),
    "proposal": ("Proposal", "open_proposal", "Open proposal"),
    "job": ("Job", "open_job", "Open job"),
    "invoice": ("Invoice", "open_invoice", "Open invoice"),
    "credit_note": ("Credit note", "open_invoice", "Open the invoice this credit note is for"),
}

REPORT_ACTIONS = (
    ("revenue", "Report: revenue by month", "Revenue by month as a bar chart"),
    ("receivables", "Report: aged receivables", "What clients owe, by days past due"),
    ("conversion", "Report: proposal conversion", "How many sent proposals were approved"),
    ("jobs", "Report: jobs to invoice", "Finished work not billed yet"),
)


def _app(provider: Provider) -> CrmApp:
    return cast("CrmApp", provider.app)


def _app_method(app: Any, name: str) -> Callable[..., Any] | None:
    method = getattr(app, name, None) if name else None
    return method if callable(method) else None


def section_is_built(app: Any, mode: str) -> bool:
    """True unless the section is still the "coming soon" placeholder."""
    screen = app.MODES.get(mode)
    return screen is not None and "_coming_soon" not in getattr(screen, "__qualname__", "")


class RecordCommands(Provider):
    """Open any record by name, email, phone or number."""

    async def search(self, query: str) -> Hits:
        if not terms(query):
            return
        app = _app(self)
        hits = await asyncio.to_thread(search, app.db, query, limit=SEARCH_LIMIT)
        matcher = self.matcher(query)
        for rank, hit in enumerate(hits):
            found = self._hit(app, hit)
            if found is None:
                continue
            prompt, text, command, help_text = found
            # the search already matched; keep its order, nudged by how well the words fit
            score = max(matcher.match(text), 0.5) - rank * 0.001
            yield Hit(score, prompt, command, text=text, help=help_text)

    @staticmethod
    def _hit(app: CrmApp, hit: SearchHit) -> tuple[Text, str, Callable[[], Any], str] | None:
        word, method_name, help_text = KINDS.get(hit.kind, ("", "", "Open client"))
        opener = record_opener(app, hit.kind)
        if opener is not None:
            command: Callable[[], Any] = partial(opener, hit.ref_id)
        elif hit.client_id is not None:
            command = partial(app.open_client, hit.client_id)
            if method_name:
                help_text = f"Open the client of this {hit.kind}"
        else:
            return None
        label = clean_line(hit.label) or "(no name)"
        text = f"{word} {label}".strip()
        prompt = Text(end="", no_wrap=True, overflow="ellipsis")
        if word:
            prompt.append(f"{word} ", style="dim")
        prompt.append(label, style="bold")
        detail = hit_detail(hit.detail)[:50]
        if detail:
            prompt.append(f"  {detail}")
        if hit.client_name and hit.kind != "client":
            prompt.append(f"  · {clean_line(hit.client_name)[:40]}", style="dim")
            text += f" {clean_line(hit.client_name)}"
        return prompt, text, command, help_text


def _open_proposal(app: CrmApp, proposal_id: int) -> None:
    """Until the app has ``open_proposal``: the proposal editor, in the Proposals section."""
    from tui.screens.proposal_editor import ProposalEditorScreen

    if app.current_mode != "proposals":
        app.switch_mode("proposals")
    app.push_screen(ProposalEditorScreen(proposal_id))


def record_opener(app: CrmApp, kind: str) -> Callable[[int], Any] | None:
    """What opens a record of ``kind`` in its own section, or None (its client opens)."""
    method = _app_method(app, KINDS.get(kind, ("", "", ""))[1])
    if method is not None:
        return method
    if kind == "proposal" and section_is_built(app, "proposals"):
        return partial(_open_proposal, app)
    return None


@dataclass(frozen=True)
class Action:
    title: str
    help: str
    run: Callable[[], Any]


NEW_IN_SECTION = (  # (section, title, help): "New ..." run by that section's own list screen
    ("proposals", "New proposal", "Write a quote for a client"),
    ("jobs", "New job", "Plan work for a client"),
    ("invoices", "New invoice", "Bill a client, from scratch"),
)


def available_actions(app: CrmApp) -> Iterator[Action]:
    """Every action the app can carry out right now, in the order the palette lists them."""
    yield Action("New client", "Add a client with contacts and addresses", app.new_client)
    for mode, title, help_text in NEW_IN_SECTION:
        method = _app_method(app, f"new_{mode[:-1]}")
        if method is not None:
            yield Action(title, help_text, method)
        elif section_is_built(app, mode) and hasattr(
                getattr(app.MODES[mode], "screen_class", app.MODES[mode]), "action_new"):
            yield Action(title, help_text, partial(new_in_section, app, mode))
    quick_task = _app_method(app, "action_quick_task")
    if quick_task is not None:
        yield Action("Quick task", "Add a to-do, linked to what is on screen", quick_task)
    for mode, title, _key in SECTIONS:
        if section_is_built(app, mode):
            yield Action(f"Go to {title}", f"Open the {title} section",
                         partial(app.action_section, mode))
    if section_is_built(app, "reports"):
        for report, title, help_text in REPORT_ACTIONS:
            yield Action(title, help_text, partial(open_report, app, report))
    yield Action("Validate all unvalidated addresses",
                 "Check US addresses with USPS, within the hourly quota (Premium)",
                 partial(validate_all_addresses, app))
    yield Action("Send visit reminders…", "Text a day's visit reminders, after a dry run",
                 partial(send_reminders, app))


async def validate_all_addresses(app: CrmApp) -> None:
    """The USPS check of every unchecked address; its 600-line module loads when asked for."""
    from tui.screens.address_validation import validate_all_addresses as validate_all

    await validate_all(app)


def send_reminders(app: CrmApp) -> None:
    """Settings → Integrations, starting the reminder flow (dry run, question, send)."""
    from tui.screens.settings import open_reminders

    open_reminders(app)


async def new_in_section(app: CrmApp, mode: str) -> None:
    """Go to ``mode`` and start a new record there, as its ``n`` key would."""
    if app.current_mode != mode:
        await app.switch_mode(mode)
    # the top screen with a "new" action (usually the section's list); whatever is open over
    # it stays, the new form opens on top, so an unsaved form is never closed by this
    for screen in reversed(app.screen_stack):
        new = getattr(screen, "action_new", None)
        if callable(new):
            await _maybe_await(new())
            return


async def _maybe_await(result: object) -> None:
    if asyncio.iscoroutine(result):
        await result


async def open_report(app: CrmApp, report: str) -> None:
    """Switch to the Reports section showing ``report``."""
    from tui.screens.reports import ReportsScreen

    if app.current_mode != "reports":
        await app.switch_mode("reports")
    screen = app.screen
    if isinstance(screen, ReportsScreen):
        screen.action_show(report)


# binding id -> the title in the palette, where the key hint's word is too terse out of context
SCREEN_TITLES = {
    "invoice.edit": "Edit invoice",
    "invoice.issue": "Issue invoice",
    "invoice.payment": "Record payment",
    "invoice.refund": "Refund a payment",
    "invoice.credit_note": "Credit note",
    "invoice.void": "Void invoice",
    "invoice.apply_credit": "Apply client credit",
    "invoice.delete": "Delete draft invoice",
    "invoice.client": "Open the invoice's client",
    "invoice.payment_link": "Payment link",
    "invoice.text_client": "Text the client",
    "proposals.send": "Send proposal",
    "proposals.approve": "Approve proposal",
    "proposals.decline": "Decline proposal",
    "proposals.request_changes": "Client asked for changes",
    "proposals.convert": "Convert to job",
    "proposals.text_client": "Text the client",
    "job.schedule": "Schedule a visit",
    "job.start_visit": "Start visit",
    "job.complete_visit": "Complete visit",
    "job.invoice": "Invoice job",
    "job.text_visit": "Text the client about the visit",
    "job.edit": "Edit job",
    "job.hold": "Put job on hold",
    "job.resume": "Resume job",
    "job.cancel": "Cancel job",
    "job.cancel_visit": "Cancel visit",
    "client.edit": "Edit client",
    "client.archive": "Archive client",
    "client.restore": "Restore client",
    "client.export": "Export client's data",
    "client.text": "Text the client",
    "client.new_job": "New job for this client",
    "client.anonymise": "Anonymise client",
    "clients.new": "New client",
    "clients.search": "Search clients",
    "clients.open": "Open client",
    "clients.edit": "Edit client",
    "clients.filter": "Filter clients",
    "clients.sort": "Sort clients",
    "clients.validate_addresses": "Validate all unvalidated addresses",
    "proposals.new": "New proposal",
    "proposals.open": "Open proposal",
    "proposals.filter": "Filter proposals",
    "proposals.sort": "Sort proposals",
    "jobs.new": "New job",
    "jobs.open": "Open job",
    "jobs.filter": "Filter jobs",
    "jobs.sort": "Sort jobs",
    "invoices.new": "New invoice",
    "invoices.open": "Open invoice",
    "invoices.from_job": "New invoice from a job",
    "invoices.filter": "Filter invoices",
    "invoices.sort": "Sort invoices",
    "tasks.new": "New task",
    "tasks.open": "Open task",
    "tasks.complete": "Mark task done",
    "tasks.reopen": "Reopen task",
    "tasks.edit": "Edit task",
    "tasks.delete": "Delete task",
    "tasks.view": "Open or done tasks",
    "schedule.today": "Go to today",
    "schedule.view": "Day or week view",
    "schedule.move": "Move visit",
    "schedule.open": "Open visit's job",
    "reports.revenue": "Report: revenue by month",
    "reports.receivables": "Report: aged receivables",
    "reports.conversion": "Report: proposal conversion",
    "reports.jobs": "Report: jobs to invoice",
    "reports.basis": "Revenue: cash or invoiced",
    "reports.period": "Report period",
    "reports.open": "Open the highlighted row",
    "reports.refresh": "Refresh report",
}


def screen_actions(app: CrmApp, screen: Any) -> Iterator[Action]:
    """The actions of ``screen``'s own bindings that it allows right now, as ``?`` lists them,
    each run as its key would run it."""
    hidden_hints = getattr(screen, "hidden_hints", None)
    hidden: set[str] = set(hidden_hints()) if callable(hidden_hints) else set()
    where = getattr(screen, "HELP_TITLE", "") or "This screen"
    for binding in getattr(screen, "BINDINGS", ()):
        if not isinstance(binding, Binding) or not binding.id or not binding.description:
            continue
        if binding.description in hidden:
            continue  # refused by the record's state (the key would only say why)
        if "escape" in binding.key.split(","):
            continue  # back / cancel / close: escape already does it, the palette included
        namespace, action, params = parse_action(binding.action)
        target = app if namespace == "app" else screen
        if target.check_action(action, params) is not True:
            continue
        key = app.shown_key(binding.id, binding.key)
        yield Action(SCREEN_TITLES.get(binding.id, binding.description),
                     f"{where} · key {key}",
                     partial(app.run_action, binding.action, screen))


def palette_actions(app: CrmApp, screen: Any) -> list[Action]:
    """The screen's actions, then the app-wide ones; each title once (the app-wide wins)."""
    everywhere = list(available_actions(app))
    titles = {action.title for action in everywhere}
    here: list[Action] = []
    for action in screen_actions(app, screen):
        if action.title not in titles:
            titles.add(action.title)
            here.append(action)
    return here + everywhere


class ScreenCommands(Provider):
    """What the screen the palette was opened on can do: listed first, matched as you type."""

    def actions(self) -> list[Action]:
        return list(screen_actions(_app(self), self.screen))

    async def discover(self) -> Hits:
        for action in self.actions():
            yield DiscoveryHit(action.title, action.run, text=action.title, help=action.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in self.actions():
            score = matcher.match(action.title)
            if score > 0:
                yield Hit(score, matcher.highlight(action.title), action.run,
                          text=action.title, help=action.help)


class ActionCommands(ScreenCommands):
    """The screen's actions, then new records, sections and reports: listed when the palette
    opens, matched as you type."""

    def actions(self) -> list[Action]:
        return palette_actions(_app(self), self.screen)
