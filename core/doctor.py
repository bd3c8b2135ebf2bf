"""Health checks for an installation: config, secrets, database file, integrity, schema,
migration state and the search index. Each check returns data (:class:`Check`), so the CLI
prints them and the TUI can show them.

Decisions: the doctor never changes what it examines (a SQLite database is opened read-only,
so a wrong file mode is reported, not silently fixed, and a missing database is not created).
A file readable by other users is a FAIL: it breaks the privacy promise. A missing database
at the default location is a WARN (a fresh install), at an explicitly named one a FAIL (most
likely a typo). The search index is compared with its source tables by row count per kind and
by row key; :func:`rebuild_search_index` is the repair.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config import AppConfig, AppPaths, ConfigError, load_config
from config.secrets import load_secrets
from core.db import Database

Status = Literal["OK", "WARN", "FAIL"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Check:
    name: str  # what was checked: "config", "database file", "integrity", ...
    status: Status
    detail: str  # one line for a person: what was found and, when not OK, what to do


def _one_line(message: object) -> str:
    return " ".join(_CONTROL.sub(" ", str(message)).split())


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n:,} {noun}s"


def _rows(n: int) -> str:
    return _count(n, "row")


def display_url(url: str) -> str:
    """The database as a person should see it: a file path, or a URL without its password."""
    from core.db import sqlite_path

    path = sqlite_path(url)
    if path is not None:
        return str(path)
    return make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- files


def check_config(path: Path) -> tuple[Check, AppConfig | None]:
    if not path.exists():
        return Check("config", "OK", f"no config file at {path}; using the defaults"), AppConfig()
    try:
        config = load_config(path)
    except ConfigError as exc:
        return Check("config", "FAIL", _one_line(exc)), None
    return Check("config", "OK", f"{path} parses"), config


def _private_mode(path: Path, what: str, name: str) -> Check | None:
    """A FAIL check when group or others can read ``path``, else None."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(
            name,
            "FAIL",
            f"{what} {path} is mode {mode:o}: other users can read it; run: chmod 600 {path}",
        )
    return None


def check_secrets(path: Path) -> Check:
    if not path.exists():
        return Check("secrets", "OK", f"no secrets file at {path} (keys from the environment only)")
    problem = _private_mode(path, "secrets file", "secrets")
    if problem:
        return problem
    try:
        secrets = load_secrets(path)
    except ConfigError as exc:
        return Check("secrets", "FAIL", _one_line(exc))
    # names only: a secret's value never appears in a check
    return Check("secrets", "OK", f"{path} is mode 600 ({_count(len(secrets.values), 'key')} set)")


def check_database_file(path: Path) -> Check:
    problems = []
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            problem = _private_mode(file, "database file", "database file")
            if problem:
                problems.append(problem.detail)
    if problems:
        return Check("database file", "FAIL", "; ".join(problems))
    return Check("database file", "OK", f"{path} is mode 600")


# --------------------------------------------------------------------------- database


@contextmanager
def _readonly_sqlite(path: Path) -> Iterator[Engine]:
    from core.backup import sqlite_uri

    uri = sqlite_uri(path)
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=NullPool,
    )
    try:
        yield engine
    finally:
        engine.dispose()


def check_integrity(conn: Connection) -> list[Check]:
    if conn.dialect.name != "sqlite":
        version = conn.execute(text("SHOW server_version")).scalar()
        unchecked = conn.execute(
            text("SELECT conname FROM pg_constraint WHERE NOT convalidated ORDER BY conname")
        ).scalars().all()
        checks = [Check("connection", "OK", f"PostgreSQL {version}")]
        if unchecked:
            checks.append(Check("constraints", "WARN",
                                f"not validated: {', '.join(unchecked[:5])}"))
        else:
            checks.append(Check("constraints", "OK", "every constraint is validated"))
        return checks
    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
    checks = []
    if rows == ["ok"]:
        checks.append(Check("integrity", "OK", "PRAGMA integrity_check: ok"))
    else:
        more = f" (and {len(rows) - 2} more)" if len(rows) > 2 else ""
        checks.append(Check(
            "integrity", "FAIL",
            f"{_one_line('; '.join(rows[:2]))}{more}; restore a backup with: tssg-crm restore FILE",
        ))
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        pairs: dict[str, int] = {}
        for table, _rowid, parent, _fk in broken:
            key = f"{table} → {parent}"
            pairs[key] = pairs.get(key, 0) + 1
        listed = ", ".join(f"{k} ×{n}" for k, n in sorted(pairs.items()))
        checks.append(Check("foreign keys", "FAIL",
                            f"{_rows(len(broken))} point at records that do not exist ({listed})"))
    else:
        checks.append(Check("foreign keys", "OK", "PRAGMA foreign_key_check: no broken links"))
    return checks


