"""``import clients FILE.csv``: client lists from FreshBooks, Wave, Zoho Books, Invoicely or
any CSV (through a column mapping), previewed first, then written all or nothing.

A plan (:func:`plan_import`, read-only) says what would happen: the clients with their
contacts and addresses split out, the rows skipped and why, duplicates, warnings, and every
column that is not imported. :func:`run_import` builds the same plan again inside ONE write
transaction and refuses (writing nothing) if any row has an error.

Decisions where the issue is silent:
- The file must be UTF-8 (a BOM is fine). A file that is not, an unterminated quote, or a row
  with more cells than the header is refused with its line number; shorter rows are padded.
- Duplicates are rows whose email (case-insensitive) matches an existing contact or an
  earlier row, or whose phone does when one side has no email to tell them apart; by default
  they are skipped and listed (never merged, never doubled); ``duplicates="import"`` imports
  them anyway, still listed. Two people with different emails sharing a number (an office
  line, as in the Zoho sample) are both imported, with a warning naming the other. A phone
  extension makes a different number.
- A phone that is not a valid number (many exports hold 7-digit or 555 numbers) is not lost:
  it goes to the custom field "Phone (as imported)" with a warning; the same for an address
  with no street ("Billing address (as imported)") and a country that cannot be recognised.
- Rows with nothing in them are skipped and listed; a row with no name, company, contact or
  email, or one the client form would refuse (a bad email, a too-long field), is an error.
- Format columns that have no place in this CRM (timestamps, ids of the other tool) are
  listed as "not imported" with how many rows held a value, exactly like unknown columns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, clients, validate
from core.db import Database
from core.errors import DomainError, ValidationError
from core.models import Address, Client, ClientTag, Contact
from core.text import clean_line

MAX_FILE_BYTES = 50 * 1024 * 1024
DUPLICATE_POLICIES = ("skip", "import")

PERSON_FIELDS = ("name", "company", "first_name", "last_name", "contact_name", "email", "phone",
                 "mobile", "role", "notes", "tags", "status")
ADDRESS_PARTS = ("street", "street2", "city", "state", "zip", "country")
TARGETS = (
    *PERSON_FIELDS,
    *(f"billing.{p}" for p in ADDRESS_PARTS),
    *(f"service.{p}" for p in ADDRESS_PARTS),
    "ignore",
)  # plus "custom:<label>"

FRESHBOOKS = {
    "Organization": "company", "First Name": "first_name", "Last Name": "last_name",
    "Email": "email", "Phone": "phone", "Street": "billing.street", "City": "billing.city",
    "Province/State": "billing.state", "Country": "billing.country",
    "Postal Code": "billing.zip", "Notes": "notes",
}
INVOICELY = {
    "Client Name": "name", "Email": "email", "Phone": "phone", "Country": "billing.country",
}
WAVE = {
    "customer_name": "name", "email": "email", "contact_first_name": "first_name",
    "contact_last_name": "last_name", "customer_currency": "custom:Currency",
    "account_number": "custom:Account number", "phone": "phone", "fax": "custom:Fax",
    "mobile": "mobile", "toll_free": "custom:Toll-free phone", "website": "custom:Website",
    "country": "billing.country", "province/state": "billing.state",
    "address_line_1": "billing.street", "address_line_2": "billing.street2",
    "city": "billing.city", "postal_code/zip_code": "billing.zip",
    "ship-to_contact": "custom:Ship-to contact", "ship-to_country": "service.country",
    "ship-to_province/state": "service.state", "ship-to_address_line_1": "service.street",
    "ship-to_address_line_2": "service.street2", "ship-to_city": "service.city",
    "ship-to_postal_code/zip_code": "service.zip", "ship-to_phone": "custom:Ship-to phone",
    "delivery_instructions": "custom:Delivery instructions",
}
ZOHO = {
    "Display Name": "name", "Company Name": "company", "Salutation": "custom:Salutation",
    "First Name": "first_name", "Last Name": "last_name", "Phone": "phone",
    "Currency Code": "custom:Currency", "Notes": "notes", "Website": "custom:Website",
    "Status": "status", "Billing Attention": "custom:Billing attention",
    "Billing Address": "billing.street", "Billing Street2": "billing.street2",
    "Billing City": "billing.city", "Billing State": "billing.state",
    "Billing Country": "billing.country", "Billing Code": "billing.zip",
    "Billing Phone": "custom:Billing phone", "Billing Fax": "custom:Billing fax",
    "Shipping Attention": "custom:Shipping attention", "Shipping Address": "service.street",
    "Shipping Street2": "service.street2", "Shipping City": "service.city",
    "Shipping State": "service.state", "Shipping Country": "service.country",
    "Shipping Code": "service.zip", "Shipping Phone": "custom:Shipping phone",
    "Shipping Fax": "custom:Shipping fax", "Skype Identity": "custom:Skype",
    "Facebook": "custom:Facebook", "Twitter": "custom:Twitter",
    "Department": "custom:Department", "Designation": "role",
    "Payment Terms Label": "custom:Payment terms", "EmailID": "email",
    "MobilePhone": "mobile", "Customer ID": "custom:Zoho customer ID",
}
# format -> (columns that identify it, its mapping)
FORMATS: dict[str, tuple[frozenset[str], dict[str, str]]] = {
    "freshbooks": (frozenset({"Organization", "First Name", "Last Name", "Province/State"}),
                   FRESHBOOKS),
    "wave": (frozenset({"customer_name", "contact_first_name", "address_line_1"}), WAVE),
    "zoho": (frozenset({"Display Name", "EmailID", "Billing Address"}), ZOHO),
    "invoicely": (frozenset({"Client Name", "Email"}), INVOICELY),
}
FORMAT_CHOICES = ("auto", *FORMATS, "generic")

# header words (lowercase, letters and digits only) -> target, for any other CSV
GENERIC = {
    **{k: "name" for k in ("name", "client", "clientname", "customer", "customername",
                           "displayname", "fullname")},
    **{k: "company" for k in ("company", "companyname", "organization", "organisation",
                              "business", "businessname")},
    **{k: "first_name" for k in ("firstname", "givenname", "first")},
    **{k: "last_name" for k in ("lastname", "surname", "familyname", "last")},
    **{k: "contact_name" for k in ("contact", "contactname", "contactperson")},
    **{k: "email" for k in ("email", "emailaddress", "mail")},
    **{k: "phone" for k in ("phone", "phonenumber", "telephone", "tel", "workphone")},
    **{k: "mobile" for k in ("mobile", "mobilephone", "cell", "cellphone")},
    **{k: "role" for k in ("role", "jobtitle", "position", "designation")},
    **{k: "notes" for k in ("notes", "note", "comments", "comment")},
    "tags": "tags",
    "status": "status",
    **{k: "billing.street" for k in ("address", "street", "address1", "addressline1",
                                     "streetaddress", "billingaddress", "billingstreet")},
    **{k: "billing.street2" for k in ("address2", "addressline2", "street2", "unit")},
    **{k: "billing.city" for k in ("city", "town", "billingcity")},
    **{k: "billing.state" for k in ("state", "province", "region", "stateprovince",
                                    "provincestate", "billingstate")},
    **{k: "billing.zip" for k in ("zip", "zipcode", "postalcode", "postcode", "billingzip",
                                  "billingcode", "billingpostalcode")},
    **{k: "billing.country" for k in ("country", "billingcountry")},
}

STATUS_WORDS = {"active": "active", "inactive": "archived", "archived": "archived",
                "lead": "lead", "prospect": "lead"}
COUNTRY_ALIASES = {"usa": "US", "unitedstatesofamerica": "US", "us": "US", "uk": "GB",
                   "greatbritain": "GB", "england": "GB", "scotland": "GB", "wales": "GB"}


class ImportRefused(DomainError):
    """The file cannot be imported as it is; nothing was written."""


@dataclass(frozen=True)
class RowNote:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ColumnNote:
    column: str
    values: int  # rows with a value in it
    known: bool  # a column of the recognised format that has no place here


@dataclass
class PlannedClient:
    line: int
    client: clients.ClientData
    contacts: list[clients.ContactData]
    addresses: list[clients.AddressData]
    duplicate_of: str = ""
    client_id: int | None = None  # set once imported


@dataclass
class ImportPlan:
    format: str
    mapping: dict[str, str]
    rows_read: int = 0
    clients: list[PlannedClient] = field(default_factory=list)
    skipped: list[RowNote] = field(default_factory=list)
    duplicates: list[RowNote] = field(default_factory=list)
    errors: list[RowNote] = field(default_factory=list)
    warnings: list[RowNote] = field(default_factory=list)
    columns_not_imported: list[ColumnNote] = field(default_factory=list)
    imported: bool = False

    @property
    def to_import(self) -> list[PlannedClient]:
        return self.clients

    @property
    def contact_count(self) -> int:
        return sum(len(p.contacts) for p in self.clients)

    @property
    def address_count(self) -> int:
        return sum(len(p.addresses) for p in self.clients)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CsvFile:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number where the row starts, cells)


def read_csv(source: Path | str | bytes) -> CsvFile:
    """Parse a CSV file (or its bytes); refuse malformed input naming the line."""
    if isinstance(source, Path | str) and not isinstance(source, bytes):
        path = Path(source)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportRefused(f"{path.name} is larger than 50 MB; split it into parts")
            data = path.read_bytes()
        except FileNotFoundError:
            raise ValidationError("file", f"{path}: no such file") from None
        except IsADirectoryError:
            raise ValidationError("file", f"{path}: is a folder, not a CSV file") from None
    else:
        data = source
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(f"line {line}: the file is not UTF-8 text; save it as "
                            "\"CSV UTF-8\" and try again") from None
    if "\x00" in content:
        line = content[: content.index("\x00")].count("\n") + 1
        raise ImportRefused(f"line {line}: the file contains binary data, not CSV text")
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            if header is None:
                header = [clean_line(c) for c in cells]
                if not any(header):
                    raise ImportRefused(f"line {start}: the first line must name the columns")
                seen: set[str] = set()
                for name in header:
                    if name and name in seen:
                        raise ImportRefused(f"line {start}: the column '{name[:60]}' appears "
                                            "twice")
                    seen.add(name)
            else:
                if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                    raise ImportRefused(
                        f"line {start}: {len(cells)} cells but the header names "
                        f"{len(header)} columns; a comma inside a value needs quotes")
                cells = (cells + [""] * len(header))[: len(header)]
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportRefused(f"line {start}: not valid CSV ({exc})") from None
    if header is None:
        raise ImportRefused("the file is empty")
    return CsvFile(header=header, rows=rows)


# --------------------------------------------------------------------------- mapping


def _word(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.casefold())


def detect_format(header: Iterable[str]) -> str:
    names = set(header)
    for name, (signature, _mapping) in FORMATS.items():
        if signature <= names:
            return name
    return "generic"


def _valid_target(target: str) -> bool:
    if target.startswith("custom:"):
        label = target[7:].strip()
        return 0 < len(label) <= 60
    return target in TARGETS


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["Col A=email", "Cell=mobile"]`` -> mapping; bad items raise ValidationError."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column:
            raise ValidationError("--map", f"'{item}' is not COLUMN=FIELD")
        if not _valid_target(target):
            raise ValidationError("--map", f"'{target}' is not a field; use one of "
                                           f"{', '.join(TARGETS)} or custom:LABEL")
        mapping[column] = target
    return mapping


def column_mapping(header: list[str], fmt: str, overrides: Mapping[str, str] | None
                   ) -> tuple[str, dict[str, str]]:
    """(format used, column -> target) for this header."""
    if fmt not in FORMAT_CHOICES:
        raise ValidationError("format", f"must be one of {', '.join(FORMAT_CHOICES)}")
    used = detect_format(header) if fmt == "auto" else fmt
    if used == "generic":
        mapping = {c: GENERIC[_word(c)] for c in header if _word(c) in GENERIC}
    else:
        mapping = {c: t for c, t in FORMATS[used][1].items() if c in header}
    for column, target in (overrides or {}).items():
        if column not in header:
            raise ValidationError("--map", f"the file has no column '{column[:60]}' (columns: "
                                           f"{', '.join(h for h in header if h)[:300]})")
        if not _valid_target(target):
            raise ValidationError("--map", f"'{target}' is not a field")
        mapping[column] = target
    seen: dict[str, str] = {}
    for column, target in mapping.items():
        if target == "ignore" or target.startswith("custom:"):
            continue
        if target in seen:
            raise ValidationError("--map", f"both '{seen[target]}' and '{column}' map to "
                                           f"{target}; map one of them to ignore")
        seen[target] = column
    if not {"name", "company", "first_name", "last_name", "contact_name", "email"} & set(
        mapping.values()
    ):
        raise ImportRefused(
            "the columns were not recognised (no name, company or email column); name the "
            "format with --format or map columns with --map COLUMN=FIELD, e.g. "
            "--map 'Customer=name'"
        )
    return used, mapping


# --------------------------------------------------------------------------- rows


def _country(value: str) -> str | None:
    if not value:
        return "US"
    if len(value) == 2 and value.isalpha():
        return value.upper()
    key = _word(value)
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    return _country_names().get(key)


_COUNTRIES: dict[str, str] = {}


def _country_names() -> dict[str, str]:
    if not _COUNTRIES:
        import phonenumbers
        from phonenumbers import geocoder

        for region in phonenumbers.SUPPORTED_REGIONS:
            name = geocoder._region_display_name(region, "en")  # noqa: SLF001 - no public API
            if name:
                _COUNTRIES[_word(name)] = region
    return _COUNTRIES


def _phone_key(raw: str) -> str:
    """What makes two phone numbers "the same" for duplicate detection."""
    if not raw:
        return ""
    try:
        e164, _national = validate.phone(raw, "phone")
        import phonenumbers

        ext = phonenumbers.parse(raw, "US").extension
        return e164 + (f"x{ext}" if ext else "")
    except ValidationError:
        digits = re.sub(r"\D", "", raw)
        return digits if len(digits) >= 7 else ""


@dataclass
class _Row:
    line: int
    values: dict[str, str]  # target -> value (custom:... included)
    warnings: list[str] = field(default_factory=list)


def _row_values(mapping: dict[str, str], header: list[str], cells: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for column, cell in zip(header, cells, strict=True):
        target = mapping.get(column)
        if target is None or target == "ignore":
            continue
        text = cell.strip()
        if text:
            values[target] = text
    return values


def _build_client(row: _Row) -> PlannedClient:
    v = row.values
    custom: dict[str, str] = {t[7:].strip(): val for t, val in v.items() if t.startswith("custom:")}
    first, last = v.get("first_name", ""), v.get("last_name", "")
    person = " ".join(p for p in (first, last) if p) or v.get("contact_name", "")
    company = v.get("company", "")
    email = v.get("email", "")
    name = v.get("name") or company or person or email
    if not name:
        raise ValidationError("name", "no name, company, contact or email in this row")
    company_name = company if company and company.casefold() != person.casefold() else ""
    kind = "company" if company_name and company_name.casefold() == name.casefold() else "person"
    status = "active"
    if v.get("status"):
        status = STATUS_WORDS.get(v["status"].casefold(), "")
        if not status:
            row.warnings.append(f"status '{v['status'][:30]}' is not lead/active/archived; "
                                "imported as active")
            status = "active"
    tags = [t.strip() for t in re.split(r"[,;]", v.get("tags", "")) if t.strip()]

    phone = v.get("phone", "")
    mobile = v.get("mobile", "")
    phone_ok = _valid_phone(phone)
    if not phone_ok and mobile and _valid_phone(mobile):
        if phone:
            custom["Phone (as imported)"] = phone
            row.warnings.append(f"phone '{phone[:40]}' is not a valid number; kept in the "
                                "custom field 'Phone (as imported)'")
        phone, mobile = mobile, ""
    elif phone and not phone_ok:
        custom["Phone (as imported)"] = phone
        row.warnings.append(f"phone '{phone[:40]}' is not a valid number; kept in the custom "
                            "field 'Phone (as imported)'")
        phone = ""
    if mobile:
        custom["Mobile"] = mobile

    contacts: list[clients.ContactData] = []
    if person or email or phone:
        contacts.append(clients.ContactData(name=person or name, email=email, phone=phone,
                                            role=v.get("role", ""), is_primary=True))
    elif v.get("role"):
        custom["Role"] = v["role"]

    addresses: list[clients.AddressData] = []
    for kind_key, label in (("billing", "Billing"), ("service", "Service")):
        parts = {p: v.get(f"{kind_key}.{p}", "") for p in ADDRESS_PARTS}
        if not any(parts.values()):
            continue
        country = _country(parts["country"])
        if country is None:
            custom[f"{label} country (as imported)"] = parts["country"]
            row.warnings.append(f"{label.lower()} country '{parts['country'][:40]}' was not "
                                "recognised; kept in a custom field")
        if not parts["street"]:
            shown = ", ".join(x for x in (parts["street2"], parts["city"], parts["state"],
                                          parts["zip"], parts["country"]) if x)
            custom[f"{label} address (as imported)"] = shown
            row.warnings.append(f"{label.lower()} address has no street; kept in the custom "
                                f"field '{label} address (as imported)'")
            continue
        addresses.append(clients.AddressData(
            line1=parts["street"], line2=parts["street2"], city=parts["city"],
            region=parts["state"], postal_code=parts["zip"], country=country or "US",
            kind=kind_key,
        ))
    data = clients.ClientData(name=name, kind=kind, company_name=company_name, status=status,
                              notes=v.get("notes", ""), tags=tags, custom_fields=custom)
    return PlannedClient(line=row.line, client=data, contacts=contacts, addresses=addresses)


def _valid_phone(raw: str) -> bool:
    if not raw:
        return False
    try:
        validate.phone(raw, "phone")
    except ValidationError:
        return False
    return True


def _validate(planned: PlannedClient) -> None:
    """Run the client form's own validation (it raises ValidationError naming the field)."""
    clients._clean_client(planned.client)  # noqa: SLF001 - the same rules as the form
    for i, c in enumerate(planned.contacts):
        clients._clean_contact(c, i + 1)  # noqa: SLF001
    for i, a in enumerate(planned.addresses):
        clients._clean_address(a, i + 1)  # noqa: SLF001


