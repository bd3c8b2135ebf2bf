"""Data rights on both backends: the full export (JSON + CSV, manifest, checksums) restores
every record exactly into an empty database; CSV cells cannot run as formulas; secrets never
appear; a client export holds only that client; anonymising erases the person, keeps the money."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from config import app_paths
from config.secrets import load_secrets
from core import clients, credit_notes, export, invoices, payments, search
from core.db import Database
from core.demo import seed_demo
from core.errors import DomainError, StaleRecord, TransitionError, ValidationError
from core.models import AuditEvent, Client, Contact, Invoice, Payment
from tests.core.factories import line

TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def empty_db(db, request, tmp_path):
    """A second migrated, empty database on the same backend as ``db``."""
    if db.is_sqlite:
        target = tmp_path / "restored.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        other = Database(str(target))
        yield other
        other.dispose()
        return
    tmpl = request.getfixturevalue("pg_template")
    name, url = tmpl.new()
    other = Database(url)
    yield other
    other.dispose()
    tmpl.drop(name)


def _person(db, name="Ann Smith", email="ann@example.com", phone="+12175550123", **kw):
    return clients.create_client(
        db, clients.ClientData(name=name, **kw),
        [clients.ContactData(name=name, email=email, phone=phone, role="owner")],
        [clients.AddressData(line1="12 Elm Street", city="Springfield", region="IL",
                             postal_code="62701", kind="billing")],
    )


def _paid_invoice(db, client_id, cents=10_000, notes=""):
    inv = invoices.create_blank(db, client_id, [line(unit_price_cents=cents)], notes=notes)
    invoices.issue(db, inv, TODAY)
    pay = payments.record_payment(db, inv, cents, "card", TODAY, reference="visa 4242")
    return inv, pay


def _dump(db: Database) -> dict[str, list[dict]]:
    out = {}
    with db.read() as s:
        for table in export.exported_tables():
            rows = s.execute(select(table).order_by(*export._order(table))).mappings()
            out[table.name] = [dict(r) for r in rows]
    return out


def _zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def test_full_export_restores_every_record_exactly(db, empty_db, tmp_path, naughty_strings):
    seed_demo(db, clients=8, today=TODAY)
    odd = _person(db, name="=HYPERLINK(\"http://evil\")", notes="+1 line\n-2 line",
                  custom_fields={f"n{i}": s[:1000] for i, s in enumerate(naughty_strings)
                                 if s.strip() and not any(ord(c) < 32 for c in s)})
    inv, pay = _paid_invoice(db, odd, 12_345)
    payments.refund(db, pay, 2_345, "goodwill", TODAY)
    inv2 = invoices.create_blank(db, odd, [line(unit_price_cents=5_000)])
    invoices.issue(db, inv2, TODAY)
    credit_notes.issue_credit_note(db, inv2, 1_000, "late", issued_on=TODAY)
    before = _dump(db)

    archive = tmp_path / "export.zip"
    summary = export.export_all(db, archive)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert summary.rows["clients"] == 9 and summary.rows["refunds"] == 1

    restored = export.restore_all(empty_db, archive)
    assert restored == {name: len(rows) for name, rows in before.items()}
    after = _dump(empty_db)
    restore_events = after["audit_events"][len(before["audit_events"]):]
    assert [e["action"] for e in restore_events] == ["data.restore"]
    after["audit_events"] = after["audit_events"][: len(before["audit_events"])]
    assert after == before

    # the restored database works: search index filled, new ids and numbers continue
    assert [h.label for h in search.search(empty_db, "HYPERLINK")]
    new_client = clients.create_client(empty_db, clients.ClientData(name="After Restore"))
    assert new_client > max(r["id"] for r in before["clients"])
    new_inv = invoices.create_blank(empty_db, new_client, [line()])
    invoices.issue(empty_db, new_inv, TODAY)
    with empty_db.read() as s:
        numbers = list(s.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
    assert len(numbers) == len(set(numbers))


def test_manifest_lists_every_table_with_checksums(db, tmp_path):
    _person(db)
    archive = export.export_all(db, tmp_path / "e.zip").path
    manifest = json.loads(export.archive_bytes(archive, "manifest.json"))
    assert manifest["format"] == "tssg-crm-export" and manifest["scope"] == {"kind": "all"}
    assert set(manifest["tables"]) == {t.name for t in export.exported_tables()}
    for meta in manifest["tables"].values():
        assert meta["json"] in manifest["files"] and meta["csv"] in manifest["files"]
    with zipfile.ZipFile(archive) as zf:
        assert set(zf.namelist()) == set(manifest["files"]) | {"manifest.json"}
    assert export.read_archive(archive).rows["clients"] == 1


def _tamper(archive: Path, out: Path, member: str, change) -> None:
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, change(data) if name == member else data)


def test_a_damaged_archive_is_refused_before_anything_is_written(db, empty_db, tmp_path):
    _person(db)
    archive = export.export_all(db, tmp_path / "e.zip").path
    bad = tmp_path / "bad.zip"
    _tamper(archive, bad, "json/clients.json", lambda b: b.replace(b"Ann Smith", b"Eve Smith"))
    with pytest.raises(ValidationError) as err:
        export.restore_all(empty_db, bad)
    assert "checksum" in str(err.value)
    with empty_db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
        assert s.scalar(select(func.count()).select_from(Client)) == 0


def test_not_an_archive_is_refused(db, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_text("clients,name\n")
    with pytest.raises(ValidationError):
        export.restore_all(db, junk)


def test_restore_refuses_a_database_with_records(db, tmp_path):
    _person(db)
    archive = export.export_all(db, tmp_path / "e.zip").path
    with pytest.raises(DomainError) as err:
        export.restore_all(db, archive)
    assert "empty database" in str(err.value)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == 1


def test_csv_cells_cannot_run_as_formulas_and_json_keeps_the_exact_text(db, tmp_path):
    names = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "Normal"]
    for name in names:
        clients.create_client(db, clients.ClientData(name=name, notes="=cmd|' /C calc'!A0"))
    archive = export.export_all(db, tmp_path / "e.zip").path
    rows = export.csv_rows(archive, "clients")
    by_id = sorted(rows, key=lambda r: int(r["id"]))
    assert [r["name"] for r in by_id] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "TAB", "Normal"]
    assert all(r["notes"] == "'=cmd|' /C calc'!A0" for r in rows)
    assert all(not r["name"].startswith(("=", "+", "-", "@")) for r in rows)
    exact = json.loads(export.archive_bytes(archive, "json/clients.json"))
    assert sorted(r["name"] for r in exact) == sorted(["=1+1", "+SUM(A1)", "-2+3", "@cmd", "TAB",
                                                       "Normal"])


def test_numbers_in_csv_are_not_mangled(db, tmp_path):
    cid = _person(db)
    _paid_invoice(db, cid, 9_999)
    archive = export.export_all(db, tmp_path / "e.zip").path
    [payment] = export.csv_rows(archive, "payments")
    assert payment["amount_cents"] == "9999"
    [inv] = export.csv_rows(archive, "invoices")
    assert inv["discount_value"] == "0" and inv["status"] == "paid"


def test_secrets_are_never_in_an_export(db, tmp_path, monkeypatch):
    secrets = load_secrets(app_paths().secrets_file)
    secrets.set("stripe_api_key", "sk_live_SECRETSECRET123")
    monkeypatch.setenv("TSSG_CRM_LICENSE_KEY", "LK-VERY-SECRET-9999")
    _person(db)
    archive = export.export_all(db, tmp_path / "e.zip").path
    content = _zip_text(archive)
    assert "sk_live_SECRETSECRET123" not in content
    assert "LK-VERY-SECRET-9999" not in content
    assert export.withheld_columns() == {}  # no table holds a secret today


def test_client_export_holds_only_that_client(db, tmp_path):
    ann = _person(db)
    bob = _person(db, name="Bob Jones", email="bob@example.com", phone="+12175550199")
    _paid_invoice(db, ann, 5_000, notes="for Ann")
    _paid_invoice(db, bob, 7_000, notes="for Bob")
    summary = export.export_client(db, ann, tmp_path / "ann.zip")
    content = _zip_text(summary.path)
    assert "Ann Smith" in content and "ann@example.com" in content
    assert "Bob Jones" not in content and "bob@example.com" not in content
    assert summary.rows["clients"] == 1 and summary.rows["invoices"] == 1
    assert summary.rows["invoice_lines"] == 1 and summary.rows["payments"] == 1
    assert summary.rows["contacts"] == 1 and summary.rows["addresses"] == 1
    assert "users" not in summary.rows  # staff are not the client's data
    assert export.read_archive(summary.path).manifest["scope"] == {"kind": "client",
                                                                   "client_id": ann}


def test_a_client_export_cannot_be_restored_as_a_database(db, empty_db, tmp_path):
    ann = _person(db)
    path = export.export_client(db, ann, tmp_path / "ann.zip").path
    with pytest.raises(ValidationError):
        export.restore_all(empty_db, path)


def test_anonymise_erases_the_person_and_keeps_the_money(db):
    ann = _person(db, notes="Ann's dog is called Rex", custom_fields={"gate": "1234"},
                  tags=["vip"])
    inv, pay = _paid_invoice(db, ann, 8_000, notes="Thanks Ann Smith!")
    bob = _person(db, name="Bob Jones", email="bob@example.com", phone="+12175550199")
    export.anonymise_client(db, ann)
    with db.read() as s:
        client = s.get(Client, ann)
        assert client.name == f"Anonymised client #{ann}"
        assert (client.notes, client.custom_fields, client.company_name) == ("", {}, "")
        assert client.tags == [] and client.anonymised_at is not None
        contact = s.scalars(select(Contact).where(Contact.client_id == ann)).one()
        assert (contact.email, contact.phone, contact.phone_national) == ("", "", "")
        assert "Ann" not in contact.name
        assert [a.line1 for a in client.addresses] == ["[erased]"]
        invoice = s.get(Invoice, inv)
        assert (invoice.total_cents, invoice.status, invoice.client_id) == (8_000, "paid", ann)
        assert "Ann Smith" not in invoice.notes
        assert s.get(Payment, pay).amount_cents == 8_000
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.client_id == ann)))
        assert events[-1].action == "client.anonymise"
        blob = json.dumps([(e.summary, e.before, e.after) for e in events])
        assert "Ann Smith" not in blob and "ann@example.com" not in blob
        assert "+12175550123" not in blob
        assert s.get(Client, bob).name == "Bob Jones"  # others untouched
    assert search.search(db, "ann@example.com") == []
    assert search.search(db, "Smith") == []


def test_anonymise_twice_or_stale_writes_nothing(db):
    ann = _person(db)
    with db.read() as s:
        version = s.get(Client, ann).version
    clients.save_client(db, ann, clients.ClientData(name="Ann Smyth"))
    with pytest.raises(StaleRecord):
        export.anonymise_client(db, ann, expected_version=version)
    with db.read() as s:
        assert s.get(Client, ann).name == "Ann Smyth"
    export.anonymise_client(db, ann)
    with db.read() as s:
        count = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(TransitionError):
        export.anonymise_client(db, ann)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == count


def test_export_to_a_missing_folder_is_a_clear_error(db, tmp_path):
    with pytest.raises(ValidationError):
        export.export_all(db, tmp_path / "nope" / "e.zip")
    assert not list(tmp_path.glob("**/.export-*"))


def test_export_reads_one_consistent_snapshot_without_writing(db, tmp_path):
    _person(db)
    with db.read() as s:
        before = s.scalar(text("SELECT COUNT(*) FROM audit_events"))
    export.export_all(db, tmp_path / "e.zip")
    with db.read() as s:
        assert s.scalar(text("SELECT COUNT(*) FROM audit_events")) == before


def test_anonymise_blanks_the_text_message_log_but_keeps_the_opt_out(db):
    from core.models import SmsMessage, SmsOptOut

    ann = _person(db)
    with db.write() as s:
        s.add(SmsMessage(client_id=ann, to_phone="+12175550123", body="Hi Ann, see you at 9",
                         status="delivered"))
        s.add(SmsOptOut(phone="+12175550123", opted_out_at=dt.datetime(2026, 1, 2)))
    export.anonymise_client(db, ann)
    with db.read() as s:
        message = s.scalars(select(SmsMessage).where(SmsMessage.client_id == ann)).one()
        assert (message.to_phone, message.body, message.status) == ("", "", "delivered")
        # a person who said STOP must never be texted again, anonymised or not
        assert s.get(SmsOptOut, "+12175550123") is not None
