"""One invoice: its lines and totals, payments, refunds and credit notes, with the balance
always in view (it stays at the top while the rest scrolls), read by
:func:`core.records.invoice_view`.

Every action is one key: ``i`` issue (the number appears), ``p`` record a payment, ``r``
refund, ``c`` credit note, ``v`` void, ``a`` apply the client's credit, ``e`` edit and ``d``
delete a draft, ``o`` open the client. The bottom line shows the keys that make sense for the
invoice's state; the others still answer, with the reason the lifecycle refuses them
(:func:`core.records.invoice_refusal`), and change nothing. Issuing, deleting and applying
credit ask first; the money actions open a dialog (:mod:`tui.screens.invoice_dialogs`).

``l`` opens the invoice's Stripe payment link (made on first use, in a thread worker) in a
small dialog where ``c`` copies it (OSC 52, :meth:`App.copy_to_clipboard`); ``m`` opens "Text
the client" (:mod:`tui.screens.sms_dialog`) with the invoice-link template. Decision: the link
is shown in a dialog rather than on the screen, because ``c`` already means credit note here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from core import invoices, licensing, payments, tiers
from core.errors import DomainError, NotFound
from core.money import format_money
from core.payment_links import LinkView
from core.records import INVOICE_ACTIONS, InvoiceView, invoice_refusal, invoice_view
from tui import render
from tui.screens.base import CrmModal, CrmScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.invoice_dialogs import (
    METHOD_NAMES,
    CreditNoteDialog,
    RecordPaymentDialog,
    RefundDialog,
    VoidDialog,
)
from tui.screens.invoice_form import InvoiceFormScreen
from tui.screens.sms_dialog import SmsDialog, app_secrets, problem_text
from tui.widgets.key_hints import KeyHints
from tui.widgets.section_bar import SectionBar

# the screen's actions that the invoice's lifecycle may refuse (core.records.INVOICE_ACTIONS)
CHECKED_ACTIONS = frozenset(INVOICE_ACTIONS)


def quantity_text(value: Decimal) -> str:
    """``2``, ``1.5``: a quantity without trailing zeros or an exponent."""
    return format(value.normalize(), "f")


def percent_text(value: Decimal) -> str:
    return f"{quantity_text(value)}%" if value else ""


def _table(*columns: tuple[str, dict[str, Any]]) -> Table:
    table = Table(box=None, show_header=True, header_style="dim", padding=(0, 2, 0, 0),
                  expand=True)
    for name, options in columns:
        table.add_column(name, no_wrap=True, overflow="ellipsis", **options)
    return table


class ActionHints(KeyHints):
    """The key hints, without the actions the screen says make no sense right now (their
    keys still work and say why they are refused)."""

    def refresh_hints(self) -> None:
        rows = self.app.hint_rows(self.screen)  # type: ignore[attr-defined]
        hidden = getattr(self.screen, "hidden_hints", lambda: set())()
        parts: list[str | tuple[str, str]] = []
        for key, description in rows:
            if description in hidden:
                continue
            parts += [(f" {key} ", "$footer-key-foreground bold"), f"{description} "]
        self.update(Content.assemble(*parts))


class InvoiceDetailScreen(CrmScreen[None]):
    CSS_PATH = "invoice_detail.tcss"
    HELP_TITLE = "Invoice"
    BINDINGS = [
        Binding("escape", "back", "Back", id="invoice.back"),
        Binding("e", "edit", "Edit", id="invoice.edit"),
        Binding("i", "issue", "Issue", id="invoice.issue"),
        Binding("p", "payment", "Payment", id="invoice.payment"),
        Binding("r", "refund", "Refund", id="invoice.refund"),
        Binding("c", "credit_note", "Credit note", id="invoice.credit_note"),
        Binding("v", "void", "Void", id="invoice.void"),
        Binding("a", "apply_credit", "Apply credit", id="invoice.apply_credit"),
        Binding("d", "delete", "Delete", id="invoice.delete"),
        Binding("o", "open_client", "Client", id="invoice.client"),
        Binding("l", "payment_link", "Pay link", id="invoice.payment_link"),
        Binding("m", "text_client", "Text", id="invoice.text_client"),
    ]

    def __init__(self, invoice_id: int) -> None:
        super().__init__()
        self.invoice_id = invoice_id
        self.view: InvoiceView | None = None
        self._busy = False
        self._seen_data_version = -1

    def compose(self) -> ComposeResult:
        yield SectionBar("invoices")
        with Vertical(id="inv-top"):
            yield Static(id="inv-header")
            yield Static(id="inv-balance")
        with VerticalScroll(id="inv-detail"):
            for name in ("lines", "payments", "refunds", "credit-notes", "notes"):
                yield Static(id=f"inv-{name}", classes="detail-section")
        yield ActionHints()

    def on_mount(self) -> None:
        self.query_one("#inv-detail").focus()
        self.query_one("#inv-detail").loading = True

    def on_screen_resume(self) -> None:
        if self._seen_data_version != self.crm.data_version:
            self._seen_data_version = self.crm.data_version
            self.load()

    # ------------------------------------------------------------------ what a task links to

    def task_link(self) -> tuple[str, int] | None:
        return ("invoice", self.invoice_id)

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="invoice-detail", exit_on_error=False)
    def load(self) -> None:
        try:
            view = invoice_view(self.db, self.invoice_id, today=self.crm.today)
        except NotFound as exc:
            self.app.call_from_thread(self._gone, exc)
            return
        self.app.call_from_thread(self._show, view)

    def _gone(self, error: NotFound) -> None:
        self.notice(str(error), severity="error")
        self.dismiss(None)

    def _show(self, view: InvoiceView) -> None:
        self.view = view
        self.query_one("#inv-detail").loading = False
        self.query_one("#inv-header", Static).update(self._header(view))
        self.query_one("#inv-balance", Static).update(self._balance(view))
        self._section("lines", f"Lines ({len(view.lines)})", self._lines(view))
        self._section("payments", f"Payments ({len(view.payments)})", self._payments(view))
        self._section("refunds", f"Refunds ({len(view.refunds)})", self._refunds(view))
        self._section("credit-notes", f"Credit notes ({len(view.credit_notes)})",
                      self._credit_notes(view))
        self._section("notes", "Terms and notes", self._notes(view))
        self.refresh_bindings()
        self.query_one(ActionHints).refresh_hints()

    def hidden_hints(self) -> set[str]:
        """Descriptions of the actions the invoice's state refuses (see ActionHints)."""
        if self.view is None:
            return {b.description for b in self.BINDINGS
                    if isinstance(b, Binding) and b.action in CHECKED_ACTIONS}
        return {
            b.description for b in self.BINDINGS
            if isinstance(b, Binding) and b.action in CHECKED_ACTIONS
            and invoice_refusal(self.view, b.action) is not None
        }

    def _section(self, name: str, title: str, body: object | None) -> None:
        widget = self.query_one(f"#inv-{name}", Static)
        widget.border_title = title if body is not None else None
        widget.update(body if body is not None else Content(f"{title.split(' (')[0]}: none"))  # type: ignore[arg-type]
        widget.set_class(body is None, "-empty")

    # ------------------------------------------------------------------ parts

    def _money(self, cents: int) -> str:
        assert self.view is not None
        return format_money(cents, self.view.currency)

    @staticmethod
    def _header(v: InvoiceView) -> Content:
        title = v.number or "Draft invoice"
        parts: list[str | tuple[str, str]] = [(render.one_line(title), "bold")]
        if v.status != "draft":  # "Draft invoice" says it already
            status = render.status(v.status)
            parts.append(("  " + status, "bold $text-error" if v.days_overdue else "bold"))
        if v.kind == "deposit":
            parts.append(("  deposit", "dim"))
        parts += [("  ·  ", "dim"), render.one_line(v.client_name)]
        facts = []
        if v.issue_date:
            facts.append(f"issued {v.issue_date.isoformat()}")
        else:
            facts.append("no number until it is issued")
        if v.due_date:
            facts.append(f"due {v.due_date.isoformat()}")
        else:
            facts.append(f"due {v.terms_days} days after issue")
        if v.job_number:
            facts.append(f"from job {render.one_line(v.job_number)}")
        parts.append(("\n" + " · ".join(facts), "dim"))
        return Content.assemble(*parts)

    def _balance(self, v: InvoiceView) -> Content:
        m = self._money
        if v.status == "draft":
            return Content.assemble(("Total ", "dim"), (m(v.total_cents), "bold"),
                                    ("  ·  nothing is owed until it is issued", "dim"))
        parts: list[str | tuple[str, str]] = [
            ("Total ", "dim"), m(v.total_cents),
            ("  Paid ", "dim"), m(v.paid_cents),
        ]
        if v.credited_cents:
            parts += [("  Credited ", "dim"), m(v.credited_cents)]
        parts += [("  Balance ", "dim"), (m(v.balance_cents), "bold")]
        if v.days_overdue:
            days = "day" if v.days_overdue == 1 else "days"
            parts += ["  ", (f" {v.days_overdue} {days} overdue ", "bold $text-error reverse")]
        if v.client_credit_cents > 0:
            key = self.crm.key_for("invoice.apply_credit", "a")
            parts += [("  ·  credit ", "dim"), m(v.client_credit_cents)]
            if invoice_refusal(v, "apply_credit") is None:
                parts.append((f", {key} applies it", "dim"))
        return Content.assemble(*parts)

    def _lines(self, v: InvoiceView) -> Table | None:
        if not v.lines:
            return None
        m = self._money
        table = _table(("Description", {"ratio": 1}), ("Qty", {"justify": "right"}),
                       ("Price", {"justify": "right"}), ("Tax", {"justify": "right"}),
                       ("Amount", {"justify": "right"}))
        for line in v.lines:
            table.add_row(render.plain(line.description), render.plain(quantity_text(line.quantity)),
                          render.plain(m(line.unit_price_cents)),
                          render.plain(percent_text(line.tax_rate)),
                          render.plain(m(line.total_cents)))
        table.add_row()
        table.add_row(Text("Subtotal", style="dim", justify="right"), "", "", "",
                      render.plain(m(v.subtotal_cents)))
        if v.discount_cents:
            table.add_row(Text("Discount", style="dim", justify="right"), "", "", "",
                          render.plain(m(-v.discount_cents)))
        table.add_row(Text("Tax", style="dim", justify="right"), "", "", "",
                      render.plain(m(v.tax_cents)))
        table.add_row(Text("Total", style="bold", justify="right"), "", "", "",
                      render.plain(m(v.total_cents), style="bold"))
        return table

    def _payments(self, v: InvoiceView) -> Table | None:
        if not v.payments:
            return None
        m = self._money
        table = _table(("Received", {}), ("Method", {}), ("Reference", {"ratio": 1}),
                       ("Amount", {"justify": "right"}), ("Refunded", {"justify": "right"}))
        for p in v.payments:
            table.add_row(render.plain(p.received_on.isoformat()),
                          render.plain(METHOD_NAMES.get(p.method, p.method)),
                          render.plain(p.reference), render.plain(m(p.amount_cents)),
                          render.plain(m(p.refunded_cents) if p.refunded_cents else "",
                                       style="dim"))
        return table

    def _refunds(self, v: InvoiceView) -> Table | None:
        if not v.refunds:
            return None
        table = _table(("Refunded", {}), ("Reason", {"ratio": 1}),
                       ("Amount", {"justify": "right"}))
        for r in v.refunds:
            table.add_row(render.plain(r.refunded_on.isoformat()), render.plain(r.reason),
                          render.plain(self._money(r.amount_cents)))
        return table

    def _credit_notes(self, v: InvoiceView) -> Table | None:
        if not v.credit_notes:
            return None
        table = _table(("Number", {}), ("Dated", {}), ("Reason", {"ratio": 1}),
                       ("Amount", {"justify": "right"}))
        for c in v.credit_notes:
            reason = c.reason + ("  (voided the invoice)" if c.voids_invoice else "")
            table.add_row(render.plain(c.number), render.plain(c.issued_on.isoformat()),
                          render.plain(reason), render.plain(self._money(c.amount_cents)))
        return table

    @staticmethod
    def _notes(v: InvoiceView) -> Content | None:
        if not v.terms and not v.notes:
            return None
        parts: list[str | tuple[str, str] | Content] = []
        if v.terms:
            parts += [("Terms: ", "dim"), render.paragraph(v.terms)]
        if v.notes:
            if parts:
                parts.append("\n")
            parts += [("Notes: ", "dim"), render.paragraph(v.notes)]
        return Content.assemble(*parts)

    # ------------------------------------------------------------------ actions

    def _refused(self, action: str) -> bool:
        """True (after saying why) when the invoice's state refuses ``action``."""
        if self.view is None or self._busy:
            return True
        reason = invoice_refusal(self.view, action)
        if reason is not None:
            self.notice(render.one_line(reason), severity="warning", title="Not possible")
            return True
        return False

    def action_back(self) -> None:
        self.dismiss(None)

    def action_open_client(self) -> None:
        if self.view is not None:
            self.crm.open_client(self.view.client_id)

    def action_payment_link(self) -> None:
        if self.view is not None:
            self.app.push_screen(PaymentLinkDialog(self.invoice_id))

    def action_text_client(self) -> None:
        if self.view is not None:
            self.app.push_screen(SmsDialog("invoice", self.invoice_id, "invoice_link"))

    def action_edit(self) -> None:
        if self._refused("edit"):
            return
        self.app.push_screen(InvoiceFormScreen(invoice_id=self.invoice_id))

    def action_payment(self) -> None:
        if not self._refused("payment"):
            assert self.view is not None
            self.app.push_screen(RecordPaymentDialog(self.view, self.crm.today))

    def action_refund(self) -> None:
        if not self._refused("refund"):
            assert self.view is not None
            self.app.push_screen(RefundDialog(self.view, self.crm.today))

    def action_credit_note(self) -> None:
        if not self._refused("credit_note"):
            assert self.view is not None
            self.app.push_screen(CreditNoteDialog(self.view, self.crm.today))

    def action_void(self) -> None:
        if not self._refused("void"):
            assert self.view is not None
            self.app.push_screen(VoidDialog(self.view, self.crm.today))

    def action_issue(self) -> None:
        if self._refused("issue"):
            return
        view = self.view
        assert view is not None
        question = (f"Issue this invoice for {self._money(view.total_cents)}? It gets the next "
                    f"invoice number, is dated {self.crm.today.isoformat()} and can no longer "
                    "be edited.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._busy = True
                self._issue(view.version)

        self.app.push_screen(ConfirmScreen(question, yes="Issue", no="Not yet"), answered)

    def action_delete(self) -> None:
        if self._refused("delete"):
            return
        view = self.view
        assert view is not None

        def answered(yes: bool | None) -> None:
            if yes:
                self._busy = True
                self._delete(view.version)

        self.app.push_screen(
            ConfirmScreen("Delete this draft invoice? Work it took from a job can be invoiced "
                          "again.", yes="Delete", no="Keep it"),
            answered,
        )

    def action_apply_credit(self) -> None:
        if self._refused("apply_credit"):
            return
        view = self.view
        assert view is not None
        amount = min(view.client_credit_cents, view.balance_cents)

        def answered(yes: bool | None) -> None:
            if yes:
                self._busy = True
                self._apply_credit()

        self.app.push_screen(
            ConfirmScreen(f"Pay {self._money(amount)} of {render.one_line(view.label)} from "
                          f"{render.one_line(view.client_name)}'s credit?", yes="Apply",
                          no="Cancel"),
            answered,
        )

    @work(thread=True, exclusive=True, group="invoice-action", exit_on_error=False)
    def _issue(self, version: int) -> None:
        try:
            number = invoices.issue(self.db, self.invoice_id, self.crm.today,
                                    expected_version=version)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._changed, f"Issued invoice {number}.")

    @work(thread=True, exclusive=True, group="invoice-action", exit_on_error=False)
    def _delete(self, version: int) -> None:
        try:
            invoices.delete_draft(self.db, self.invoice_id, expected_version=version)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._deleted)

    @work(thread=True, exclusive=True, group="invoice-action", exit_on_error=False)
    def _apply_credit(self) -> None:
        try:
            payments.apply_credit(self.db, self.invoice_id, applied_on=self.crm.today)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._changed, "Applied the client's credit.")

    def _failed(self, error: DomainError) -> None:
        self._busy = False
        self.notice(render.error_text(error), severity="error", title="Not done")
        self.load()

    def _changed(self, message: str) -> None:
        self._busy = False
        self.crm.note_data_changed()
        self._seen_data_version = self.crm.data_version
        self.notice(message)
        self.load()

    def _deleted(self) -> None:
        self._busy = False
        self.crm.note_data_changed()
        self.notice("Deleted the draft invoice.")
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "invoice-action":
            self._busy = False
        super().on_worker_state_changed(event)


