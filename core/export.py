"""Data rights: export everything (or one client) as JSON + CSV in one zip, restore a full
export into an empty database, and anonymise a client.

The archive holds ``manifest.json`` plus ``json/<table>.json`` and ``csv/<table>.csv`` for every
table; the manifest lists row counts, columns and the SHA-256 of every file, and a restore
verifies all of them before it writes anything. JSON is the exact copy (dates ISO 8601, exact
decimals as strings, money as integer cents); CSV is for spreadsheets: UTF-8 with a BOM, text
cells starting with ``= + - @`` (and tab/CR, per OWASP) prefixed with ``'``, numbers untouched.

Decisions where the issue is silent:
- Secrets live outside the database, so no table holds them; as a guard, any column whose name
  says secret/password/api_key/auth/access/refresh token is withheld and listed in the manifest.
- The export is read in one transaction (REPEATABLE READ on PostgreSQL) so it is consistent,
  streamed table by table, and written to a temporary file renamed into place, mode 0600
  (it contains everything). Exporting is never gated by the license tier.
- A client export holds every row that belongs to the client: rows with its ``client_id`` and
  rows reached from those through a required foreign key (lines, visits, refunds ...).
- Anonymising erases the client's name (a placeholder "Anonymised client #ID" replaces it),
  company, notes, tags, custom fields, contacts' names/emails/phones/roles and addresses' street,
  city and ZIP (state and country stay, as tax records need them); documents, payments and
  their amounts stay, and the client's names, emails, phones and street lines are scrubbed
  from free text (notes, task titles, audit summaries and snapshots). It is one transaction
  with one audit event, and cannot be undone.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Date, DateTime, Table, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core import audit
from core.db import Database
from core.errors import DomainError, NotFound, StaleRecord, TransitionError, ValidationError
from core.models import (
    AuditEvent,
    Base,
    Client,
    DecimalText,
    Invoice,
    Job,
    JSONText,
    Proposal,
    ServiceLog,
    Task,
    utcnow,
)

FORMAT = "tssg-crm-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SECRET_COLUMN = re.compile(
    r"(secret|password|passwd|api_key|apikey|auth_token|access_token|refresh_token|private_key)",
    re.IGNORECASE,
)
ERASED = "[erased]"


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    scope: dict[str, Any]
    rows: dict[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# --------------------------------------------------------------------------- values


def neutralise_cell(value: str) -> str:
    """A CSV text cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _csv_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(column.type, JSONText):
        return neutralise_cell(json.dumps(value, ensure_ascii=False, sort_keys=True))
    if isinstance(value, str):
        return neutralise_cell(value)
    return _json_value(value)


def _from_json(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, DecimalText):
        return Decimal(value)
    return value


# --------------------------------------------------------------------------- tables


def exported_tables() -> list[Table]:
    """Every table of the app, parents before children."""
    return list(Base.metadata.sorted_tables)


def exported_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if not SECRET_COLUMN.search(c.name)]


def withheld_columns() -> dict[str, list[str]]:
    out = {t.name: [c.name for c in t.columns if SECRET_COLUMN.search(c.name)]
           for t in exported_tables()}
    return {k: v for k, v in out.items() if v}


def _client_scopes(client_id: int) -> dict[str, ColumnElement[bool]]:
    """table name -> condition selecting the rows that belong to one client."""
    scopes: dict[str, ColumnElement[bool]] = {}
    tables = exported_tables()
    for table in tables:
        if table.name == "clients":
            scopes[table.name] = table.c.id == client_id
        elif "client_id" in table.c:
            scopes[table.name] = table.c.client_id == client_id
    changed = True
    while changed:  # follow required foreign keys down from scoped tables
        changed = False
        for table in tables:
            if table.name in scopes:
                continue
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
                parent = fk.column.table
                if fk.parent.nullable or parent.name not in scopes:
                    continue
                scopes[table.name] = fk.parent.in_(
                    select(fk.column).where(scopes[parent.name]).scalar_subquery()
                )
                changed = True
                break
    return scopes


def _order(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns) or list(table.columns)


def _schema_revision(s: Session) -> str | None:
    try:
        return s.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # a database made without Alembic (tests' metadata.create_all)
        return None


# --------------------------------------------------------------------------- export


def export_all(db: Database, out: Path, *, now: dt.datetime | None = None) -> ExportSummary:
    """Write every table to the zip ``out`` (replaced atomically, mode 0600)."""
    return _export(db, out, {"kind": "all"}, None, now)


def export_client(db: Database, client_id: int, out: Path, *,
                  now: dt.datetime | None = None) -> ExportSummary:
    """Write everything that belongs to one client (a data-access request) to ``out``."""
    with db.read() as s:
        if s.get(Client, client_id) is None:
            raise NotFound("Client", client_id)
    return _export(db, out, {"kind": "client", "client_id": client_id},
                   _client_scopes(client_id), now)