def check_schema(conn: Connection) -> list[Check]:
    """The migration state, and at head, that every table of the models exists."""
    from core import migrate
    from core.models import Base

    current = migrate.revision_of(conn)
    head = migrate.head_revision()
    tables = set(inspect(conn).get_table_names())
    if current is None:
        if not tables:
            return [Check("migrations", "WARN",
                          f"empty database; it is set up (to {head}) on the next start")]
        return [Check("migrations", "FAIL",
                      "no migration state: this is not a TSSG CRM database")]
    if current == head:
        checks = [Check("migrations", "OK", f"at head ({head})")]
    elif current in migrate.known_revisions():
        checks = [Check("migrations", "WARN",
                        f"at {current}, head is {head}: migrates on the next start "
                        "(after a backup)")]
    else:
        return [Check("migrations", "FAIL",
                      f"at {current}, unknown to this version (head {head}): the database was "
                      "made by a newer tssg-crm; update it")]
    missing = sorted(set(Base.metadata.tables) - tables)
    if current != head:
        return checks
    if missing:
        checks.append(Check("schema", "FAIL", f"tables missing: {', '.join(missing[:8])}"))
    else:
        checks.append(Check("schema", "OK", f"all {len(Base.metadata.tables)} tables present"))
    return checks


def _index_table(dialect: str) -> tuple[str, str]:
    return ("search_fts", "rowid") if dialect == "sqlite" else ("search_index", "rowkey")


def search_index_counts(conn: Connection) -> dict[str, tuple[int, int, int]]:
    """Per kind: (rows in the source table, rows in the index, source rows missing from it)."""
    from core import search_schema

    index, key = _index_table(conn.dialect.name)
    out: dict[str, tuple[int, int, int]] = {}
    for kind, (code, table, _label, _terms, _client, cond) in search_schema.SOURCES.items():
        where = f" WHERE {cond.format(r=table)}" if cond else ""
        and_cond = f" AND {cond.format(r=table)}" if cond else ""
        # constant SQL from search_schema; kind goes in as a bound value
        source = conn.execute(text(f"SELECT count(*) FROM {table}{where}")).scalar() or 0  # noqa: S608
        indexed = conn.execute(
            text(f"SELECT count(*) FROM {index} WHERE kind = :k"), {"k": kind}  # noqa: S608
        ).scalar() or 0
        missing = conn.execute(text(
            f"SELECT count(*) FROM {table} WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {index} i WHERE i.{key} = {table}.id * 8 + {code}){and_cond}"
        )).scalar() or 0
        out[kind] = (int(source), int(indexed), int(missing))
    return out


def _triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return {r[0] for r in conn.execute(text(sql))}


def check_search_index(conn: Connection) -> Check:
    from core import search_schema

    index, _key = _index_table(conn.dialect.name)
    if not inspect(conn).has_table(index):
        return Check("search index", "FAIL", f"the {index} table is missing; start the app to "
                     "migrate, or run: tssg-crm doctor --rebuild-search")
    missing_triggers = sorted(set(search_schema.trigger_names()) - _triggers(conn))
    counts = search_index_counts(conn)
    wrong = [
        f"{kind} {_rows(source)}, {indexed:,} indexed" + (f", {missing:,} missing" if missing else "")
        for kind, (source, indexed, missing) in counts.items()
        if source != indexed or missing
    ]
    repair = "run: tssg-crm doctor --rebuild-search"
    if missing_triggers:
        return Check("search index", "FAIL",
                     f"{len(missing_triggers)} sync triggers missing ({missing_triggers[0]}...); "
                     "new records will not be found; start the app to migrate, then " + repair)
    if wrong:
        return Check("search index", "FAIL", f"out of sync: {'; '.join(wrong)}; {repair}")
    summary = ", ".join(f"{kind} {source}" for kind, (source, _i, _m) in counts.items())
    return Check("search index", "OK", f"in sync ({summary})")