@dataclass
class _Known:
    """Someone already in the database or earlier in the file, for duplicate checks."""

    label: str
    emails: frozenset[str]


def _existing(s: Session, emails: set[str], phones: set[str]
              ) -> tuple[dict[str, _Known], dict[str, _Known]]:
    """(email -> known, phone key -> known) for contacts already in the database."""
    by_email: dict[str, _Known] = {}
    by_phone: dict[str, _Known] = {}
    email_list = sorted(emails)
    # stored numbers are E.164 without an extension; a number with one is another line
    phone_list = sorted(p for p in phones if p.startswith("+") and "x" not in p)
    for i in range(0, len(email_list), 500):
        rows = s.execute(select(func.lower(Contact.email), Client.id, Client.name)
                         .join(Client, Client.id == Contact.client_id)
                         .where(func.lower(Contact.email).in_(email_list[i:i + 500])))
        for email, cid, cname in rows:
            by_email.setdefault(email, _Known(f"client {cname} (#{cid})", frozenset({email})))
    for i in range(0, len(phone_list), 500):
        rows = s.execute(select(Contact.phone, Contact.email, Client.id, Client.name)
                         .join(Client, Client.id == Contact.client_id)
                         .where(Contact.phone.in_(phone_list[i:i + 500])))
        for phone, email, cid, cname in rows:
            mails = frozenset({email.casefold()}) if email else frozenset()
            by_phone.setdefault(phone, _Known(f"client {cname} (#{cid})", mails))
    return by_email, by_phone


