"""Client use cases on both backends: create/edit with contacts and addresses, archive,
validation that names the field and writes nothing, stale saves, naughty strings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import clients
from core.clients import AddressData, ClientData, ContactData
from core.errors import DomainError, StaleRecord, ValidationError
from core.models import Address, AuditEvent, Client, Contact, Job
from core.text import clean_line, clean_text


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def _new(db, **kw) -> int:
    return clients.create_client(
        db,
        ClientData(name=kw.get("name", "Acme Lawn Care"), kind="company", tags=["VIP", "vip", "Lawn"]),
        [
            ContactData(name="Ann Lee", email="ann@acme.example", phone="(415) 555-2671"),
            ContactData(name="Bob Roe", email="bob@acme.example", phone="+44 20 7946 0958", is_primary=True),
        ],
        [
            AddressData(kind="billing", line1="1 Main St", city="Springfield", region="IL", postal_code="62701"),
            AddressData(kind="service", label="Lake house", line1="9 Shore Rd", city="Lakeview"),
        ],
    )


def test_create_stores_everything_normalised_with_an_audit_event(db):
    cid = _new(db)
    with db.read() as s:
        c = s.get(Client, cid)
        assert c.name == "Acme Lawn Care" and c.kind == "company" and c.status == "active"
        assert [t.tag for t in c.tags] == ["lawn", "vip"]  # lower-cased, de-duplicated
        assert [(k.name, k.phone, k.is_primary) for k in c.contacts] == [
            ("Ann Lee", "+14155552671", False),
            ("Bob Roe", "+442079460958", True),
        ]
        assert [a.kind for a in c.addresses] == ["billing", "service"]
        events = s.scalars(select(AuditEvent).where(AuditEvent.client_id == cid)).all()
        assert [e.action for e in events] == ["client.create"]


def test_first_contact_becomes_primary_when_none_is_marked(db):
    cid = clients.create_client(db, ClientData(name="Solo"), [ContactData(name="Only One")])
    with db.read() as s:
        assert s.get(Client, cid).contacts[0].is_primary is True


@pytest.mark.parametrize(
    ("data", "contacts", "addresses", "field"),
    [
        (ClientData(name="   "), [], [], "name"),
        (ClientData(name="X", kind="robot"), [], [], "kind"),
        (ClientData(name="X", status="gone"), [], [], "status"),
        (ClientData(name="X"), [ContactData(name="A", email="not-an-email")], [], "contact 1 email"),
        (ClientData(name="X"), [ContactData(name="A", phone="12")], [], "contact 1 phone"),
        (ClientData(name="X"), [ContactData(name="")], [], "contact 1 name"),
        (ClientData(name="X"), [], [AddressData(line1="")], "address 1 street"),
        (ClientData(name="X"), [], [AddressData(line1="1 A St", kind="home")], "address 1 kind"),
        (ClientData(name="X"), [], [AddressData(line1="1 A St", country="USA")], "address 1 country"),
        (ClientData(name="X" * 301), [], [], "name"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(db, data, contacts, addresses, field):
    with pytest.raises(ValidationError) as err:
        clients.create_client(db, data, contacts, addresses)
    assert err.value.field == field
    assert str(err.value).startswith(field)
    assert _count(db, Client) == 0 and _count(db, Contact) == 0 and _count(db, AuditEvent) == 0


def test_edit_replaces_children_and_audits_the_change(db):
    cid = _new(db)
    with db.read() as s:
        c = s.get(Client, cid)
        ann, bob = c.contacts
        billing, service = c.addresses
        version = c.version
    clients.save_client(
        db,
        cid,
        ClientData(name="Acme Landscaping", kind="company", status="lead"),
        [ContactData(name="Ann Lee-Smith", email="ann@acme.example", id=ann.id, version=ann.version)],
        [AddressData(kind="billing", line1="2 Main St", id=billing.id, version=billing.version)],
        expected_version=version,
    )
    with db.read() as s:
        c = s.get(Client, cid)
        assert (c.name, c.status, c.version) == ("Acme Landscaping", "lead", version + 1)
        assert [k.name for k in c.contacts] == ["Ann Lee-Smith"]
        assert [a.line1 for a in c.addresses] == ["2 Main St"]
        assert c.tags == []
        update = s.scalars(select(AuditEvent).where(AuditEvent.action == "client.update")).one()
        assert update.before["name"] == "Acme Lawn Care" and update.after["name"] == "Acme Landscaping"
    assert _count(db, Contact) == 1 and _count(db, Address) == 1


def test_stale_save_is_refused_and_changes_nothing(db):
    cid = _new(db)
    clients.save_client(db, cid, ClientData(name="First editor"), expected_version=1)
    with pytest.raises(StaleRecord, match="changed elsewhere"):
        clients.save_client(db, cid, ClientData(name="Second editor"), expected_version=1)
    with db.read() as s:
        assert s.get(Client, cid).name == "First editor"


def test_removing_an_address_used_by_a_job_is_refused(db):
    cid = _new(db)
    with db.write() as s:
        address = s.get(Client, cid).addresses[1]
        s.add(Job(number="JOB-T1", client_id=cid, address_id=address.id, title="Mow"))
    with pytest.raises(DomainError, match="used by a job"):
        clients.save_client(db, cid, ClientData(name="Acme"), None, [])
    assert _count(db, Address) == 2


def test_archive_and_reactivate(db):
    cid = _new(db)
    clients.archive(db, cid)
    clients.set_status(db, cid, "active")
    with db.read() as s:
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["client.create", "client.archived", "client.active"]


def test_add_contact_and_address_individually(db):
    cid = clients.create_client(db, ClientData(name="Zed"))
    contact_id = clients.add_contact(db, cid, ContactData(name="Zoe", phone="415-555-0100"))
    address_id = clients.add_address(db, cid, AddressData(line1="5 Elm St", city="Dayton"))
    with db.read() as s:
        assert s.get(Contact, contact_id).is_primary
        assert s.get(Contact, contact_id).phone_national == "4155550100"
        assert s.get(Address, address_id).client_id == cid


def test_naughty_strings_round_trip_through_every_client_field(db, naughty_strings):
    ids = {}
    for i, text in enumerate(naughty_strings):
        name = clean_line(text) or f"blank {i}"
        ids[i] = clients.create_client(
            db,
            ClientData(
                name=text if clean_line(text) else name,
                company_name=text[:300],
                notes=text,
                tags=[text[:60]] if clean_line(text[:60]) else [],
                custom_fields={"Gate code": text[:1000]},
            ),
            [ContactData(name=text if clean_line(text) else name, role=text[:100])],
            [AddressData(line1=text if clean_line(text) else name, city=text[:120])],
        )
    with db.read() as s:
        for i, text in enumerate(naughty_strings):
            c = s.get(Client, ids[i])
            expected_name = clean_line(text) or f"blank {i}"
            assert c.name == expected_name
            assert c.company_name == clean_line(text[:300])
            assert c.notes == clean_text(text)
            assert c.custom_fields == {"Gate code": clean_line(text[:1000])}
            assert c.contacts[0].name == expected_name
            assert c.addresses[0].city == clean_line(text[:120])
            assert "\x1b" not in c.notes and "\x00" not in c.name


def test_a_concurrent_writer_surfaces_as_stale_record_not_a_crash(db):
    """Another writer bumped the row between our read and our flush (PostgreSQL can do that
    within a transaction): the user sees the StaleRecord message, and nothing is saved."""
    from sqlalchemy import text

    cid = _new(db)
    with pytest.raises(StaleRecord), db.write() as s:
        client = s.get(Client, cid)
        s.execute(text("UPDATE clients SET version = version + 1 WHERE id = :id"), {"id": cid})
        client.name = "Lost update"
    with db.read() as s:
        assert s.get(Client, cid).name == "Acme Lawn Care"


@pytest.mark.parametrize("change", [
    {"line1": "14 Main St"}, {"line2": "Unit 2"}, {"city": "Shelbyville"},
    {"postal_code": "62702"},
])
def test_editing_a_validated_address_clears_the_flag_and_a_label_does_not(db, change):
    import dataclasses

    from core.models import Address

    home = AddressData(line1="12 Main St", city="Springfield", region="IL", postal_code="62701",
                       label="Home")
    cid = clients.create_client(db, ClientData(name="Acme Lawn Care"), [], [home])
    with db.read() as s:
        [aid] = s.scalars(select(Address.id).where(Address.client_id == cid)).all()
    clients.mark_address_validated(db, aid, None)

    def validated() -> bool:
        with db.read() as s:
            return s.get(Address, aid).validated_at is not None

    assert validated()
    clients.save_client(db, cid, ClientData(name="Acme Lawn Care"), [],
                        [dataclasses.replace(home, id=aid, label="House")])
    assert validated()  # the label is ours, not the address USPS checked
    clients.save_client(db, cid, ClientData(name="Acme Lawn Care"), [],
                        [dataclasses.replace(home, id=aid, label="House", **change)])
    assert not validated()