def _export(db: Database, out: Path, scope: dict[str, Any],
            scopes: dict[str, ColumnElement[bool]] | None, now: dt.datetime | None) -> ExportSummary:
    out = Path(out)
    if out.is_dir():
        raise ValidationError("file", f"{out} is a folder; name the archive file")
    if not out.parent.is_dir():
        raise ValidationError("file", f"{out.parent} does not exist")
    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "scope": scope,
            "tables": {},
            "withheld_columns": withheld_columns(),
            "files": {},
        }
        rows: dict[str, int] = {}
        with db.read() as s:
            if not db.is_sqlite:
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            manifest["schema_revision"] = _schema_revision(s)
            for table in exported_tables():
                if scopes is not None and table.name not in scopes:
                    continue
                columns = exported_columns(table)
                query = select(*columns).order_by(*_order(table))
                if scopes is not None:
                    query = query.where(scopes[table.name])
                count = _write_table(s, table.name, columns, query, work)
                rows[table.name] = count
                manifest["tables"][table.name] = {
                    "rows": count,
                    "columns": [c.name for c in columns],
                    "json": f"json/{table.name}.json",
                    "csv": f"csv/{table.name}.csv",
                }
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                for name in sorted(p.relative_to(work).as_posix() for p in work.rglob("*.*")):
                    manifest["files"][name] = _add_file(zf, work / name, name)
                zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            os.chmod(tmp, 0o600)
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExportSummary(path=out, scope=scope, rows=rows)


