"""The dialogs of an invoice's money: record a payment, refund one, issue a credit note, void;
and :class:`FormDialog`, the small form-in-a-dialog the task and schedule dialogs share.

A dialog checks each field as the user leaves it and again on save (``ctrl+s``, or ``enter``
in a one-line field), with the service's own rules; the service call then runs in a thread
worker and writes everything or nothing. A refusal is shown under the field it names (or at
the top when it names none) and as a notification; the dialog stays open with what was
typed. ``escape`` on a dialog with changes asks before discarding them.

Decisions where the issue is silent: amounts start at what is owed (the balance; for a refund
what is left of the chosen payment), dates at today. Dates may be typed as ``2026-03-31``,
``today``, ``tomorrow``, ``yesterday``, ``+3`` / ``-2`` (days), ``+2w`` (weeks) or a weekday
name (``fri``: the next Friday after today). A Stripe payment is recorded by the Stripe
integration, not typed here, so the methods offered are cash, check, bank transfer and card.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from core import business, credit_notes, invoices, money, payments, validate
from core.errors import DomainError, ValidationError
from core.records import InvoiceView, PaymentView
from core.reports import JobToInvoice, jobs_to_invoice
from tui import render
from tui.drafts import DraftForm
from tui.screens.base import CrmModal
from tui.screens.cancel_form import cancel_form

ResultT = TypeVar("ResultT")

PAYMENT_METHODS: tuple[tuple[str, str], ...] = (
    ("Cash", "cash"),
    ("Check", "check"),
    ("Bank transfer", "bank"),
    ("Card", "card"),
)
METHOD_NAMES = {"cash": "cash", "check": "check", "bank": "bank transfer", "card": "card",
                "stripe": "Stripe", "credit": "client credit"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSET = re.compile(r"^([+-])\s*(\d{1,4})\s*([dw]?)$")
DATE_HINT = "e.g. 2026-03-31, today, tomorrow, +3, fri"


def parse_day(text: str, today: dt.date, field: str) -> dt.date | None:
    """A day as people type it (see the module docstring); None when left empty."""
    value = " ".join(text.strip().lower().split())
    if not value:
        return None
    if value in ("today", "tod", "now"):
        return today
    if value in ("tomorrow", "tom", "tmr"):
        return today + dt.timedelta(days=1)
    if value in ("yesterday", "yest"):
        return today - dt.timedelta(days=1)
    match = _OFFSET.match(value)
    if match:
        sign, number, unit = match.groups()
        days = int(number) * (7 if unit == "w" else 1)
        return today + dt.timedelta(days=days if sign == "+" else -days)
    if len(value) >= 3 and value.isalpha():
        for index, name in enumerate(WEEKDAYS):
            if name.startswith(value):
                ahead = (index - today.weekday() - 1) % 7 + 1  # 1..7: never today itself
                return today + dt.timedelta(days=ahead)
    try:
        return validate.parse_date(value, field)
    except ValidationError:
        raise ValidationError(field, f"'{text.strip()[:30]}' is not a date ({DATE_HINT})") from None


def amount_text(cents: int) -> str:
    """Cents as an amount field starts with: ``1234.50`` (no symbol, no separators)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def field_values(root: DOMNode) -> tuple[object, ...]:
    """What the fields under ``root`` hold, in order: compared with the values they started
    with, it says whether a form has unsaved changes."""
    out: list[object] = []
    for widget in root.query("Input, Select, TextArea, Checkbox").results():
        if isinstance(widget, Input):
            out.append(widget.value)
        elif isinstance(widget, TextArea):
            out.append(widget.text)
        elif isinstance(widget, Select | Checkbox):
            out.append(widget.value)
    return tuple(out)


def form_bindings(prefix: str) -> list[Binding]:
    return [
        Binding("ctrl+s", "save", "Save", id=f"{prefix}.save"),
        Binding("escape", "cancel", "Cancel", id=f"{prefix}.cancel"),
    ]