def _phone_keys(planned: PlannedClient) -> set[str]:
    raw = [c.phone for c in planned.contacts]
    raw.append(planned.client.custom_fields.get("Phone (as imported)", ""))
    return {k for k in (_phone_key(r) for r in raw) if k}


def _plan(s: Session, csv_file: CsvFile, fmt: str, overrides: Mapping[str, str] | None,
          duplicates: str) -> ImportPlan:
    if duplicates not in DUPLICATE_POLICIES:
        raise ValidationError("duplicates", f"must be one of {', '.join(DUPLICATE_POLICIES)}")
    used, mapping = column_mapping(csv_file.header, fmt, overrides)
    plan = ImportPlan(format=used, mapping=mapping, rows_read=len(csv_file.rows))
    known = set(FORMATS[used][1]) if used in FORMATS else set()
    for index, column in enumerate(csv_file.header):
        if column in mapping and mapping[column] != "ignore":
            continue
        filled = sum(1 for _line, cells in csv_file.rows if cells[index].strip())
        plan.columns_not_imported.append(ColumnNote(column or f"(column {index + 1})", filled,
                                                    column in known))
    built: list[tuple[PlannedClient, frozenset[str], set[str]]] = []
    for line, cells in csv_file.rows:
        if not any(c.strip() for c in cells):
            plan.skipped.append(RowNote(line, "empty row"))
            continue
        row = _Row(line, _row_values(mapping, csv_file.header, cells))
        if not row.values:
            plan.skipped.append(RowNote(line, "no value in any imported column"))
            continue
        try:
            planned = _build_client(row)
            _validate(planned)
        except ValidationError as exc:
            plan.errors.append(RowNote(line, str(exc)))
            continue
        plan.warnings += [RowNote(line, w) for w in row.warnings]
        emails = frozenset(c.email.casefold() for c in planned.contacts if c.email)
        built.append((planned, emails, _phone_keys(planned)))
    by_email, by_phone = _existing(s, {e for _p, es, _ph in built for e in es},
                                   {p for _p, _es, ps in built for p in ps})
    for planned, emails, phones in built:
        match = next((by_email[e] for e in sorted(emails) if e in by_email), None)
        what = "email"
        if match is None:
            for phone in sorted(phones):
                other = by_phone.get(phone)
                if other is None:
                    continue
                if emails and other.emails and not emails & other.emails:
                    # two people with their own emails sharing a number (an office line)
                    plan.warnings.append(RowNote(
                        planned.line, f"shares a phone number with {other.label}; imported as "
                                      "a separate client (different email)"))
                    continue
                match, what = other, "phone"
                break
        if match is not None:
            planned.duplicate_of = match.label
            action = "skipped" if duplicates == "skip" else "imported anyway"
            plan.duplicates.append(RowNote(
                planned.line, f"{planned.client.name[:60]}: same {what} as {match.label}; "
                              f"{action}"))
            if duplicates == "skip":
                plan.skipped.append(RowNote(planned.line, f"duplicate of {match.label}"))
                continue
        me = _Known(f"line {planned.line} ({planned.client.name[:60]})", emails)
        for e in emails:
            by_email.setdefault(e, me)
        for p in phones:
            by_phone.setdefault(p, me)
        plan.clients.append(planned)
    return plan


