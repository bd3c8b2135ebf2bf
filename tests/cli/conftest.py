"""Fixtures for the command-line tests: run ``tui.cli.main`` in-process, a private database."""

from __future__ import annotations

import pytest

from core import migrate
from core.db import Database
from tests.cli.support import Result
from tui.cli import main


@pytest.fixture
def cli(capsys):
    """``cli("backup", ...)`` runs the command in this process and returns code and output."""

    def run(*argv: str) -> Result:
        capsys.readouterr()  # drop anything printed before
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def sqlite_db(tmp_path):
    """A migrated SQLite database in a file of its own (not the one under TSSG_CRM_HOME)."""
    database = Database(str(tmp_path / "shop.sqlite3"))
    migrate.upgrade(database)
    yield database
    database.dispose()
