"""One client at a glance: who they are, how to reach them, where the work is, what is
open and owed, and what happened lately, from :func:`core.overview.client_overview`.

The client's latest proposals, jobs and invoices (``core.overview.RECENT_LIMIT`` of each, any status, newest
first, with how many there are in all) are lists to pick from: ``tab`` moves into the next
list (``enter`` jumps to the first one), the arrows pick a row, ``enter`` opens that proposal,
job or invoice in its own section; escape there comes back through that section's list.

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
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.widgets import DataTable, Static

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
# sections whose rows open a record: (column key, width; 0 = what is left); the
# valid-until column is left out below NARROW columns, so titles stay readable at 80
WORK: dict[str, tuple[tuple[str, int], ...]] = {
    "proposals": (("number", 13), ("title", 0), ("status", 11), ("valid", 22), ("total", 11)),
    "jobs": (("number", 12), ("title", 0), ("status", 11), ("total", 11)),
    "invoices": (("number", 12), ("status", 12), ("due", 0), ("total", 11), ("balance", 11)),
}
NARROW = 90
NARROW_DROP = ("valid",)
Cells = dict[str, Text]
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
        Binding("enter", "open_record", "Open", id="client.open"),
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
        self._work_width = 0  # the width the record lists' columns were made for
        self._work_rows: dict[str, tuple[str, list[tuple[int, Cells]]]] = {}

    def compose(self) -> ComposeResult:
        yield SectionBar("clients")
        with VerticalScroll(id="client-detail"):
            yield Static(id="client-header")
            yield Static(id="client-money")
            for name in SECTIONS:
                if name in WORK:
                    table: DataTable[object] = DataTable(
                        id=f"client-{name}-list", classes="detail-section work-list",
                        cursor_type="row", show_header=False, zebra_stripes=False)
                    table.display = False
                    table.show_cursor = False
                    yield table
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
        proposals = self._counted("Proposals", len(ov.proposals), ov.proposal_count)
        if ov.open_proposal_count:
            proposals += f" · {ov.open_proposal_count} open"
        self._work("proposals", proposals, self._proposals(ov))
        self._work("jobs", self._counted("Jobs", len(ov.jobs), ov.job_count), self._jobs(ov))
        self._work("invoices", self._counted("Invoices", len(ov.invoices), ov.invoice_count),
                   self._invoices(ov))
        self._work_width = self._inner_width()
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
        if total > shown:
            return f"{title} ({total}, latest {shown}; {total - shown} more not shown)"
        return f"{title} ({total})"

    # ------------------------------------------------------------------ the record lists

    def _work(self, name: str, title: str, rows: list[tuple[int, Cells]]) -> None:
        """A list of records to open; when there are none, the one-line "none" instead."""
        self._work_rows[name] = (title, rows)
        table = self.query_one(f"#client-{name}-list", DataTable)
        keep = self._highlighted(table)
        self._set_work_columns(name, table)
        table.clear()
        keys = [str(column.key.value) for column in table.columns.values()]
        for ident, cells in rows:
            table.add_row(*(cells[k] for k in keys), key=str(ident))
        if keep is not None and str(keep) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep)))
        table.border_title = title
        table.display = bool(rows)
        self._section(name, title, None)
        self.query_one(f"#client-{name}", Static).display = not rows

    def _inner_width(self) -> int:
        # the page's padding and scrollbar, the section's border and padding
        return max((self.size.width or self.app.size.width) - 9, 40)

    def _set_work_columns(self, name: str, table: DataTable[object]) -> None:
        width = self._inner_width()
        if table.columns and self._work_width == width:
            return
        table.clear(columns=True)
        narrow = (self.size.width or self.app.size.width) < NARROW
        spec = tuple(c for c in WORK[name] if not (narrow and c[0] in NARROW_DROP))
        rest = max(width - sum(w for _k, w in spec) - 2 * len(spec), 10)
        for key, w in spec:
            table.add_column(key, width=w or rest, key=key)

    def on_resize(self) -> None:
        if self._inner_width() == self._work_width:
            return
        self._work_width = 0  # every list makes its columns again
        for name, (title, rows) in self._work_rows.items():
            self._work(name, title, rows)
        self._work_width = self._inner_width()

    @staticmethod
    def _highlighted(table: DataTable[object]) -> int | None:
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def _work_lists(self) -> list[DataTable[object]]:
        return [t for t in (self.query_one(f"#client-{n}-list", DataTable) for n in WORK)
                if t.display and t.row_count]

    def action_open_record(self) -> None:
        """``enter`` outside the lists: into the first of them (a list's own ``enter``
        opens its row)."""
        lists_shown = self._work_lists()
        if lists_shown:
            lists_shown[0].focus()
        else:
            self.notice("No proposal, job or invoice to open yet.")

    @on(DataTable.RowSelected, ".work-list")
    def _open_row(self, event: DataTable.RowSelected) -> None:
        event.stop()
        ident = event.row_key.value
        if ident is None or event.data_table.id is None:
            return
        kind = event.data_table.id.removeprefix("client-").removesuffix("-list")
        opener = {"proposals": self.crm.open_proposal, "jobs": self.crm.open_job,
                  "invoices": self.crm.open_invoice}[kind]
        opener(int(ident))

    @on(DataTable.RowHighlighted, ".work-list")
    def _keep_row_in_sight(self, event: DataTable.RowHighlighted) -> None:
        """A list is as tall as its rows: the page, not the list, scrolls to the cursor."""
        table = event.data_table
        if not table.has_focus:
            return
        page = self.query_one("#client-detail", VerticalScroll)
        top = table.virtual_region.y + 1 + event.cursor_row  # below the border
        page.scroll_to_region(Region(0, top, 1, 1), animate=False, spacing=None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, DataTable) and event.widget.has_class("work-list"):
            event.widget.show_cursor = True
            event.widget.border_subtitle = "enter opens · tab next"

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if isinstance(event.widget, DataTable) and event.widget.has_class("work-list"):
            event.widget.show_cursor = False
            event.widget.border_subtitle = None

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
    def _proposals(ov: ClientOverview) -> list[tuple[int, Cells]]:
        rows = []
        for p in ov.proposals:
            status = "Expired" if p.expired else render.status(p.status)
            valid = f"valid until {_date(p.valid_until)}" if p.valid_until else ""
            rows.append((p.id, {
                "number": render.plain(p.number or "draft", style="" if p.number else "dim"),
                "title": render.plain(p.title), "status": render.plain(status),
                "valid": _dim(valid), "total": render.money(p.total_cents, p.currency)}))
        return rows

    @staticmethod
    def _jobs(ov: ClientOverview) -> list[tuple[int, Cells]]:
        return [(j.id, {"number": render.plain(j.number), "title": render.plain(j.title),
                        "status": render.plain(render.status(j.status)),
                        "total": render.money(j.total_cents, j.currency)}) for j in ov.jobs]

    @staticmethod
    def _invoices(ov: ClientOverview) -> list[tuple[int, Cells]]:
        rows = []
        for i in ov.invoices:
            due = f"due {_date(i.due_date)}" if i.due_date else ""
            if i.overdue:
                due += f" ({i.days_overdue} days late)"
            rows.append((i.id, {
                "number": render.plain(i.number or "draft", style="" if i.number else "dim"),
                "status": render.plain(render.status(i.status), style="bold" if i.overdue else ""),
                "due": _dim(due), "total": render.money(i.total_cents, i.currency),
                "balance": render.money(i.balance_cents, i.currency)}))
        return rows

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