class FormDialog(DraftForm, CrmModal[ResultT], Generic[ResultT]):
    """A form in a dialog: rows of label, field and the field's error line.

    A subclass with a ``DRAFT_KIND`` keeps its unsaved changes as a draft (:mod:`tui.drafts`;
    it implements ``draft_values``/``apply_draft`` and :meth:`draft_record_id`); the money
    dialogs do not: they hold a few fields typed in seconds.

    Subclasses yield rows with :meth:`row`, and implement :meth:`gather` (what was typed, as
    the service's input; raises ValidationError), :meth:`submit` (runs in a thread and calls
    the service) and :meth:`succeeded` (on the UI thread, with what ``submit`` returned and
    what was sent).
    ``check_field`` validates one field as the user leaves it.
    """

    CSS_PATH = ["dialogs.tcss", "invoice_dialogs.tcss"]
    TEXT_ENTRY = True
    FORM_TITLE = ""
    WHAT = "changes"  # "Discard this <WHAT>?"
    BINDINGS = form_bindings("form")

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self._fields: dict[str, str] = {}  # validation field name -> widget id
        self._initial: tuple[object, ...] | None = None
        self._saving = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Label(self.form_title(), markup=False, classes="dialog-title")
            intro = self.intro()
            if intro is not None:
                yield Static(intro, classes="dialog-question form-intro")
            yield from self.form_rows()
            yield Label("", id="dialog-error", classes="field-error form-error", markup=False)
            save = self.crm.key_for(f"{self._prefix()}.save", "ctrl+s")
            cancel = self.crm.key_for(f"{self._prefix()}.cancel", "escape")
            yield Label(f"enter or {save} saves · {cancel} cancels · tab moves between fields",
                        markup=False, classes="dialog-hint")

    def _prefix(self) -> str:
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id and binding.id.endswith(".save"):
                return binding.id.rsplit(".", 1)[0]
        return "form"

    def form_title(self) -> str:
        return self.FORM_TITLE

    def intro(self) -> Content | Text | None:
        return None

    def form_rows(self) -> ComposeResult:
        raise NotImplementedError
        yield  # pragma: no cover

    def row(self, field: str, label: str, widget: Widget, *,
            extra: Iterable[Widget] = ()) -> ComposeResult:
        """One labelled field; ``field`` is the name the service's errors use for it."""
        assert widget.id is not None
        self._fields[field] = widget.id
        with Horizontal(classes="form-row"):
            yield Label(label, markup=False, classes="field-label")
            yield widget
            yield from extra
        yield Label("", id=f"{widget.id}-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.crm.open_forms.add(self)
        self.prepare()

    def prepare(self) -> None:
        """Fill the fields; a dialog that reads first does so in a worker, then calls
        :meth:`ready`."""
        self.ready()

    def ready(self) -> None:
        """The fields hold their starting values: remember them, focus the first field."""
        self._initial = self.values()
        first = next(iter(self.query("Input, Select, TextArea, Checkbox").results()), None)
        if first is not None:
            first.focus()
        if self.DRAFT_KIND:
            self.call_later(self.draft_ready, self.draft_record_id())

    def draft_record_id(self) -> int | None:
        """The record the dialog edits (its draft goes back onto it), None for a new one."""
        return None

    def on_unmount(self) -> None:
        self.crm.open_forms.discard(self)

    # ------------------------------------------------------------------ state

    def text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def values(self) -> tuple[object, ...]:
        return field_values(self)

    @property
    def is_dirty(self) -> bool:
        return self._initial is not None and self.values() != self._initial

    def gather(self) -> Any:
        raise NotImplementedError

    def submit(self, payload: Any) -> Any:
        raise NotImplementedError

    def succeeded(self, result: Any, payload: Any) -> None:
        self.dismiss(result)

    def check_field(self, widget_id: str, value: str) -> None:
        """Raise ValidationError when one field, on its own, is wrong (as you go)."""

    # ------------------------------------------------------------------ errors

    def field_error(self, widget_id: str, message: str) -> None:
        try:
            label = self.query_one(f"#{widget_id}-error", Label)
        except Exception:
            return
        label.update(message)
        label.display = bool(message)
        self.query_one(f"#{widget_id}").set_class(bool(message), "-error")

    def _widget_for(self, field: str) -> str | None:
        if field in self._fields:
            return self._fields[field]
        for name, widget_id in self._fields.items():  # "line 2 amount" style names
            if field.startswith(name):
                return widget_id
        return None

    def show_error(self, error: DomainError) -> None:
        """Under the field the error names (or at the top), and as a notification."""
        message = render.error_text(error)
        widget_id = self._widget_for(error.field) if isinstance(error, ValidationError) else None
        form_error = self.query_one("#dialog-error", Label)
        if widget_id is not None:
            self.field_error(widget_id, message)
            form_error.display = False
            self.query_one(f"#{widget_id}").focus()
        else:
            form_error.update(message)
            form_error.display = True
        self.notice(message, severity="error", title="Not saved")

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        if event.input.has_class("-error") and event.input.id:
            self.field_error(event.input.id, "")  # the user is fixing it

    @on(Input.Blurred)
    def _check_as_you_go(self, event: Input.Blurred) -> None:
        if self._initial is None or self._saving or not event.input.id:
            return
        try:
            self.check_field(event.input.id, event.value)
        except ValidationError as exc:
            self.field_error(event.input.id, render.error_text(exc))

    # ------------------------------------------------------------------ actions

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self._saving or self._initial is None:
            return
        try:
            payload = self.gather()
        except ValidationError as exc:
            self.show_error(exc)
            return
        self._saving = True
        self.query_one("#dialog-error", Label).display = False
        self._run(payload)

    @work(thread=True, exclusive=True, group="form-dialog", exit_on_error=False)
    def _run(self, payload: Any) -> None:
        try:
            result = self.submit(payload)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._done, result, payload)

    def _failed(self, error: DomainError) -> None:
        self._saving = False
        self.show_error(error)

    def _done(self, result: Any, payload: Any) -> None:
        self._saving = False
        self._initial = self.values()
        self.draft_finished()
        self.crm.note_data_changed()
        self.succeeded(result, payload)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "form-dialog":
            self._saving = False  # an unexpected failure: the app reports it; let them retry
        super().on_worker_state_changed(event)

    def action_cancel(self) -> None:
        cancel_form(self, f"Discard this {self.WHAT}?")


