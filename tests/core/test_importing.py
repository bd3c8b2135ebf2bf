"""Importing client lists on both backends: the four sample exports (every row, contacts and
addresses split, unknown columns reported), any CSV through a mapping, duplicates reported,
malformed files refused with the line number, and all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import clients, importing
from core.importing import ImportRefused
from core.models import Address, AuditEvent, Client, Contact
from tests.conftest import IMPORT_SAMPLES

SAMPLES = {
    # file: (format, rows, clients, contacts, billing addresses)
    "freshbooks_clients.csv": ("freshbooks", 2, 2, 2, 1),
    "invoicely_clients.csv": ("invoicely", 2, 2, 2, 0),
    "wave_clients.csv": ("wave", 4, 4, 4, 4),
    "zoho_contacts.csv": ("zoho", 5, 5, 5, 0),
}


def _counts(db) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Client, Contact,
                                                                             Address))


def _client(db, name: str) -> Client:
    with db.read() as s:
        client = s.scalars(select(Client).where(Client.name == name)).one()
        _ = client.contacts, client.addresses, client.tags
        return client


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_sample_imports_every_row(db, sample):
    fmt, rows, n_clients, n_contacts, n_addresses = SAMPLES[sample]
    path = IMPORT_SAMPLES / sample
    preview = importing.plan_import(db, path)
    assert preview.format == fmt and preview.rows_read == rows
    assert _counts(db) == (0, 0, 0)  # the preview wrote nothing
    assert preview.errors == [] and preview.skipped == []
    plan = importing.run_import(db, path)
    assert plan.imported and len(plan.clients) == n_clients
    assert _counts(db) == (n_clients, n_contacts, n_addresses)
    # nothing silently dropped: every non-empty cell is imported or its column is listed
    csv_file = importing.read_csv(path)
    listed = {c.column for c in plan.columns_not_imported}
    for _line, cells in csv_file.rows:
        for column, cell in zip(csv_file.header, cells, strict=True):
            if cell.strip():
                assert column in plan.mapping or column in listed, column


def test_freshbooks_person_and_company_with_split_contact_and_address(db):
    importing.run_import(db, IMPORT_SAMPLES / "freshbooks_clients.csv")
    marge = _client(db, "Marge Simpson")
    assert marge.kind == "person"
    [contact] = marge.contacts
    assert (contact.name, contact.email, contact.is_primary) == ("Marge Simpson",
                                                                 "marge@simpsons.com", True)
    [address] = marge.addresses
    assert (address.kind, address.line1, address.city, address.region, address.country) == (
        "billing", "2587 Sesame Street", "Springfield", "Illinois", "US")
    # an invalid phone is kept, not lost
    assert marge.custom_fields["Phone (as imported)"] == "867-5309"
    xmen = _client(db, "X-Men")
    assert (xmen.kind, xmen.company_name) == ("company", "X-Men")
    assert xmen.contacts[0].name == "Scott Summer"


def test_wave_maps_extra_columns_to_custom_fields_and_reports_unknown_ones(db):
    plan = importing.run_import(db, IMPORT_SAMPLES / "wave_clients.csv")
    jessica = _client(db, "Jessica Jones")
    assert jessica.addresses[0].country == "AU" and jessica.addresses[0].line2 == "Apt 4"
    assert jessica.custom_fields["Currency"] == "AUD"
    assert {(c.column, c.values) for c in plan.columns_not_imported} >= {("shipping_address", 4)}


def test_zoho_shared_office_phone_is_imported_twice_with_a_warning(db):
    plan = importing.run_import(db, IMPORT_SAMPLES / "zoho_contacts.csv")
    assert any("shares a phone number" in n.message and n.line == 6 for n in plan.warnings)
    defenders = _client(db, "Defenders")
    assert defenders.contacts[0].phone == "+18888675309"
    assert defenders.custom_fields["Mobile"] == "98754321"
    assert "Created Time" in {c.column for c in plan.columns_not_imported}
    avengers = _client(db, "Avengers")
    assert avengers.kind == "company" and avengers.contacts[0].name == "Thor Odensohn"


def test_reimporting_a_file_reports_duplicates_and_doubles_nothing(db):
    path = IMPORT_SAMPLES / "invoicely_clients.csv"
    importing.run_import(db, path)
    again = importing.run_import(db, path)
    assert again.clients == []
    assert [n.line for n in again.duplicates] == [2, 3]
    assert all("same email" in n.message for n in again.duplicates)
    assert [n.line for n in again.skipped] == [2, 3]
    assert _counts(db)[0] == 2


def test_duplicates_within_a_file_by_email_or_phone(db):
    data = (
        b"Name,Email,Phone\n"
        b"Ann Smith,ann@example.com,217-555-0123\n"
        b"Ann S.,ANN@example.com,\n"          # same email, other case
        b"Ann at home,,(217) 555-0123\n"       # same phone, no email to tell apart
        b"Bob,bob@example.com,217-555-0123\n"  # same phone, own email: separate person
    )
    plan = importing.plan_import(db, data)
    assert [n.line for n in plan.duplicates] == [3, 4]
    assert [p.client.name for p in plan.clients] == ["Ann Smith", "Bob"]
    assert any(n.line == 5 and "shares a phone" in n.message for n in plan.warnings)
    everything = importing.plan_import(db, data, duplicates="import")
    assert len(everything.clients) == 4 and len(everything.duplicates) == 2


def test_duplicate_of_an_existing_client_by_phone(db):
    clients.create_client(db, clients.ClientData(name="Existing"),
                          [clients.ContactData(name="Existing", phone="+12175550123")])
    plan = importing.plan_import(db, b"Name,Phone\nNew Person,217 555 0123\n")
    assert plan.clients == []
    assert "Existing" in plan.duplicates[0].message


def test_any_csv_through_a_column_mapping(db):
    data = ("Kunde;EPost;Strasse;Ort;Land;Bemerkung;Extra\n"
            "Müller GmbH;info@mueller.example;Hauptstr. 1;Berlin;Germany;Stammkunde;x\n")
    data = data.replace(";", ",").encode()
    with pytest.raises(ImportRefused) as err:
        importing.plan_import(db, data)
    assert "--map" in str(err.value)
    mapping = importing.parse_mapping(["Kunde=company", "EPost=email", "Strasse=billing.street",
                                       "Ort=billing.city", "Land=billing.country",
                                       "Bemerkung=custom:Remark"])
    plan = importing.run_import(db, data, mapping=mapping)
    client = _client(db, "Müller GmbH")
    assert client.kind == "company" and client.custom_fields == {"Remark": "Stammkunde"}
    assert client.addresses[0].country == "DE" and client.addresses[0].city == "Berlin"
    assert [(c.column, c.values) for c in plan.columns_not_imported] == [("Extra", 1)]


def test_generic_headers_are_recognised_without_a_mapping(db):
    data = b"Client Name,E-mail,Phone Number,Address,City,State,ZIP,Tags\n" \
           b"Pat Lee,pat@example.com,+1 217 555 0144,1 Oak Rd,Springfield,IL,62701,vip; weekly\n"
    plan = importing.run_import(db, data)
    assert plan.format == "generic"
    pat = _client(db, "Pat Lee")
    assert pat.contacts[0].phone == "+12175550144"
    assert pat.addresses[0].postal_code == "62701"
    assert sorted(t.tag for t in pat.tags) == ["vip", "weekly"]


@pytest.mark.parametrize(("items", "words"), [
    (["nocolumn"], "COLUMN=FIELD"),
    (["A=favourite_colour"], "not a field"),
    (["A=custom:"], "not a field"),
])
def test_bad_mappings_are_refused(items, words):
    with pytest.raises(Exception) as err:
        importing.parse_mapping(items)
    assert words in str(err.value)


def test_mapping_a_missing_column_names_it(db):
    with pytest.raises(Exception) as err:
        importing.plan_import(db, b"Name\nAnn\n", mapping={"Nope": "email"})
    assert "Nope" in str(err.value)


@pytest.mark.parametrize(("data", "line"), [
    (b'Name,Email\nAnn,ann@example.com\n"Bob,bob@example.com\n', 3),
    (b"Name,Email\nAnn,ann@example.com\nBob,bob@example.com,extra,cells\n", 3),
    (b"Name,Email\nAnn,ann@example.com\nZo\xe9,zoe@example.com\n", 3),
    (b"Name,Email\nAnn,a\x00b\n", 2),
    (b"Name,Name\nAnn,Ann\n", 1),
])
def test_malformed_csv_is_refused_with_the_line_number_and_nothing_written(db, data, line):
    with pytest.raises(ImportRefused) as err:
        importing.run_import(db, data)
    assert f"line {line}" in str(err.value)
    assert _counts(db) == (0, 0, 0)


def test_a_bad_row_makes_the_whole_import_write_nothing(db):
    data = (b"Name,Email\nAnn,ann@example.com\nBob,not-an-email\nCid,cid@example.com\n"
            b",\n")
    preview = importing.plan_import(db, data)
    assert [(n.line, "email" in n.message) for n in preview.errors] == [(3, True)]
    assert [n.line for n in preview.skipped] == [5]
    with pytest.raises(ImportRefused) as err:
        importing.run_import(db, data)
    assert "line 3" in str(err.value) and "Nothing was imported" in str(err.value)
    assert _counts(db) == (0, 0, 0)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_import_writes_an_audit_event_per_client_and_one_for_the_import(db):
    importing.run_import(db, IMPORT_SAMPLES / "freshbooks_clients.csv")
    with db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["client.import", "client.import", "import.clients"]


def test_naughty_strings_in_a_csv_import_exactly_as_cleaned(db, naughty_strings):
    import csv
    import io

    from core.text import clean_line, clean_text

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Name", "Notes"])
    expected = []
    for i, s in enumerate(naughty_strings):
        writer.writerow([f"{i} {s}"[:300], s])
        expected.append((clean_line(f"{i} {s}"[:300]), clean_text(s).strip()))
    plan = importing.run_import(db, buf.getvalue().encode("utf-8"))
    assert plan.errors == [] and len(plan.clients) == len(naughty_strings)
    with db.read() as s:
        stored = sorted(s.execute(select(Client.name, Client.notes)).all())
    assert sorted(stored) == sorted(expected)
