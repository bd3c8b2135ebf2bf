"""Shared fixtures.

``db`` is a fresh, migrated database: a real SQLite file, and, when ``TSSG_CRM_TEST_PG_URL``
is set (``.ci/run`` sets it), the same test again on a real PostgreSQL database cloned from
a migrated template. Every test gets its own ``TSSG_CRM_HOME`` so nothing touches the
developer's real files.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

from core import migrate
from core.db import Database

PG_URL = os.environ.get("TSSG_CRM_TEST_PG_URL")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NAUGHTY_FILE = SHARED / "data" / "naughty" / "blns.json"
IMPORT_SAMPLES = SHARED / "data" / "import-samples"
PG_SKIP_REASON = (
    "PostgreSQL leg skipped: TSSG_CRM_TEST_PG_URL is not set (.ci/run starts a server and sets it)"
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TSSG_CRM_HOME", str(home))
    monkeypatch.delenv("TSSG_CRM_CONFIG", raising=False)
    for var in list(os.environ):
        if var.startswith("TSSG_CRM_") and var.endswith(("_KEY", "_SID", "_TOKEN", "_ID", "_SECRET")):
            monkeypatch.delenv(var, raising=False)
    return home


class _PgTemplate:
    """One migrated template database per test session; each test clones it (fast)."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine

        self.admin = create_engine(
            Database(admin_url).url, isolation_level="AUTOCOMMIT", pool_size=1
        )
        self.template = f"tssg_tmpl_{uuid.uuid4().hex[:8]}"
        self.counter = itertools.count()
        self.base_url = Database(admin_url).url
        self._exec(f'CREATE DATABASE "{self.template}"')
        tmpl = Database(self._url(self.template))
        migrate.upgrade(tmpl)
        tmpl.dispose()

    def _exec(self, sql: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def _url(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    def new(self) -> tuple[str, str]:
        name = f"{self.template}_{next(self.counter)}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name, self._url(name)

    def drop(self, name: str) -> None:
        self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_template():
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    tmpl = _PgTemplate(PG_URL)
    yield tmpl
    tmpl.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file made once; each test copies it (migrating costs ~0.4 s)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(str(path))
    migrate.upgrade(database)
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "crm.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        os.chmod(target, 0o600)
        database = Database(str(target))
        yield database
        database.dispose()
        return
    tmpl = request.getfixturevalue("pg_template")
    name, url = tmpl.new()
    database = Database(url)
    yield database
    database.dispose()
    tmpl.drop(name)


@pytest.fixture(scope="session")
def naughty_strings() -> list[str]:
    return json.loads(NAUGHTY_FILE.read_text(encoding="utf-8"))