# --------------------------------------------------------------------------- invoice money


class _InvoiceDialog(FormDialog[int]):
    """A dialog about one invoice, dated from the app's today."""

    def __init__(self, view: InvoiceView, today: dt.date) -> None:
        super().__init__()
        self.view = view
        self.today = today

    def money(self, cents: int) -> str:
        return money.format_money(cents, self.view.currency)

    def day(self, widget_id: str, field: str) -> dt.date:
        return parse_day(self.text(widget_id), self.today, field) or self.today

    def check_field(self, widget_id: str, value: str) -> None:
        if widget_id in ("pay-amount", "refund-amount", "credit-amount"):
            money.parse_money(value, "amount", allow_zero=False)
        elif widget_id.endswith("-date"):
            parse_day(value, self.today, "date")


class RecordPaymentDialog(_InvoiceDialog):
    """Money received on an issued invoice; dismisses with the payment id."""

    WHAT = "payment"
    BINDINGS = form_bindings("invoice_payment")

    def form_title(self) -> str:
        return f"Record a payment on {render.one_line(self.view.label)}"

    def intro(self) -> Content:
        return Content.assemble(
            (render.one_line(self.view.client_name), "bold"),
            ("  ·  still owed ", "dim"),
            (self.money(self.view.balance_cents), "bold"),
        )

    def form_rows(self) -> ComposeResult:
        yield from self.row(
            "amount", "Amount",
            Input(amount_text(self.view.balance_cents), id="pay-amount", compact=True,
                  classes="amount"),
            extra=[Label("", id="pay-after", markup=False, classes="field-note")],
        )
        yield from self.row("method", "Method", Select(PAYMENT_METHODS, value="cash",
                                                      allow_blank=False, id="pay-method",
                                                      compact=True))
        yield from self.row("received on", "Received",
                            Input(self.today.isoformat(), id="pay-date", compact=True,
                                  placeholder=DATE_HINT))
        yield from self.row("reference", "Reference",
                            Input(id="pay-reference", compact=True,
                                  placeholder="check number, transfer reference…"))
        yield from self.row("overpayment", "",
                            Checkbox("Keep any amount over what is owed as client credit",
                                     False, id="pay-credit", compact=True))

    def on_mount(self) -> None:
        super().on_mount()
        self._show_after(self.text("pay-amount"))

    @on(Input.Changed, "#pay-amount")
    def _amount_changed(self, event: Input.Changed) -> None:
        self._show_after(event.value)

    def _show_after(self, typed: str) -> None:
        """What the balance becomes, so an overpayment is seen before it is refused."""
        note = self.query_one("#pay-after", Label)
        try:
            cents = money.parse_money(typed, "amount", allow_zero=False)
        except ValidationError:
            note.update("")
            return
        left = self.view.balance_cents - cents
        if left >= 0:
            note.update(f"leaves {self.money(left)} owed")
            note.set_class(False, "-over")
        else:
            note.update(f"{self.money(-left)} more than owed")
            note.set_class(True, "-over")

    def gather(self) -> tuple[int, str, dt.date, str, str]:
        amount = money.parse_money(self.text("pay-amount"), "amount", allow_zero=False)
        method = self.query_one("#pay-method", Select).value
        on_day = self.day("pay-date", "received on")
        overpay = "credit" if self.query_one("#pay-credit", Checkbox).value else "refuse"
        return amount, str(method), on_day, self.text("pay-reference"), overpay

    def submit(self, payload: tuple[int, str, dt.date, str, str]) -> int:
        amount, method, on_day, reference, overpay = payload
        return payments.record_payment(self.db, self.view.id, amount, method, on_day, reference,
                                       overpay)

    def succeeded(self, result: int, payload: tuple[int, str, dt.date, str, str]) -> None:
        amount, method, *_rest = payload
        self.notice(f"Recorded a {METHOD_NAMES.get(method, method)} payment of "
                    f"{self.money(amount)} on {render.one_line(self.view.label)}.")
        self.dismiss(result)