def plan_import(db: Database, source: Path | str | bytes, *, format: str = "auto",
                mapping: Mapping[str, str] | None = None, duplicates: str = "skip") -> ImportPlan:
    """The dry run: what an import of ``source`` would do. Writes nothing."""
    csv_file = read_csv(source)
    with db.read() as s:
        return _plan(s, csv_file, format, mapping, duplicates)


def run_import(db: Database, source: Path | str | bytes, *, format: str = "auto",
               mapping: Mapping[str, str] | None = None, duplicates: str = "skip",
               actor: str = "owner", source_name: str = "") -> ImportPlan:
    """Import every planned client in one transaction; any row error means nothing is written."""
    csv_file = read_csv(source)
    name = source_name or (Path(source).name if isinstance(source, Path | str) else "CSV")
    with db.write() as s:
        plan = _plan(s, csv_file, format, mapping, duplicates)
        if plan.errors:
            first = plan.errors[0]
            more = f" (and {len(plan.errors) - 1} more)" if len(plan.errors) > 1 else ""
            raise ImportRefused(f"{first}{more}. Nothing was imported; fix the file or map "
                                "that column to ignore.")
        for planned in plan.clients:
            planned.client_id = _create(s, planned, actor, name)
        audit.record(s, actor, "import.clients", "import", None,
                     f"Imported {len(plan.clients)} clients from {name[:100]}",
                     after={"format": plan.format, "clients": len(plan.clients),
                            "skipped": len(plan.skipped), "duplicates": len(plan.duplicates)})
        plan.imported = True
        return plan


def _create(s: Session, planned: PlannedClient, actor: str, source_name: str) -> int:
    data = clients._clean_client(planned.client)  # noqa: SLF001
    client = Client(name=data.name, sort_name=clients.sort_key(data.name), kind=data.kind,
                    company_name=data.company_name, status=data.status, notes=data.notes,
                    custom_fields=data.custom_fields)
    client.tags = [ClientTag(tag=t) for t in data.tags]
    for i, c in enumerate(planned.contacts):
        contact = Contact()
        clients._apply_contact(contact, clients._clean_contact(c, i + 1))  # noqa: SLF001
        client.contacts.append(contact)
    for i, a in enumerate(planned.addresses):
        address = Address()
        clients._apply_address(address, clients._clean_address(a, i + 1))  # noqa: SLF001
        client.addresses.append(address)
    s.add(client)
    s.flush()
    audit.record(s, actor, "client.import", "client", client.id,
                 f"Imported client {client.name} from {source_name[:100]}", client_id=client.id,
                 after={"contacts": len(client.contacts), "addresses": len(client.addresses),
                        "line": planned.line})
    return client.id
