"""The repeatable blocks of the client form: one contact, one address.

Each block knows its stored ``id``/``version`` (None for a new one), gives back what was
typed as the service's dataclass, points at the input a validation error names
(``contact 2 email`` -> the email input of the second block sent) and shows that error
under itself. A block left completely empty is not sent: adding one by mistake costs nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from core.clients import AddressData, ContactData
from core.overview import AddressRow, ContactRow
from tui.render import one_line, phone


def _shown(value: str) -> str:
    """A stored value as the input starts with it (control characters never reach the terminal)."""
    return one_line(value)


def _field(label: str) -> Label:
    return Label(label, markup=False, classes="field-label")


class EntryEditor(Vertical):
    """Shared behaviour of the contact and address blocks."""

    kind_name = "entry"
    FIELDS: dict[str, str] = {}  # validation field suffix -> input id

    def __init__(self, number: int) -> None:
        super().__init__(classes="entry")
        self.number = number
        self.error = ""

    def on_mount(self) -> None:
        self.border_title = f"{self.kind_name.capitalize()} {self.number}"

    def renumber(self, number: int) -> None:
        self.number = number
        self.border_title = f"{self.kind_name.capitalize()} {number}"

    def input_for(self, suffix: str) -> Widget | None:
        widget_id = self.FIELDS.get(suffix)
        return self.query_one(f"#{widget_id}") if widget_id else None

    def show_error(self, message: str) -> None:
        self.error = message
        label = self.query_one(".field-error", Label)
        label.update(message)
        label.display = bool(message)

    def text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def is_blank(self) -> bool:
        return not any(self.text(i).strip() for i in self.FIELDS.values() if i.startswith("e-"))

    def values(self) -> tuple[object, ...]:
        raise NotImplementedError


class ContactEditor(EntryEditor):
    kind_name = "contact"
    FIELDS = {"name": "e-name", "email": "e-email", "phone": "e-phone", "role": "e-role"}

    def __init__(self, number: int, row: ContactRow | None = None, *, primary: bool = False) -> None:
        super().__init__(number)
        self.row = row
        self._primary = row.is_primary if row else primary

    def compose(self) -> ComposeResult:
        row = self.row
        with Horizontal(classes="form-row"):
            yield _field("Name")
            yield Input(_shown(row.name) if row else "", id="e-name", compact=True)
            yield _field("Email")
            yield Input(_shown(row.email) if row else "", id="e-email", compact=True)
        with Horizontal(classes="form-row"):
            yield _field("Phone")
            yield Input(phone(row.phone) if row else "", id="e-phone", compact=True)
            yield _field("Role")
            yield Input(_shown(row.role) if row else "", id="e-role", compact=True)
        with Horizontal(classes="form-row"):
            yield _field("")
            yield Checkbox("Primary contact", self._primary, id="c-primary", compact=True)
            yield Checkbox(
                "Agreed to texts (SMS)", row.sms_consent if row else False, id="c-sms", compact=True
            )
        yield Label("", markup=False, classes="field-error")

    def data(self) -> ContactData:
        return ContactData(
            name=self.text("e-name"),
            email=self.text("e-email"),
            phone=self.text("e-phone"),
            role=self.text("e-role"),
            is_primary=self.query_one("#c-primary", Checkbox).value,
            sms_consent=self.query_one("#c-sms", Checkbox).value,
            id=self.row.id if self.row else None,
            version=self.row.version if self.row else None,
        )

    def values(self) -> tuple[object, ...]:
        d = self.data()
        return (d.id, d.name, d.email, d.phone, d.role, d.is_primary, d.sms_consent)


class AddressEditor(EntryEditor):
    kind_name = "address"
    FIELDS = {
        "kind": "s-kind",
        "label": "e-label",
        "street": "e-line1",
        "line 2": "e-line2",
        "city": "e-city",
        "state": "e-region",
        "ZIP": "e-postal",
        "country": "e-country",
    }

    def __init__(self, number: int, row: AddressRow | None = None, *, kind: str = "service") -> None:
        super().__init__(number)
        self.row = row
        self._kind = row.kind if row else kind

    def compose(self) -> ComposeResult:
        row = self.row
        with Horizontal(classes="form-row"):
            yield _field("Kind")
            yield Select(
                [("Billing", "billing"), ("Service", "service")],
                value=self._kind,
                allow_blank=False,
                id="s-kind",
                compact=True,
            )
            yield _field("Label")
            yield Input(_shown(row.label) if row else "", id="e-label", compact=True,
                        placeholder="e.g. Main house")
        with Horizontal(classes="form-row"):
            yield _field("Street")
            yield Input(_shown(row.line1) if row else "", id="e-line1", compact=True)
            yield _field("Line 2")
            yield Input(_shown(row.line2) if row else "", id="e-line2", compact=True)
        with Horizontal(classes="form-row"):
            yield _field("City")
            yield Input(_shown(row.city) if row else "", id="e-city", compact=True)
            yield _field("State")
            yield Input(_shown(row.region) if row else "", id="e-region", compact=True, classes="short")
            yield _field("ZIP")
            yield Input(_shown(row.postal_code) if row else "", id="e-postal", compact=True, classes="short")
            yield _field("Country")
            yield Input(_shown(row.country) if row else "US", id="e-country", compact=True,
                        classes="tiny", max_length=2)
        yield Label("", markup=False, classes="field-error")

    def is_blank(self) -> bool:
        # The country starts filled in (US): a block with nothing else typed is still blank.
        texts = [self.text(i) for i in self.FIELDS.values() if i.startswith("e-") and i != "e-country"]
        return not any(t.strip() for t in texts)

    def data(self) -> AddressData:
        kind = self.query_one("#s-kind", Select).value
        return AddressData(
            line1=self.text("e-line1"),
            kind=kind if isinstance(kind, str) else "service",
            label=self.text("e-label"),
            line2=self.text("e-line2"),
            city=self.text("e-city"),
            region=self.text("e-region"),
            postal_code=self.text("e-postal"),
            country=self.text("e-country"),
            id=self.row.id if self.row else None,
            version=self.row.version if self.row else None,
        )

    def values(self) -> tuple[object, ...]:
        d = self.data()
        return (d.id, d.kind, d.label, d.line1, d.line2, d.city, d.region, d.postal_code, d.country)