def check_database(conn: Connection) -> list[Check]:
    checks = check_integrity(conn)
    schema = check_schema(conn)
    checks += schema
    # below head the search index may not exist yet (the next start's migration builds it);
    # with tables missing, counting their rows would only fail again
    if all(c.status == "OK" for c in schema):
        checks.append(check_search_index(conn))
    return checks


# --------------------------------------------------------------------------- together


def run_checks(paths: AppPaths, db_arg: str | None = None) -> list[Check]:
    """Every check, in the order a person would fix things. Never raises for a broken setup.

    ``db_arg`` is a database URL or SQLite path given explicitly (``--db``); without it the
    config file's ``database.url`` or the default file in the data directory is examined.
    """
    config_check, config = check_config(paths.config_file)
    checks = [config_check, check_secrets(paths.secrets_file)]
    if db_arg is None and config is None:
        checks.append(Check("database", "WARN",
                            "not checked: fix the config file first (or pass --db)"))
        return checks
    explicit = db_arg is not None or (config is not None and config.database.url is not None)
    raw = db_arg or (config.database.url if config else None) or str(paths.database_file)
    checks += check_database_url(raw, explicit=explicit)
    return checks


def check_database_url(raw: str, *, explicit: bool = True) -> list[Check]:
    from core.db import normalise_url, sqlite_path

    try:
        url = normalise_url(raw)
        path = sqlite_path(url)
    except Exception as exc:  # any parse failure is the finding
        return [Check("database", "FAIL", f"not a usable database URL ({type(exc).__name__})")]
    if path is not None:
        return _check_sqlite(path, explicit=explicit)
    return _check_server(url)


def _check_sqlite(path: Path, *, explicit: bool) -> list[Check]:
    from core.first_look import is_sqlite_file

    if not path.exists() or path.stat().st_size == 0:
        status: Status = "FAIL" if explicit else "WARN"
        hint = ("check the path (--db or database.url)" if explicit
                else "it is created on the first start")
        return [Check("database", status, f"no database at {path} yet; {hint}")]
    checks = [check_database_file(path)]
    if not is_sqlite_file(path):
        checks.append(Check("integrity", "FAIL", f"{path} is not a SQLite database"))
        return checks
    try:
        with _readonly_sqlite(path) as engine, engine.connect() as conn:
            checks += check_database(conn)
    except Exception as exc:  # unreadable: that is the finding
        checks.append(Check("integrity", "FAIL",
                            f"{path} cannot be read ({_one_line(getattr(exc, 'orig', exc))}); "
                            "restore a backup with: tssg-crm restore FILE"))
    return checks


def _check_server(url: str) -> list[Check]:
    where = display_url(url)
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            return check_database(conn)
    except Exception as exc:  # unreachable: that is the finding
        reason = _one_line(str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else "")
        return [Check("connection", "FAIL", f"cannot use {where}: {_redact_url(reason, url)}")]
    finally:
        engine.dispose()


def _redact_url(message: str, url: str) -> str:
    password = make_url(url).password
    return message.replace(str(password), "***") if password else message


# --------------------------------------------------------------------------- repair


def rebuild_search_index(db: Database, *, actor: str = "owner") -> dict[str, int]:
    """Refill the search index from its source tables; returns rows indexed per kind.

    One transaction with one audit event, like every other change.
    """
    from core import audit, search_schema

    with db.write() as s:
        conn = s.connection()
        for stmt in search_schema.rebuild_statements(db.dialect):
            conn.exec_driver_sql(stmt)
        counts = {kind: c[1] for kind, c in search_index_counts(conn).items()}
        audit.record(s, actor, "search.rebuild", "search_index", None,
                     "Rebuilt the search index", after=counts)
    return counts
