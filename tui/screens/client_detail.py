"""One client at a glance: who they are, how to reach them, where the work is, what is
open and owed, and what happened lately, from :func:`core.overview.client_overview`.

``e`` edits, ``a`` archives or restores (a notice says what happened and how to undo it),
``x`` exports everything about the client (a data-access request) to a zip in the data
folder's ``exports``, ``A`` anonymises the client after a confirmation (personal data erased,
invoices and payments kept), escape goes back. The arrow keys and page keys scroll. Times are shown in local time.

``m`` texts the client (:mod:`tui.screens.sms_dialog`). No message template is about a client
alone, so the text is typed by hand in the dialog (it starts with a greeting). The "Text
messages" section is the client's message log (:func:`core.messaging.client_messages`), the
latest ``MESSAGE_LIMIT``: when, to which number, the template and the start of the text, and
the delivery status Twilio last reported, with the reason under a message that failed. It is
read again whenever the page comes back after something changed (a text sent, a sync).
"""

from __future__ import annotations

import datetime as dt

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from core import clients, lists, messaging
from core.errors import DomainError, NotFound
from core.overview import ClientOverview, client_overview
from tui import render
from tui.screens.base import CrmScreen
from tui.screens.sms_dialog import SmsDialog
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

SECTIONS = ("contacts", "addresses", "proposals", "jobs", "invoices", "tasks", "logs",
            "messages", "notes", "custom", "activity")
TASK_LIMIT = 10  # open tasks shown, soonest due first
LOG_LIMIT = 5  # service logs shown, newest first
MESSAGE_LIMIT = 10  # text messages shown, newest first
# statuses that say a text did not arrive; the reason is shown under the message
UNDELIVERED = ("not_sent", "unknown", "failed", "undelivered", "canceled")