STRIPE_FEATURE = "integrations.stripe"


class PaymentLinkDialog(CrmModal[None]):
    """The invoice's Stripe payment link for its balance (made if there is none yet) as text;
    ``c`` copies it. A locked tier, an invoice with nothing to collect or a Stripe error is
    shown in plain words instead."""

    CSS_PATH = ["dialogs.tcss", "sms_dialog.tcss"]
    BINDINGS = [
        Binding("c", "copy", "Copy", id="payment_link.copy"),
        Binding("escape", "close", "Close", id="payment_link.close"),
    ]

    def __init__(self, invoice_id: int) -> None:
        super().__init__(classes="dialog-screen")
        self.invoice_id = invoice_id
        self.link: LinkView | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog link-dialog"):
            yield Label("Payment link", classes="dialog-title")
            yield Static(id="link-url")
            yield Static(id="link-problem")
            yield Static(id="link-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#link-problem").display = False
        self.query_one("#link-url").loading = True
        self.load()

    @work(thread=True, exclusive=True, group="payment-link", exit_on_error=False)
    def load(self) -> None:
        from config.settings import ConfigError
        from integrations.http import IntegrationError
        from integrations.stripe_payments import StripeGateway, ensure_link

        tier = licensing.effective_tier(self.crm.app_files(), self.crm.config)
        locked = tiers.lock_reason(tier, STRIPE_FEATURE)
        if locked:
            self.app.call_from_thread(self._problem, locked)
            return
        try:
            gateway = StripeGateway.from_config(self.crm.config, app_secrets(self.app))
            try:
                link = ensure_link(self.db, gateway, tier, self.invoice_id)
            finally:
                gateway.close()
        except (DomainError, IntegrationError, ConfigError) as exc:
            self.app.call_from_thread(self._problem, problem_text(exc))
            return
        self.app.call_from_thread(self._show, link)

    def _show(self, link: LinkView) -> None:
        self.link = link
        self.crm.note_data_changed()  # the link is stored with the invoice
        url = self.query_one("#link-url", Static)
        url.loading = False
        url.update(Content.assemble((f"{link.amount_text} for {link.invoice_number}\n", "dim"),
                                    render.one_line(link.url or "")))
        copy, close = (self.crm.key_for("payment_link.copy", "c"),
                       self.crm.key_for("payment_link.close", "escape"))
        self.query_one("#link-hint", Static).update(Content.assemble(
            (copy, "bold"), " copies the link  ·  ", (close, "bold"), " closes"))

    def _problem(self, text: str) -> None:
        self.query_one("#link-url").display = False
        problem = self.query_one("#link-problem", Static)
        problem.update(render.paragraph(text))
        problem.display = True
        close = self.crm.key_for("payment_link.close", "escape")
        self.query_one("#link-hint", Static).update(Content.assemble((close, "bold"), " closes"))
        self.notice(render.one_line(text), severity="warning", title="No payment link")

    def action_copy(self) -> None:
        if self.link is not None and self.link.url:
            self.app.copy_to_clipboard(self.link.url)
            self.notice("Copied the payment link.")

    def action_close(self) -> None:
        self.dismiss(None)
