"""Client use cases: create, edit, archive, contacts, addresses, tags, custom fields.

A client form saves in one transaction: the client row, its contacts and its addresses
(added, changed or removed), with one audit event. Saving over a newer version is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from core import audit, validate
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord, ValidationError
from core.models import Address, Client, ClientTag, Contact, Invoice, Job, Proposal

KINDS = ("person", "company")
STATUSES = ("lead", "active", "archived")
ADDRESS_KINDS = ("billing", "service")


@dataclass
class ContactData:
    name: str
    email: str = ""
    phone: str = ""
    role: str = ""
    is_primary: bool = False
    sms_consent: bool = False
    id: int | None = None
    version: int | None = None


@dataclass
class AddressData:
    line1: str
    kind: str = "service"
    label: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    id: int | None = None
    version: int | None = None


@dataclass
class ClientData:
    name: str
    kind: str = "person"
    company_name: str = ""
    status: str = "active"
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)


def sort_key(name: str) -> str:
    return name.casefold()[:300]


def _clean_client(data: ClientData) -> ClientData:
    tags = []
    for i, tag in enumerate(data.tags):
        t = validate.optional_line(tag, f"tag {i + 1}", 60).lower()
        if t and t not in tags:
            tags.append(t)
    custom: dict[str, str] = {}
    for key, value in data.custom_fields.items():
        k = validate.required_line(key, "custom field name", 60)
        custom[k] = validate.optional_line(value, f"custom field '{k}'", 1000)
    return ClientData(
        name=validate.required_line(data.name, "name", 300),
        kind=validate.choice(data.kind, "kind", KINDS),
        company_name=validate.optional_line(data.company_name, "company name", 300),
        status=validate.choice(data.status, "status", STATUSES),
        notes=validate.note(data.notes, "notes"),
        tags=tags,
        custom_fields=custom,
    )


def _clean_contact(data: ContactData, n: int) -> ContactData:
    label = f"contact {n} "
    e164, _ = validate.phone(data.phone, f"{label}phone")
    return ContactData(
        name=validate.required_line(data.name, f"{label}name", 300),
        email=validate.email(data.email, f"{label}email"),
        phone=e164,
        role=validate.optional_line(data.role, f"{label}role", 100),
        is_primary=bool(data.is_primary),
        sms_consent=bool(data.sms_consent),
        id=data.id,
        version=data.version,
    )


def _clean_address(data: AddressData, n: int) -> AddressData:
    label = f"address {n} "
    country = validate.optional_line(data.country, f"{label}country", 2).upper() or "US"
    if len(country) != 2 or not country.isalpha():
        raise ValidationError(f"{label}country", "must be a two-letter code such as US")
    return AddressData(
        line1=validate.required_line(data.line1, f"{label}street", 300),
        kind=validate.choice(data.kind, f"{label}kind", ADDRESS_KINDS),
        label=validate.optional_line(data.label, f"{label}label", 100),
        line2=validate.optional_line(data.line2, f"{label}line 2", 300),
        city=validate.optional_line(data.city, f"{label}city", 120),
        region=validate.optional_line(data.region, f"{label}state", 120),
        postal_code=validate.optional_line(data.postal_code, f"{label}ZIP", 20),
        country=country,
        id=data.id,
        version=data.version,
    )


def _snapshot(c: Client) -> dict[str, object]:
    return {
        "name": c.name,
        "kind": c.kind,
        "company_name": c.company_name,
        "status": c.status,
        "notes": c.notes,
        "tags": [t.tag for t in c.tags],
        "custom_fields": dict(c.custom_fields or {}),
        "contacts": len(c.contacts),
        "addresses": len(c.addresses),
    }


def _apply_contact(c: Contact, d: ContactData) -> None:
    _, national = validate.phone(d.phone, "phone")
    c.name, c.email, c.phone, c.phone_national = d.name, d.email, d.phone, national
    c.role, c.is_primary = d.role, d.is_primary
    if d.sms_consent != c.sms_consent:
        c.sms_consent = d.sms_consent


def _apply_address(a: Address, d: AddressData) -> None:
    changed = (a.line1, a.line2, a.city, a.region, a.postal_code, a.country) != (
        d.line1, d.line2, d.city, d.region, d.postal_code, d.country)
    a.kind, a.label, a.line1, a.line2 = d.kind, d.label, d.line1, d.line2
    a.city, a.region, a.postal_code, a.country = d.city, d.region, d.postal_code, d.country
    if changed:
        a.validated_at = None  # a changed address is no longer the validated one


def _address_in_use(s: Session, address_id: int) -> str | None:
    for model, what in ((Job, "a job"), (Proposal, "a proposal")):
        if s.scalar(select(exists().where(model.address_id == address_id))):
            return what
    return None


def save_client(
    db: Database,
    client_id: int | None,
    data: ClientData,
    contacts: list[ContactData] | None = None,
    addresses: list[AddressData] | None = None,
    *,
    expected_version: int | None = None,
    actor: str = "owner",
) -> int:
    """Create (``client_id`` None) or update a client with its contacts and addresses.

    ``contacts``/``addresses`` given as a list replace the client's set: items with an ``id``
    are updated, new ones added, missing ones removed. ``None`` leaves them alone.
    """
    clean = _clean_client(data)
    clean_contacts = (
        [_clean_contact(c, i + 1) for i, c in enumerate(contacts)] if contacts is not None else None
    )
    clean_addresses = (
        [_clean_address(a, i + 1) for i, a in enumerate(addresses)] if addresses is not None else None
    )
    if clean_contacts and not any(c.is_primary for c in clean_contacts):
        clean_contacts[0].is_primary = True
    with db.write() as s:
        if client_id is None:
            client = Client()
            s.add(client)
            before: dict[str, object] = {}
        else:
            client = _get(s, client_id)
            if expected_version is not None and client.version != expected_version:
                raise StaleRecord("client")
            before = _snapshot(client)
        client.name, client.kind, client.company_name = clean.name, clean.kind, clean.company_name
        client.sort_name = sort_key(clean.name)
        client.status, client.notes = clean.status, clean.notes
        client.custom_fields = clean.custom_fields
        existing_tags = {t.tag: t for t in client.tags}
        client.tags = [existing_tags.get(t) or ClientTag(tag=t) for t in clean.tags]
        if clean_contacts is not None:
            _sync_children(s, client.contacts, clean_contacts, Contact, _apply_contact, "contact")
        if clean_addresses is not None:
            kept = {d.id for d in clean_addresses if d.id}
            for existing in client.addresses:
                use = existing.id not in kept and _address_in_use(s, existing.id)
                if use:
                    raise DomainError(
                        f"The address '{existing.line1}' is used by {use}; it cannot be "
                        "removed. Edit it instead."
                    )
            _sync_children(s, client.addresses, clean_addresses, Address, _apply_address, "address")
        s.flush()
        after = _snapshot(client)
        if client_id is None:
            audit.record(s, actor, "client.create", "client", client.id,
                         f"Created client {client.name}", client_id=client.id, after=after)
        else:
            old, new = audit.changes(before, after)
            audit.record(s, actor, "client.update", "client", client.id,
                         f"Edited client {client.name}", client_id=client.id, before=old, after=new)
        return client.id


def _sync_children(s: Session, current: list, wanted: list, model: type, apply, what: str) -> None:
    by_id = {row.id: row for row in current}
    keep: list = []
    for d in wanted:
        if d.id is not None:
            row = by_id.get(d.id)
            if row is None:
                raise NotFound(what, d.id)
            if d.version is not None and row.version != d.version:
                raise StaleRecord(what)
        else:
            row = model()
        apply(row, d)
        keep.append(row)
    current[:] = keep


def _get(s: Session, client_id: int) -> Client:
    client = s.get(Client, client_id)
    if client is None:
        raise NotFound("Client", client_id)
    return client


def create_client(db: Database, data: ClientData, contacts: list[ContactData] | None = None,
                  addresses: list[AddressData] | None = None, *, actor: str = "owner") -> int:
    return save_client(db, None, data, contacts or [], addresses or [], actor=actor)


def set_status(db: Database, client_id: int, status: str, *, expected_version: int | None = None,
               actor: str = "owner") -> None:
    """Archive, reactivate, or mark as lead. Archiving keeps every record; it only hides."""
    validate.choice(status, "status", STATUSES)
    with db.write() as s:
        client = _get(s, client_id)
        if expected_version is not None and client.version != expected_version:
            raise StaleRecord("client")
        if client.status == status:
            return
        old = client.status
        client.status = status
        verb = {"archived": "Archived", "active": "Activated", "lead": "Marked as lead"}[status]
        audit.record(s, actor, f"client.{status}", "client", client.id, f"{verb} client {client.name}",
                     client_id=client.id, before={"status": old}, after={"status": status})


def archive(db: Database, client_id: int, *, actor: str = "owner") -> None:
    set_status(db, client_id, "archived", actor=actor)


def add_contact(db: Database, client_id: int, data: ContactData, *, actor: str = "owner") -> int:
    d = _clean_contact(data, 1)
    with db.write() as s:
        client = _get(s, client_id)
        contact = Contact(client_id=client.id)
        _apply_contact(contact, d)
        if not client.contacts:
            contact.is_primary = True
        s.add(contact)
        s.flush()
        audit.record(s, actor, "contact.create", "contact", contact.id,
                     f"Added contact {contact.name} to {client.name}", client_id=client.id)
        return contact.id


def add_address(db: Database, client_id: int, data: AddressData, *, actor: str = "owner") -> int:
    d = _clean_address(data, 1)
    with db.write() as s:
        client = _get(s, client_id)
        address = Address(client_id=client.id)
        _apply_address(address, d)
        s.add(address)
        s.flush()
        audit.record(s, actor, "address.create", "address", address.id,
                     f"Added {address.kind} address {address.line1} to {client.name}",
                     client_id=client.id)
        return address.id


def mark_address_validated(db: Database, address_id: int, standardised: AddressData | None,
                           *, actor: str = "owner") -> None:
    """Store the validated flag (and the standardised form, when the user accepted it)."""
    from core.models import utcnow

    with db.write() as s:
        address = s.get(Address, address_id)
        if address is None:
            raise NotFound("Address", address_id)
        if standardised is not None:
            _apply_address(address, _clean_address(standardised, 1))
        address.validated_at = utcnow()
        audit.record(s, actor, "address.validate", "address", address.id,
                     f"Validated address {address.line1}", client_id=address.client_id)


def has_financial_records(s: Session, client_id: int) -> bool:
    return bool(s.scalar(select(exists().where(Invoice.client_id == client_id))))


def tags_in_use(db: Database, *, status: str | None = None, include_archived: bool = False,
                limit: int = 500) -> list[tuple[str, int]]:
    """The tags on clients, each with how many clients carry it, most used first: counted
    over the clients the list shows (one status, or all but archived unless asked for, as
    :func:`core.lists.list_clients` does)."""
    count = func.count(ClientTag.client_id)
    query = select(ClientTag.tag, count).join(Client, Client.id == ClientTag.client_id)
    if status:
        query = query.where(Client.status == status)
    elif not include_archived:
        query = query.where(Client.status != "archived")
    with db.read() as s:
        rows = s.execute(
            query.group_by(ClientTag.tag).order_by(count.desc(), ClientTag.tag).limit(limit)
        ).all()
    return [(tag, int(n)) for tag, n in rows]