def _table(*columns: tuple[str, dict[str, object]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    for name, options in columns:
        table.add_column(name, no_wrap=True, overflow="ellipsis", **options)  # type: ignore[arg-type]
    return table


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _local_time(at: dt.datetime) -> str:
    """Audit times are stored as naive UTC; people read their own clock."""
    return at.replace(tzinfo=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M")


def _dim(value: str) -> Text:
    return render.plain(value, style="dim")


class ClientDetailScreen(CrmScreen[None]):
    CSS_PATH = "client_detail.tcss"
    HELP_TITLE = "Client"
    BINDINGS = [
        Binding("escape", "back", "Back", id="client.back"),
        Binding("e", "edit", "Edit", id="client.edit"),
        Binding("a", "archive", "Archive", id="client.archive"),
        Binding("a", "restore", "Restore", id="client.restore"),
        Binding("x", "export", "Export", id="client.export"),
        Binding("m", "text_client", "Text", id="client.text"),
        Binding("j", "new_job", "New job", id="client.new_job"),
        Binding("A", "anonymise", "Anonymise", id="client.anonymise", show=False),
    ]

    def __init__(self, client_id: int) -> None:
        super().__init__()
        self.client_id = client_id
        self.overview: ClientOverview | None = None
        self._busy = False
        self._seen_data_version = -1

    def compose(self) -> ComposeResult:
        yield SectionBar("clients")
        with VerticalScroll(id="client-detail"):
            yield Static(id="client-header")
            yield Static(id="client-money")
            for name in SECTIONS:
                yield Static(id=f"client-{name}", classes="detail-section")
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#client-detail").focus()
        self.query_one("#client-detail").loading = True

    def on_screen_resume(self) -> None:
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # One key archives or restores; the footer shows the one that applies.
        if action in ("archive", "restore"):
            if self.overview is None:
                return None
            archived = self.overview.status == "archived"
            return archived if action == "restore" else not archived
        return True

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="client-detail", exit_on_error=False)
    def load(self) -> None:
        try:
            overview = client_overview(self.db, self.client_id, today=self.crm.today)
            tasks = lists.list_tasks(self.db, today=self.crm.today, status="open",
                                     client_id=self.client_id, limit=TASK_LIMIT)
            logs = lists.list_service_logs(self.db, client_id=self.client_id, limit=LOG_LIMIT)
            messages = messaging.client_messages(self.db, self.client_id,
                                                 limit=MESSAGE_LIMIT + 1)
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        self.app.call_from_thread(self._show, overview, tasks.rows, logs.rows,
                                  tasks.has_more, logs.has_more, messages)

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.dismiss(None)

    def _show(self, ov: ClientOverview, tasks: list[lists.TaskRow] | None = None,
              logs: list[lists.ServiceLogRow] | None = None, more_tasks: bool = False,
              more_logs: bool = False,
              messages: list[messaging.MessageView] | None = None) -> None:
        self.overview = ov
        self.query_one("#client-detail").loading = False
        self.query_one("#client-header", Static).update(self._header(ov))
        self.query_one("#client-money", Static).update(self._money(ov))
        self._section("contacts", f"Contacts ({len(ov.contacts)})", self._contacts(ov))
        self._section("addresses", f"Addresses ({len(ov.addresses)})", self._addresses(ov))
        self._section("proposals", f"Open proposals ({ov.open_proposal_count})", self._proposals(ov))
        self._section("jobs", self._counted("Jobs", len(ov.jobs), ov.job_count), self._jobs(ov))
        self._section(
            "invoices", self._counted("Invoices", len(ov.invoices), ov.invoice_count),
            self._invoices(ov),
        )
        tasks, logs = tasks or [], logs or []
        self._section("tasks", f"Open tasks ({len(tasks)}{'+' if more_tasks else ''})",
                      self._tasks(tasks))
        self._section("logs", f"Service logs ({len(logs)}{'+' if more_logs else ''}, newest)",
                      self._logs(logs))
        messages = messages or []
        more_messages = len(messages) > MESSAGE_LIMIT
        messages = messages[:MESSAGE_LIMIT]
        self._section("messages", f"Text messages ({len(messages)}"
                      f"{'+' if more_messages else ''}, newest)" if messages else
                      "Text messages", self._messages(messages))
        self._section("notes", "Notes", render.paragraph(ov.notes) if ov.notes else None)
        self._section("custom", "Custom fields", self._custom(ov))
        self._section("activity", "Recent activity", self._activity(ov))
        self.refresh_bindings()
        self.query_one(KeyHints).refresh_hints()  # Archive or Restore

    @staticmethod
    def _counted(title: str, shown: int, total: int) -> str:
        return f"{title} ({total}, latest {shown})" if total > shown else f"{title} ({total})"

    def _section(self, name: str, title: str, body: object | None) -> None:
        """A bordered block; an empty one shrinks to a single line so 80x24 shows more."""
        widget = self.query_one(f"#client-{name}", Static)
        widget.border_title = title if body is not None else None
        widget.update(body if body is not None else Content(f"{title}: none"))  # type: ignore[arg-type]
        widget.set_class(body is None, "-empty")

    # ------------------------------------------------------------------ parts

    @staticmethod
    def _header(ov: ClientOverview) -> Content:
        parts: list[str | tuple[str, str]] = [(render.one_line(ov.name), "bold")]
        if ov.company_name and ov.company_name != ov.name:
            parts.append(f"  {render.one_line(ov.company_name)}")
        facts = [ov.kind.capitalize(), render.status(ov.status)]
        parts.append(("  ·  " + "  ·  ".join(facts), "dim"))
        if ov.tags:
            parts.append("\n")
            parts.append(("Tags: ", "dim"))
            parts.append(", ".join(render.one_line(t) for t in ov.tags))
        return Content.assemble(*parts)

    @staticmethod
    def _money(ov: ClientOverview) -> Content:
        money = render.format_money
        parts: list[str | tuple[str, str]] = [
            ("Balance ", "dim"), (money(ov.balance_cents, ov.currency), "bold"),
        ]
        if ov.overdue_cents:
            parts += ["  ", (f"overdue {money(ov.overdue_cents, ov.currency)}", "bold reverse")]
        open_word = "invoice" if ov.open_invoice_count == 1 else "invoices"
        parts.append((f"  ·  {ov.open_invoice_count} open {open_word}", "dim"))
        if ov.credit_cents:
            parts += [("  ·  Credit ", "dim"), money(ov.credit_cents, ov.currency)]
        return Content.assemble(*parts)

    @staticmethod
    def _contacts(ov: ClientOverview) -> Table | None:
        if not ov.contacts:
            return None
        table = _table(("name", {"ratio": 3}), ("email", {"ratio": 4}), ("phone", {}),
                       ("role", {"ratio": 2}), ("flags", {}))
        for c in ov.contacts:
            flags = ["primary"] if c.is_primary else []
            if c.sms_opted_out:
                flags.append("no SMS (opted out)")
            elif c.sms_consent:
                flags.append("SMS")
            table.add_row(render.plain(c.name, style="bold"), render.plain(c.email),
                          render.plain(render.phone(c.phone)), render.plain(c.role),
                          _dim(", ".join(flags)))
        if ov.more_contacts:
            table.add_row(_dim("… more not shown"))
        return table

    @staticmethod
    def _addresses(ov: ClientOverview) -> Table | None:
        if not ov.addresses:
            return None
        table = _table(("kind", {}), ("label", {"ratio": 1}), ("address", {"ratio": 4}),
                       ("usps", {}))
        for a in ov.addresses:
            place = ", ".join(
                p for p in (a.line1, a.line2, a.city, " ".join(x for x in (a.region, a.postal_code) if x),
                            a.country) if p
            )
            usps = "✓ validated" if a.validated else "not validated" if a.country == "US" else ""
            table.add_row(_dim(a.kind.capitalize()), render.plain(a.label, style="bold"),
                          render.plain(place), _dim(usps))
        if ov.more_addresses:
            table.add_row(_dim("… more not shown"))
        return table

    @staticmethod
    def _proposals(ov: ClientOverview) -> Table | None:
        if not ov.open_proposals:
            return None
        table = _table(("number", {}), ("title", {"ratio": 1}), ("status", {}),
                       ("valid", {}), ("total", {"justify": "right"}))
        for p in ov.open_proposals:
            status = "Expired" if p.expired else render.status(p.status)
            valid = f"valid until {_date(p.valid_until)}" if p.valid_until else ""
            table.add_row(render.plain(p.number or "draft"), render.plain(p.title),
                          render.plain(status), _dim(valid), render.money(p.total_cents, p.currency))
        return table

    @staticmethod
    def _jobs(ov: ClientOverview) -> Table | None:
        if not ov.jobs:
            return None
        table = _table(("number", {}), ("title", {"ratio": 1}), ("status", {}),
                       ("total", {"justify": "right"}))
        for j in ov.jobs:
            table.add_row(render.plain(j.number), render.plain(j.title),
                          render.plain(render.status(j.status)), render.money(j.total_cents, j.currency))
        return table

    @staticmethod
    def _invoices(ov: ClientOverview) -> Table | None:
        if not ov.invoices:
            return None
        table = _table(("number", {}), ("status", {}), ("due", {"ratio": 1}),
                       ("total", {"justify": "right"}), ("balance", {"justify": "right"}))
        for i in ov.invoices:
            status = render.status(i.status)
            due = f"due {_date(i.due_date)}" if i.due_date else ""
            if i.overdue:
                due += f" ({i.days_overdue} days late)"
            table.add_row(render.plain(i.number or "draft"),
                          render.plain(status, style="bold" if i.overdue else ""),
                          _dim(due), render.money(i.total_cents, i.currency),
                          render.money(i.balance_cents, i.currency))
        return table

    @staticmethod
    def _tasks(tasks: list[lists.TaskRow]) -> Table | None:
        if not tasks:
            return None
        table = _table(("due", {}), ("title", {"ratio": 1}), ("who", {}))
        for t in tasks:
            due = _date(t.due_date) if t.due_date else "no date"
            style = "bold" if t.overdue else ""
            table.add_row(render.plain(due + (" overdue" if t.overdue else ""), style=style),
                          render.plain(t.title), _dim(t.assignee_name))
        return table

    @staticmethod
    def _logs(logs: list[lists.ServiceLogRow]) -> Table | None:
        if not logs:
            return None
        table = _table(("date", {}), ("job", {}), ("time", {}), ("notes", {"ratio": 1}))
        for log in logs:
            hours, minutes = divmod(log.minutes_spent, 60)
            spent = f"{hours}h{minutes:02d}" if hours else f"{minutes} min"
            table.add_row(_dim(_date(log.logged_on)), render.plain(log.job_number),
                          render.plain(spent), render.plain(log.notes_preview))
        return table

    @staticmethod
    def _messages(messages: list[messaging.MessageView]) -> Table | None:
        if not messages:
            return None
        table = _table(("when", {}), ("to", {}), ("what", {"ratio": 1}),
                       ("status", {"max_width": 24}))
        for m in messages:
            kind = messaging.TEMPLATES.get(m.template)
            what = Text(no_wrap=True, overflow="ellipsis", end="")
            if kind is not None:
                what.append(kind.label, style="dim")
                what.append("  ")
            what.append(render.one_line(m.body.split("\n", 1)[0]) if m.body else "")
            status = m.status_text.split(" (")[0]  # the part in brackets is said below
            trouble = m.status in UNDELIVERED
            table.add_row(_dim(_local_time(m.created_at)), render.plain(render.phone(m.to_phone)),
                          what, render.plain(status[:1].upper() + status[1:],
                                             style="bold" if trouble else ""))
            why = m.error_message or (m.status_text if m.status_text != status else "")
            if trouble and why:
                # the reason in full: it may wrap, unlike the rest of the row
                table.add_row("", "", Text(render.one_line(why), style="dim", no_wrap=False,
                                           end=""), "")
        return table

    @staticmethod
    def _custom(ov: ClientOverview) -> Table | None:
        if not ov.custom_fields:
            return None
        table = _table(("key", {}), ("value", {"ratio": 1}))
        for key, value in sorted(ov.custom_fields.items()):
            table.add_row(render.plain(key, style="bold"), render.plain(value))
        return table

    @staticmethod
    def _activity(ov: ClientOverview) -> Table | None:
        if not ov.activity:
            return None
        table = _table(("when", {}), ("what", {"ratio": 1}), ("who", {}))
        for a in ov.activity:
            table.add_row(_dim(_local_time(a.at)), render.plain(a.summary), _dim(a.actor))
        return table

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.crm.edit_client(self.client_id)

    def action_new_job(self) -> None:
        from tui.screens.job_form import new_job

        new_job(self.app, self.client_id)

    def action_text_client(self) -> None:
        if self.overview is not None:
            self.app.push_screen(SmsDialog("client", self.client_id, messaging.CUSTOM))

    def action_archive(self) -> None:
        self._set_status("archived")

    def action_restore(self) -> None:
        self._set_status("active")

    def action_export(self) -> None:
        if self.overview is not None and not self._busy:
            self._busy = True
            self._export()

    @work(thread=True, exclusive=True, group="client-export", exit_on_error=False)
    def _export(self) -> None:
        from core import export

        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = self.crm.app_files().data_dir / "exports" / f"client-{self.client_id}-{stamp}.zip"
        try:
            out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            export.export_client(self.db, self.client_id, out)
        except (DomainError, OSError) as exc:
            self.app.call_from_thread(self._done, f"Nothing was exported: {exc}", "error")
            return
        self.app.call_from_thread(self._done, f"Exported this client's data to {out}", "information")

    def _done(self, message: str, severity: str) -> None:
        self._busy = False
        self.notice(render.one_line(message), severity=severity)

    def action_anonymise(self) -> None:
        if self.overview is None or self._busy or self.overview.anonymised:
            if self.overview is not None and self.overview.anonymised:
                self.notice("This client is already anonymised.")
            return
        from tui.screens.confirm import ConfirmScreen

        version, name = self.overview.version, self.overview.name

        def answered(yes: bool | None) -> None:
            if yes:
                self._busy = True
                self._anonymise(version)

        self.app.push_screen(ConfirmScreen(
            f"Anonymise {render.one_line(name)}? Names, emails, phones, addresses and notes are "
            "erased for good; invoices and payments are kept under a placeholder name.",
            yes="Anonymise", no="Keep"), answered)

    @work(thread=True, exclusive=True, group="client-anonymise", exit_on_error=False)
    def _anonymise(self, version: int) -> None:
        from core import export

        try:
            export.anonymise_client(self.db, self.client_id, expected_version=version)
        except DomainError as exc:
            self.app.call_from_thread(self._status_failed, exc)
            return
        self.app.call_from_thread(self._anonymised)

    def _anonymised(self) -> None:
        self._busy = False
        self.crm.note_data_changed()
        self._seen_data_version = self.crm.data_version
        self.notice("Anonymised: personal data erased, financial records kept.")
        self.load()

    def _set_status(self, status: str) -> None:
        if self.overview is None or self._busy:
            return
        self._busy = True
        self._change_status(status, self.overview.version, self.overview.name)

    @work(thread=True, exclusive=True, group="client-status", exit_on_error=False)
    def _change_status(self, status: str, version: int, name: str) -> None:
        try:
            clients.set_status(self.db, self.client_id, status, expected_version=version)
        except DomainError as exc:
            self.app.call_from_thread(self._status_failed, exc)
            return
        self.app.call_from_thread(self._status_changed, status, name)

    def _status_failed(self, error: DomainError) -> None:
        self._busy = False
        self.notice(render.error_text(error), severity="error")
        self.load()

    def _status_changed(self, status: str, name: str) -> None:
        self._busy = False
        self.crm.note_data_changed()
        self._seen_data_version = self.crm.data_version
        key = self.crm.key_for("client.restore" if status == "archived" else "client.archive", "a")
        if status == "archived":
            message = (f"Archived {render.one_line(name)}. It is hidden from the client list; "
                       f"nothing was deleted. Press {key} to restore.")
        else:
            message = f"Restored {render.one_line(name)} as an active client."
        self.notice(message)
        self.load()