def payment_choice(view: InvoiceView, payment: PaymentView) -> Text:
    fmt = money.format_money
    text = (f"{payment.received_on.isoformat()}  {METHOD_NAMES.get(payment.method, payment.method)}"
            f"  {fmt(payment.amount_cents, view.currency)}")
    if payment.refunded_cents:
        text += f" ({fmt(payment.refundable_cents, view.currency)} left)"
    if payment.reference:
        text += f"  {render.one_line(payment.reference)}"
    return render.plain(text)


class RefundDialog(_InvoiceDialog):
    """Give back part or all of one payment; dismisses with the refund id."""

    WHAT = "refund"
    BINDINGS = form_bindings("invoice_refund")

    def __init__(self, view: InvoiceView, today: dt.date) -> None:
        super().__init__(view, today)
        self._choices = {p.id: p for p in view.refundable_payments}
        self._default_amount = ""

    def form_title(self) -> str:
        return f"Refund a payment on {render.one_line(self.view.label)}"

    def intro(self) -> Content:
        return Content.assemble(
            (render.one_line(self.view.client_name), "bold"),
            ("  ·  paid so far ", "dim"), (self.money(self.view.paid_cents), "bold"),
            ("\nA refund puts the amount back on what is owed.", "dim"),
        )

    def form_rows(self) -> ComposeResult:
        first = next(iter(self._choices.values()))
        self._default_amount = amount_text(first.refundable_cents)
        options = [(payment_choice(self.view, p), p.id) for p in self._choices.values()]
        yield from self.row("payment", "Payment", Select(options, value=first.id,
                                                        allow_blank=False, id="refund-payment",
                                                        compact=True))
        yield from self.row("amount", "Amount", Input(self._default_amount, id="refund-amount",
                                                      compact=True, classes="amount"))
        yield from self.row("refunded on", "Refunded",
                            Input(self.today.isoformat(), id="refund-date", compact=True,
                                  placeholder=DATE_HINT))
        yield from self.row("reason", "Reason", Input(id="refund-reason", compact=True,
                                                      placeholder="optional"))

    @on(Select.Changed, "#refund-payment")
    def _payment_changed(self, event: Select.Changed) -> None:
        payment = self._choices.get(event.value) if isinstance(event.value, int) else None
        if payment is None:
            return
        amount = self.query_one("#refund-amount", Input)
        if amount.value == self._default_amount:  # not typed over: follow the payment
            self._default_amount = amount_text(payment.refundable_cents)
            amount.value = self._default_amount

    def gather(self) -> tuple[int, int, str, dt.date]:
        payment_id = self.query_one("#refund-payment", Select).value
        if not isinstance(payment_id, int):
            raise ValidationError("payment", "choose the payment to refund")
        amount = money.parse_money(self.text("refund-amount"), "amount", allow_zero=False)
        return payment_id, amount, self.text("refund-reason"), self.day("refund-date", "refunded on")

    def submit(self, payload: tuple[int, int, str, dt.date]) -> int:
        payment_id, amount, reason, on_day = payload
        return payments.refund(self.db, payment_id, amount, reason, on_day)

    def succeeded(self, result: int, payload: tuple[int, int, str, dt.date]) -> None:
        self.notice(f"Refunded {self.money(payload[1])} on "
                    f"{render.one_line(self.view.label)}.")
        self.dismiss(result)


