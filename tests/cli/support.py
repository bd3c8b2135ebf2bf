"""Helpers shared by the command-line tests."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from core import clients
from core.db import Database
from core.models import Client


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def assert_usage_error(result: Result, *words: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr that says why."""
    assert result.code == 2, result
    assert result.out == ""
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("tssg-crm: ")
    for word in words:
        assert word in result.err_lines[0], result.err


def add_client(db: Database, name: str) -> int:
    return clients.create_client(db, clients.ClientData(name=name))


def client_names(db: Database) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(Client.name).order_by(Client.name)))


def sqlite_client_names(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM clients ORDER BY name")]
    finally:
        conn.close()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