def _write_table(s: Session, name: str, columns: list[Column[Any]], query: Any,
                 work: Path) -> int:
    (work / "json").mkdir(exist_ok=True)
    (work / "csv").mkdir(exist_ok=True)
    count = 0
    with (work / "json" / f"{name}.json").open("w", encoding="utf-8") as jf, \
            (work / "csv" / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as cf:
        writer = csv.writer(cf)
        writer.writerow([c.name for c in columns])
        jf.write("[")
        for row in s.execute(query.execution_options(yield_per=500)):
            record = {c.name: _json_value(v) for c, v in zip(columns, row, strict=True)}
            jf.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
            writer.writerow([_csv_value(c, v) for c, v in zip(columns, row, strict=True)])
            count += 1
        jf.write("\n]\n")
    return count


def _add_file(zf: zipfile.ZipFile, path: Path, name: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as src, zf.open(name, "w", force_zip64=True) as dst:
        for chunk in iter(lambda: src.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


# --------------------------------------------------------------------------- restore


@dataclass
class Archive:
    path: Path
    manifest: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)


def read_archive(path: Path) -> Archive:
    """Open an export and verify the manifest and every checksum; raise ValidationError."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValidationError("file", f"{path} is not a TSSG CRM export archive ({exc})") from None
    with zf:
        try:
            manifest = json.loads(zf.read(MANIFEST))
        except (KeyError, ValueError):
            raise ValidationError("file", f"{path} has no readable {MANIFEST}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValidationError("file", f"{path} is not a TSSG CRM export archive")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ValidationError("file", f"{path} is export format "
                                          f"{manifest.get('format_version')}; this app reads "
                                          f"{FORMAT_VERSION}")
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise ValidationError("file", f"{path}: the manifest lists no files")
        for name, meta in files.items():
            try:
                data = zf.read(name)
            except KeyError:
                raise ValidationError("file", f"{path}: {name} is missing") from None
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                raise ValidationError("file", f"{path}: {name} does not match its checksum; "
                                              "the archive is damaged or was edited")
        for table, meta in manifest.get("tables", {}).items():
            if meta.get("json") not in files:
                raise ValidationError("file", f"{path}: table {table} has no checked JSON file")
    return Archive(path=path, manifest=manifest,
                   rows={t: m["rows"] for t, m in manifest.get("tables", {}).items()})


def _archive_rows(zf: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    rows = json.loads(zf.read(name))
    if not isinstance(rows, list):
        raise ValidationError("file", f"{name} is not a list of rows")
    yield from rows


def restore_all(db: Database, path: Path, *, actor: str = "owner") -> dict[str, int]:
    """Load a full export into an EMPTY database, ids and all, in one transaction.

    Checksums are verified before anything is written; a database that already holds
    records is refused (a restore never merges).
    """
    archive = read_archive(path)
    manifest = archive.manifest
    if manifest.get("scope", {}).get("kind") != "all":
        raise ValidationError("file", "this is a one-client export; only a full export can be "
                                      "restored")
    known = {t.name: t for t in exported_tables()}
    for name, meta in manifest["tables"].items():
        if name not in known:
            raise ValidationError("file", f"the export has a table '{name}' this version of the "
                                          "app does not know; update the app first")
        missing = set(meta["columns"]) - set(known[name].c.keys())
        if missing:
            raise ValidationError("file", f"the export's {name} has columns this version does "
                                          f"not know ({', '.join(sorted(missing))})")
    restored: dict[str, int] = {}
    with db.write() as s, zipfile.ZipFile(path) as zf:
        for table in known.values():
            if s.scalar(select(func.count()).select_from(table)):
                raise DomainError(
                    f"The database already holds records ({table.name}); restore an export "
                    "only into a new, empty database (use --db NEW.sqlite3)."
                )
        for table in exported_tables():
            meta = manifest["tables"].get(table.name)
            if meta is None:
                continue
            batch: list[dict[str, Any]] = []
            count = 0
            for row in _archive_rows(zf, meta["json"]):
                batch.append({c: _from_json(table.c[c], v) for c, v in row.items()})
                if len(batch) >= 500:
                    s.execute(table.insert(), batch)
                    count += len(batch)
                    batch = []
            if batch:
                s.execute(table.insert(), batch)
                count += len(batch)
            if count != meta["rows"]:
                raise ValidationError("file", f"{table.name}: {count} rows found, the manifest "
                                              f"says {meta['rows']}")
            restored[table.name] = count
        if not db.is_sqlite:
            _reset_sequences(s, exported_tables())
        audit.record(s, actor, "data.restore", "database", None,
                     f"Restored {sum(restored.values())} records from an export made "
                     f"{manifest.get('created_at', '?')}", after={"rows": restored})
    return restored


def _reset_sequences(s: Session, tables: Iterable[Table]) -> None:
    """PostgreSQL: move each id sequence past the restored ids (explicit ids do not)."""
    for table in tables:
        column = table.autoincrement_column
        if column is None:
            continue
        highest = select(func.max(column)).scalar_subquery()
        s.execute(select(func.setval(func.pg_get_serial_sequence(table.name, column.name),
                                     func.coalesce(highest, 0) + 1, False)))


# --------------------------------------------------------------------------- anonymise


def placeholder_name(client_id: int) -> str:
    return f"Anonymised client #{client_id}"


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        for needle in needles:
            if needle in value:
                value = value.replace(needle, ERASED)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


def anonymise_client(db: Database, client_id: int, *, expected_version: int | None = None,
                     actor: str = "owner") -> None:
    """Erase a client's personal data, keep their financial records (see module docstring)."""
    with db.write() as s:
        client = s.get(Client, client_id)
        if client is None:
            raise NotFound("Client", client_id)
        if expected_version is not None and client.version != expected_version:
            raise StaleRecord("client")
        if client.anonymised_at is not None:
            raise TransitionError("This client was already anonymised; there is nothing left "
                                  "to erase.")
        needles = {client.name, client.company_name, client.notes}
        for contact in client.contacts:
            needles |= {contact.name, contact.email, contact.phone, contact.phone_national}
        for address in client.addresses:
            needles |= {address.line1, address.line2}
        # longest first, so "Ann Smith" is erased before "Ann"; very short strings would
        # erase ordinary words
        ordered = sorted((n for n in needles if n and len(n) >= 3), key=len, reverse=True)
        counts = {"contacts": len(client.contacts), "addresses": len(client.addresses)}

        client.name = placeholder_name(client.id)
        client.sort_name = client.name.casefold()
        client.company_name = ""
        client.notes = ""
        client.custom_fields = {}
        client.kind = "person"
        client.status = "archived"
        client.anonymised_at = utcnow()
        client.tags = []
        for n, contact in enumerate(client.contacts, start=1):
            contact.name = f"Contact {n}"
            contact.email = contact.phone = contact.phone_national = contact.role = ""
            contact.sms_consent = False
        for address in client.addresses:
            address.label = ""
            address.line1 = ERASED
            address.line2 = address.city = address.postal_code = ""
            address.validated_at = None

        def scrub_text(model: Any, *columns: str) -> None:
            for row in s.scalars(select(model).where(model.client_id == client.id)):
                for col in columns:
                    old = getattr(row, col)
                    new = _scrub(old, ordered)
                    if new != old:
                        setattr(row, col, new)

        scrub_text(Task, "title", "notes")
        scrub_text(ServiceLog, "notes", "materials")
        scrub_text(Proposal, "title", "notes", "changes_requested")
        scrub_text(Job, "title", "description")
        scrub_text(Invoice, "notes")
        for event in s.scalars(select(AuditEvent).where(AuditEvent.client_id == client.id)):
            event.summary = _scrub(event.summary, ordered)
            event.before = _scrub(event.before, ordered)
            event.after = _scrub(event.after, ordered)
        from core import messaging  # the text log holds their number and what was said

        counts["sms_messages"] = messaging.forget_client_in(s, client.id)
        s.flush()
        audit.record(s, actor, "client.anonymise", "client", client.id,
                     f"Anonymised client #{client.id}: personal data erased, financial "
                     "records kept", client_id=client.id, after=counts)


def archive_bytes(path: Path, name: str) -> bytes:
    """One file from an export (tests and the Settings preview read the manifest this way)."""
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def csv_rows(path: Path, table: str) -> list[dict[str, str]]:
    data = archive_bytes(path, f"csv/{table}.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data)))