class CreditNoteDialog(_InvoiceDialog):
    """Reduce what an issued invoice asks for; dismisses with the credit note id."""

    WHAT = "credit note"
    BINDINGS = form_bindings("invoice_credit_note")

    def form_title(self) -> str:
        return f"Credit note for {render.one_line(self.view.label)}"

    def intro(self) -> Content:
        return Content.assemble(
            (render.one_line(self.view.client_name), "bold"),
            ("  ·  still owed ", "dim"), (self.money(self.view.balance_cents), "bold"),
            ("\nA credit note lowers what is owed. For the whole balance, with nothing paid, "
             "it voids the invoice.", "dim"),
        )

    def form_rows(self) -> ComposeResult:
        yield from self.row("amount", "Amount",
                            Input(amount_text(self.view.balance_cents), id="credit-amount",
                                  compact=True, classes="amount"))
        yield from self.row("reason", "Reason",
                            Input(id="credit-reason", compact=True,
                                  placeholder="printed on the credit note"))
        yield from self.row("issued on", "Dated",
                            Input(self.today.isoformat(), id="credit-date", compact=True,
                                  placeholder=DATE_HINT))

    def gather(self) -> tuple[int, str, dt.date]:
        amount = money.parse_money(self.text("credit-amount"), "amount", allow_zero=False)
        return amount, self.text("credit-reason"), self.day("credit-date", "issued on")

    def submit(self, payload: tuple[int, str, dt.date]) -> int:
        amount, reason, on_day = payload
        return credit_notes.issue_credit_note(self.db, self.view.id, amount, reason,
                                              issued_on=on_day)

    def succeeded(self, result: int, payload: tuple[int, str, dt.date]) -> None:
        self.notice(f"Issued a credit note for {self.money(payload[0])} on "
                    f"{render.one_line(self.view.label)}.")
        self.dismiss(result)


