"""``tssg-crm export``, ``import clients|all`` and ``license``; and the privacy promises checked
on the wire: recording servers stand in for every outside endpoint while the flows run."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import app_paths
from core import analytics, export, licensing
from core.models import Client, Contact
from tests.cli.support import add_client, assert_usage_error, mode
from tests.conftest import IMPORT_SAMPLES
from tests.fakes.analytics_server import AnalyticsServer
from tests.fakes.license_server import LicenseServer
from tests.license_support import grant, plant_token, trust_test_key


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------- export


def test_export_writes_a_private_archive_and_says_where(cli, db, tmp_path):
    add_client(db, "Acme Lawn Care")
    out = tmp_path / "all.zip"
    result = cli("--db", db.url, "export", "--out", str(out))
    assert result.code == 0, result
    assert result.out.startswith("Exported ") and str(out) in result.out
    assert mode(out) == 0o600
    assert [r["name"] for r in export.csv_rows(out, "clients")] == ["Acme Lawn Care"]
    # never replaces a file silently
    assert_usage_error(cli("--db", db.url, "export", "--out", str(out)), "already exists")
    assert cli("--db", db.url, "export", "--out", str(out), "--force").code == 0


def test_export_into_a_folder_and_for_one_client(cli, db, tmp_path):
    ann = add_client(db, "Ann Smith")
    add_client(db, "Bob Jones")
    result = cli("--db", db.url, "export", "--client", str(ann), "--out", str(tmp_path))
    assert result.code == 0, result
    [archive] = tmp_path.glob(f"tssg-crm-export-client-{ann}-*.zip")
    assert [r["name"] for r in export.csv_rows(archive, "clients")] == ["Ann Smith"]


@pytest.mark.parametrize("argv", [["--client", "999"], ["--client", "x"],
                                  ["--out", "/nonexistent/dir/x.zip"]])
def test_export_bad_input(cli, db, argv):
    assert_usage_error(cli("--db", db.url, "export", *argv))


@pytest.mark.parametrize("license_state", ["missing", "expired", "tampered", "other_instance"])
def test_no_license_state_blocks_export_import_or_editing(cli, db, tmp_path, _isolated_home,
                                                          license_state):
    import datetime as dt

    from tests.license_support import now_utc, sign, token_payload

    if license_state == "expired":
        grant(_isolated_home, "sovereign", issued_at=now_utc() - dt.timedelta(days=400),
              expires_at=now_utc() - dt.timedelta(days=300), grace_days=0)
    elif license_state == "tampered":
        grant(_isolated_home, "premium")
        stored = json.loads(licensing.license_file(app_paths()).read_text())["token"]
        v, kid, _body, sig = stored.split(".")
        plant_token(_isolated_home, f"{v}.{kid}.eyJ0aWVyIjoic292ZXJlaWduIn0.{sig}")
    elif license_state == "other_instance":
        plant_token(_isolated_home, sign(token_payload("f" * 32, "premium")))
    assert licensing.effective_tier(app_paths(), trust_test_key(_isolated_home)) == "free"
    add_client(db, "Still Mine")
    out = tmp_path / "e.zip"
    assert cli("--db", db.url, "export", "--out", str(out)).code == 0
    result = cli("--db", db.url, "import", "clients", str(IMPORT_SAMPLES / "wave_clients.csv"),
                 "--yes")
    assert result.code == 0, result
    assert _count(db, Client) == 5


# --------------------------------------------------------------------------- import clients


def test_import_dry_run_previews_and_writes_nothing(cli, db):
    result = cli("--db", db.url, "import", "clients", str(IMPORT_SAMPLES / "zoho_contacts.csv"),
                 "--dry-run")
    assert result.code == 0, result
    assert "Format: Zoho Books" in result.out
    assert "To import: 5 clients, 5 contacts, 0 addresses." in result.out
    assert "Created Time: unknown column, 5 rows with a value" in result.out
    assert "shares a phone number" in result.out
    assert "Dry run: nothing was imported." in result.out
    assert _count(db, Client) == 0


@pytest.mark.parametrize(("sample", "clients_", "contacts"), [
    ("freshbooks_clients.csv", 2, 2), ("invoicely_clients.csv", 2, 2),
    ("wave_clients.csv", 4, 4), ("zoho_contacts.csv", 5, 5),
])
def test_import_each_sample(cli, db, sample, clients_, contacts):
    result = cli("--db", db.url, "import", "clients", str(IMPORT_SAMPLES / sample), "--yes")
    assert result.code == 0, result
    assert f"Imported {clients_} clients ({contacts} contacts" in result.out
    assert (_count(db, Client), _count(db, Contact)) == (clients_, contacts)


def test_import_without_yes_on_a_pipe_asks_for_it(cli, db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = cli("--db", db.url, "import", "clients", str(IMPORT_SAMPLES / "wave_clients.csv"))
    assert result.code == 2 and "--yes" in result.err
    assert _count(db, Client) == 0


def test_import_with_a_mapping(cli, db, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Kunde,EPost\nMüller GmbH,info@mueller.example\n", encoding="utf-8")
    assert_usage_error(cli("--db", db.url, "import", "clients", str(path), "--yes"), "--map")
    result = cli("--db", db.url, "import", "clients", str(path), "--map", "Kunde=company",
                 "--map", "EPost=email", "--yes")
    assert result.code == 0, result
    assert _count(db, Client) == 1


@pytest.mark.parametrize(("content", "words"), [
    (b'Name,Email\nAnn,ann@example.com\n"Bob,bob@example.com\n', "line 3"),
    (b"Name,Email\nAnn,ann@example.com\nBob,not-an-email\n", "line 3"),
])
def test_import_of_a_bad_file_exits_2_with_the_line_and_writes_nothing(cli, db, tmp_path,
                                                                        content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = cli("--db", db.url, "import", "clients", str(path), "--yes")
    assert result.code == 2
    assert len(result.err_lines) == 1 and words in result.err
    assert "nothing was imported" in result.err
    assert _count(db, Client) == 0


def test_import_bad_arguments(cli, db, tmp_path):
    assert_usage_error(cli("--db", db.url, "import", "clients", str(tmp_path / "none.csv")),
                       "no such file")
    sample = str(IMPORT_SAMPLES / "wave_clients.csv")
    assert_usage_error(cli("--db", db.url, "import", "clients", sample, "--map", "oops"))
    assert_usage_error(cli("--db", db.url, "import", "clients", sample, "--format", "quickbooks"))


# --------------------------------------------------------------------------- import all


def test_export_then_import_all_into_an_empty_database_restores_everything(cli, tmp_path):
    from core import migrate
    from core.db import Database
    from core.demo import seed_demo

    source = Database(str(tmp_path / "source.sqlite3"))
    migrate.upgrade(source)
    seed_demo(source, clients=5)
    archive = tmp_path / "e.zip"
    assert cli("--db", source.url, "export", "--out", str(archive)).code == 0
    target_path = tmp_path / "target.sqlite3"
    check = cli("--db", str(target_path), "import", "all", str(archive), "--dry-run")
    assert check.code == 0 and "checksums verified" in check.out
    result = cli("--db", str(target_path), "import", "all", str(archive), "--yes")
    assert result.code == 0, result
    target = Database(str(target_path))
    try:
        for table in ("clients", "invoices", "payments", "visits", "number_sequences"):
            assert export.csv_rows(archive, table) == _csv_of(target, table, tmp_path)
    finally:
        target.dispose()
        source.dispose()
    # a second import into the now-full database is refused, nothing doubled
    again = cli("--db", str(target_path), "import", "all", str(archive), "--yes")
    assert again.code == 1 and "empty database" in again.err


def _csv_of(db, table: str, tmp_path: Path) -> list[dict[str, str]]:
    out = tmp_path / f"check-{table}.zip"
    export.export_all(db, out)
    return export.csv_rows(out, table)


def test_import_all_refuses_a_damaged_archive(cli, db, tmp_path):
    add_client(db, "Ann")
    archive = tmp_path / "e.zip"
    export.export_all(db, archive)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b"Ann", b"Eve") if name.endswith(".json")
                         and "clients" in name else data)
    assert_usage_error(cli("--db", str(tmp_path / "new.sqlite3"), "import", "all", str(bad),
                           "--yes"), "checksum")


# --------------------------------------------------------------------------- license


def test_license_status_without_a_license(cli):
    result = cli("license")
    assert result.code == 0, result
    assert result.out.startswith("Tier: Free (none)")
    assert "Instance id: " in result.out and "Last check: never" in result.out


def test_license_status_with_a_granted_license(cli, _isolated_home):
    grant(_isolated_home, "sovereign")
    result = cli("license", "status")
    assert result.code == 0
    assert result.out.startswith("Tier: Sovereign (valid)")
    assert "lic-test-0001" in result.out


def test_license_check_now_prints_status_and_what_was_sent(cli, _isolated_home, monkeypatch):
    monkeypatch.setenv("TSSG_CRM_LICENSE_KEY", "LK-ABCD-EFGH-1234")
    with LicenseServer(tier="premium", update={"latest_version": "9.9.9"}) as server:
        trust_test_key(_isolated_home, server_url=server.url)
        result = cli("license", "check")
    assert result.code == 0, result
    assert "Tier: Premium (valid)" in result.out
    sent_line = next(line for line in result.out.splitlines() if line.startswith("Sent: "))
    sent = json.loads(sent_line[6:])
    assert set(sent) == set(licensing.CHECK_FIELDS)
    assert sent["license_key"] == "••••1234" and "LK-ABCD" not in result.out
    assert "Notice: New version available" in result.out


def test_license_check_with_the_server_down_keeps_the_tier_and_exits_1(cli, _isolated_home):
    grant(_isolated_home, "premium")
    with LicenseServer(mode="rejected") as server:
        trust_test_key(_isolated_home, server_url=server.url)
        result = cli("license", "check")
    assert result.code == 1
    assert "The check failed" in result.out and "Tier: Premium (valid)" in result.out


# --------------------------------------------------------------------------- on the wire


class _CatchAll(AnalyticsServer):
    """Stands in for Stripe, Twilio, USPS and the AI provider: must receive nothing here."""


def _write_config(home: Path, license_url: str, analytics_url: str, other: str) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[analytics]\nendpoint = "{analytics_url}"\n'
        f'[ai]\nbase_url = "{other}"\n'
        f'[integrations.stripe]\napi_base = "{other}"\n'
        f'[integrations.twilio]\napi_base = "{other}"\n'
        f'[integrations.usps]\napi_base = "{other}"\n',
        encoding="utf-8",
    )
    trust_test_key(home, server_url=license_url)


def test_privacy_promises_on_the_wire(cli, db, tmp_path, _isolated_home, naughty_strings,
                                      monkeypatch):
    from integrations.analytics import send_pending

    monkeypatch.setenv("TSSG_CRM_LICENSE_KEY", "LK-WIRE-TEST-0001")
    names = [s for s in naughty_strings if len(s.strip()) >= 4][:120]
    csv_path = tmp_path / "naughty.csv"
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["Name", "Email", "Notes"])
    for i, name in enumerate(names):
        writer.writerow([f"{name} {i}", f"n{i}@example.com", name])
    csv_path.write_text(buf.getvalue(), encoding="utf-8")

    with LicenseServer() as lic, AnalyticsServer() as stats, _CatchAll() as other:
        _write_config(_isolated_home, lic.url, stats.url, other.url.rsplit("/v1", 1)[0])
        paths = app_paths()
        config = trust_test_key(_isolated_home, server_url=lic.url)
        # a journey with analytics OFF: import, export, license check, status
        assert cli("--db", db.url, "import", "clients", str(csv_path), "--yes").code == 0
        assert cli("--db", db.url, "export", "--out", str(tmp_path / "e.zip")).code == 0
        assert cli("license", "check").code == 0
        assert cli("license").code == 0
        analytics.record_feature(paths, "screen.clients")  # what the TUI would count
        assert send_pending(paths, config, app_version="0.1.0") is False
        assert stats.requests == []  # analytics off: no analytics request, ever
        # now opted in: the batch carries counters only
        analytics.set_enabled(paths, True)
        analytics.record_feature(paths, "screen.clients")
        analytics.record_feature(paths, "action.client.import")
        analytics.record_error(paths, ValueError(names[0]))
        assert send_pending(paths, config, app_version="0.1.0") is True
        assert cli("license", "check").code == 0

    assert other.requests == []  # no Stripe/Twilio/USPS/AI traffic from these flows
    assert len(lic.checks) == 2
    for request in lic.checks:
        assert set(request.json) == set(licensing.CHECK_FIELDS)
    [batch] = stats.batches
    assert set(batch) == {"analytics_id", "app_version", "features", "errors"}
    wire = b"".join(r.body for r in lic.requests) + b"".join(b for _m, _p, b in stats.requests)
    wire_text = wire.decode("utf-8")
    for i, name in enumerate(names):
        # the stored name is unique; a bare naughty string under 8 characters ("null",
        # "1.00") could match the OS or Python version by chance
        needles = [f"{name} {i}", f"n{i}@example.com"] + ([name] if len(name) >= 8 else [])
        for needle in needles:
            assert needle not in wire_text, needle
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == len(names)
