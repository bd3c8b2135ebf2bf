"""``tssg-crm query`` and ``tssg-crm ask`` as a script and a person at a terminal see them."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import app_paths
from core import clients
from core.models import Task
from core.query import schema_text
from tests.cli.support import add_client, assert_usage_error
from tests.fakes.ai_server import TEST_KEY, FakeAI, consent, error, query, text, tool
from tests.license_support import grant


@pytest.fixture
def ai():
    with FakeAI() as server:
        yield server


@pytest.fixture
def shop(sqlite_db):
    for name in ("Ada Park", "Bo Lee", "Cy Young"):
        add_client(sqlite_db, name)
    return sqlite_db


def home() -> Path:
    return Path(os.environ["TSSG_CRM_HOME"])


def configure_ai(server: FakeAI, monkeypatch, *, tier: str = "sovereign", ai_consent: bool = True):
    paths = app_paths()
    paths.ensure()
    paths.config_file.write_text(
        f'[ai]\nprovider = "anthropic"\nbase_url = "{server.base}"\nmodel = "test-model"\n',
        encoding="utf-8")
    grant(home(), tier)
    consent(ai_consent)
    monkeypatch.setenv("TSSG_CRM_AI_API_KEY", TEST_KEY)


class FakeTerminal(io.StringIO):
    """stdin of a person at a terminal who types the given answers."""

    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- query


def test_schema_is_exactly_what_the_model_is_told(cli, tmp_path):
    result = cli("--db", str(tmp_path / "none.sqlite3"), "query", "--schema")
    assert result.code == 0 and result.err == ""
    assert result.out == schema_text()
    assert not (tmp_path / "none.sqlite3").exists()  # no database needed


def test_query_prints_rows_as_json(cli, shop):
    result = cli("--db", str(shop.path), "query",
                 '{"entity": "clients", "fields": ["name", "balance"], '
                 '"where": [{"field": "name", "op": "contains", "value": "o"}], '
                 '"sort": [{"field": "name", "dir": "desc"}]}')
    assert result.code == 0, result.err
    assert json.loads(result.out) == [{"name": "Cy Young", "balance": "0.00"},
                                      {"name": "Bo Lee", "balance": "0.00"}]
    assert result.err == ""


def test_more_rows_than_the_limit_is_noted_on_stderr(cli, shop):
    result = cli("--db", str(shop.path), "query", '{"entity": "clients", "fields": ["id"], "limit": 2}')
    assert result.code == 0 and len(json.loads(result.out)) == 2
    assert result.err.strip() == ('tssg-crm: note: more rows matched than the limit of 2; raise '
                                  '"limit" or narrow the query')


def test_query_from_stdin(cli, shop, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO('{"entity": "clients", "aggregate": [{"fn": "count"}]}'))
    result = cli("--db", str(shop.path), "query", "-")
    assert result.code == 0 and json.loads(result.out) == [{"count": 3}]


@pytest.mark.parametrize(("query_text", "words"), [
    ('{"entity": "clients",', "query: is not valid JSON"),
    ('{"entity": "audit_events"}', "entity: 'audit_events' is not something a query can read"),
    ('{"entity": "clients", "fields": ["password"]}', "fields[0]: clients have no field 'password'"),
    ('{"entity": "clients", "limit": 99999999}', "limit: 99,999,999 is more than the 1,000 rows"),
    ('{"entity": "clients", "where": [{"field": "name", "op": "eq", "value": "x\\u001b[2J"}], '
     '"sort": [{"field": "nope"}]}', "sort[0].field: clients have no field 'nope'"),
])
def test_a_bad_query_is_exit_2_with_one_line_and_no_database_opened(cli, tmp_path, query_text, words):
    missing = tmp_path / "never.sqlite3"
    result = cli("--db", str(missing), "query", query_text)
    assert_usage_error(result, words)
    assert not missing.exists()


def test_query_without_json_says_how(cli, shop):
    assert_usage_error(cli("--db", str(shop.path), "query"), "give a query as JSON", "--schema")


def test_terminal_control_characters_in_data_are_escaped(cli, sqlite_db):
    clients.create_client(sqlite_db, clients.ClientData(name="Eve", notes="a\x9b2Jb\x1b]52;c;x\x07"))
    result = cli("--db", str(sqlite_db.path), "query", '{"entity": "clients", "fields": ["notes"]}')
    assert result.code == 0
    assert "\x9b" not in result.out and "\x1b" not in result.out and "\x07" not in result.out


# --------------------------------------------------------------------------- ask


def test_ask_on_the_free_tier_sends_nothing(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch, tier="free")
    ai.script(text("never"))
    result = cli("--db", str(shop.path), "ask", "Who owes me money?")
    assert result.code == 1 and result.out == ""
    assert result.err.strip() == ("tssg-crm: The AI assistant needs the Sovereign tier; this copy "
                                  "is on Free. Everything else keeps working.")
    assert ai.requests == []


def test_ask_with_consent_off_sends_nothing(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch, ai_consent=False)
    ai.script(text("never"))
    result = cli("--db", str(shop.path), "ask", "Who owes me money?")
    assert result.code == 1 and "turn on AI consent in Settings" in result.err
    assert ai.requests == []


def test_ask_prints_the_answer_and_lists_proposals_without_doing_them(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch)
    ai.script(query({"entity": "clients", "aggregate": [{"fn": "count", "as": "clients"}]}),
              tool("propose_action", {"kind": "create_task", "title": "Call Bo about spring",
                                      "due_date": "2026-03-12"}),
              text("You have 3 clients. I suggest a follow-up task."))
    result = cli("--db", str(shop.path), "ask", "--show-queries", "How", "many", "clients?")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "You have 3 clients. I suggest a follow-up task.",
        "",
        "Proposed by the assistant (not done):",
        "  1. Create a task “Call Bo about spring”, due 2026-03-12 (normal priority)",
        "Nothing was changed or sent. To carry any of them out, run the question again with "
        "--execute and confirm each one.",
    ]
    assert '"aggregate": [{"fn": "count", "as": "clients"}]' in result.err and "-> 1 rows" in result.err
    assert ai.model_requests[0].json["messages"][0]["content"][0]["text"] == "How many clients?"
    with shop.read() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == 0


def test_execute_without_a_terminal_is_refused_before_anything_is_sent(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    result = cli("--db", str(shop.path), "ask", "--execute", "Make me a task")
    assert_usage_error(result, "--execute asks you to confirm each action at the keyboard")
    assert ai.requests == []


def test_execute_asks_for_each_action_and_does_only_what_was_confirmed(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch)
    ai.script(tool("propose_action", {"kind": "create_task", "title": "Order mulch"}),
              tool("propose_action", {"kind": "create_task", "title": "Text every client"}),
              text("Two suggestions."))
    monkeypatch.setattr("sys.stdin", FakeTerminal("y\nn\n"))
    result = cli("--db", str(shop.path), "ask", "--execute", "What should I do today?")
    assert result.code == 0, result.err
    assert "Do this? Create a task “Order mulch” (normal priority) [y/N] Created task #" in result.out
    assert "Skipped." in result.out
    with shop.read() as s:
        assert list(s.scalars(select(Task.title))) == ["Order mulch"]


def test_a_refused_key_is_one_line_and_exit_1(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch)
    ai.script(error(401, "invalid x-api-key", "authentication_error"))
    result = cli("--db", str(shop.path), "ask", "Hello?")
    assert result.code == 1 and result.out == ""
    assert len(result.err_lines) == 1
    assert result.err.startswith("tssg-crm: Anthropic: refused the API key (HTTP 401, "
                                 "authentication_error: invalid x-api-key)")
    assert TEST_KEY not in result.err


def test_a_question_the_model_never_finishes_is_exit_1(cli, shop, ai, monkeypatch):
    configure_ai(ai, monkeypatch)
    ai.script(query({"entity": "clients", "limit": 1}), repeat=True)
    result = cli("--db", str(shop.path), "ask", "Loop forever")
    assert result.code == 1 and "could not finish within 6 steps" in result.out