class VoidDialog(_InvoiceDialog):
    """Void an issued invoice with a credit note for its whole balance."""

    WHAT = "void"
    BINDINGS = form_bindings("invoice_void")

    def form_title(self) -> str:
        return f"Void {render.one_line(self.view.label)}"

    def intro(self) -> Content:
        return Content.assemble(
            "A credit note for the whole ",
            (self.money(self.view.balance_cents), "bold"),
            " owed is issued and the invoice becomes void. Its number stays used",
            "; the job's work can be invoiced again." if self.view.job_id else ".",
        )

    def form_rows(self) -> ComposeResult:
        yield from self.row("reason", "Reason", Input(id="void-reason", compact=True,
                                                      placeholder="printed on the credit note"))
        yield from self.row("issued on", "Dated", Input(self.today.isoformat(), id="void-date",
                                                        compact=True, placeholder=DATE_HINT))

    def gather(self) -> tuple[str, dt.date]:
        return self.text("void-reason"), self.day("void-date", "issued on")

    def submit(self, payload: tuple[str, dt.date]) -> int | None:
        reason, on_day = payload
        return credit_notes.void(self.db, self.view.id, reason, issued_on=on_day,
                                 expected_version=self.view.version)

    def succeeded(self, result: int | None, payload: tuple[str, dt.date]) -> None:
        self.notice(f"Voided {render.one_line(self.view.label)}.")
        self.dismiss(result)


# --------------------------------------------------------------------------- from a job


class JobPickerDialog(CrmModal[int]):
    """Pick a job that is ready to invoice (:func:`core.reports.jobs_to_invoice`); the
    draft is created from it and the dialog dismisses with the new invoice's id."""

    CSS_PATH = ["dialogs.tcss", "invoice_dialogs.tcss"]
    HELP_TITLE = "Invoice a job"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="invoice_from_job.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self._jobs: list[JobToInvoice] = []
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker-dialog"):
            yield Label("Invoice a job", markup=False, classes="dialog-title")
            yield Label("Jobs with finished work that has not been invoiced yet:",
                        markup=False, id="picker-status", classes="dialog-question")
            yield OptionList(id="picker-jobs", compact=True)
            yield Label("enter creates a draft invoice from the job · escape cancels",
                        markup=False, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#picker-jobs").loading = True
        self._load()

    @work(thread=True, exclusive=True, group="job-picker", exit_on_error=False)
    def _load(self) -> None:
        rows = jobs_to_invoice(self.db)
        currency = business.load(self.db, "business")["currency"]
        self.app.call_from_thread(self._show, rows, currency)

    def _show(self, rows: list[JobToInvoice], currency: str) -> None:
        self._jobs = rows
        options = self.query_one("#picker-jobs", OptionList)
        options.loading = False
        for job in rows:
            prompt = Text(no_wrap=True, overflow="ellipsis", end="")
            prompt.append(render.one_line(job.number), style="bold")
            prompt.append(f"  {render.one_line(job.title)}  ")
            prompt.append(render.one_line(job.client_name), style="dim")
            what = (f"{job.visits_to_invoice} visit{'s' if job.visits_to_invoice != 1 else ''}"
                    if job.billing == "per_visit" else "completed")
            prompt.append(f"  ·  {what}  about {money.format_money(job.estimate_cents, currency)}",
                          style="dim")
            options.add_option(Option(prompt, id=str(job.job_id)))
        if not rows:
            self.query_one("#picker-status", Label).update(
                "No job is waiting to be invoiced. Complete a job's work first, or press "
                "escape and create a blank invoice.")
        else:
            options.highlighted = 0
            options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if self._busy or event.option.id is None:
            return
        self._busy = True
        self._create(int(event.option.id))

    @work(thread=True, exclusive=True, group="job-picker-create", exit_on_error=False)
    def _create(self, job_id: int) -> None:
        try:
            invoice_id = invoices.create_from_job(self.db, job_id)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._created, invoice_id)

    def _failed(self, error: DomainError) -> None:
        self._busy = False
        self.notice(render.error_text(error), severity="error", title="Not created")

    def _created(self, invoice_id: int) -> None:
        self.crm.note_data_changed()
        key = self.crm.key_for("invoice.issue", "i")
        self.notice(f"Created a draft invoice from the job. Check it, then press {key} to issue it.")
        self.dismiss(invoice_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self._busy = False
        super().on_worker_state_changed(event)

    def action_cancel(self) -> None:
        self.dismiss(None)
