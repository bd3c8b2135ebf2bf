"""The assistant loop against a fake provider on 127.0.0.1 speaking the Anthropic and OpenAI
wire formats: the whole loop, and everything a model (or a provider) can get wrong —
malformed JSON, unknown entities and fields, SQL inside values, huge limits, internal tables,
endless tool rounds, 401/429/500 — each refused or handled with a clear message, and nothing
run outside the whitelist."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from config import app_paths
from config.settings import ConfigError, parse_config
from core.models import AuditEvent, Client
from core.query import run_query, schema_text
from integrations.ai.assistant import MAX_ROUNDS, ROWS_TO_MODEL, Assistant
from integrations.ai.base import ProviderError
from tests.core.query_world import World, world_fixture
from tests.fakes.ai_server import (
    TEST_KEY,
    Call,
    FakeAI,
    assistant,
    consent,
    error,
    last_results,
    query,
    text,
    tool,
)

OVERDUE = {"entity": "invoices", "fields": ["number", "client.name", "balance", "days_overdue"],
           "where": [{"field": "overdue", "op": "eq", "value": True}],
           "sort": [{"field": "days_overdue", "dir": "desc"}]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


@pytest.fixture
def ai():
    with FakeAI() as server:
        yield server


@pytest.fixture(autouse=True)
def _consent():
    consent(True)


def counts(world: World) -> tuple[int, int]:
    with world.db.read() as s:
        return (s.scalar(select(func.count()).select_from(Client)) or 0,
                s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_anthropic_tool_use_loop_answers_from_rows_run_here(world: World, ai: FakeAI):
    ai.script(query(OVERDUE), text("Three invoices are overdue; the oldest is INV-0026."))
    answer = assistant(world.db, ai, today=world.today).ask("Which invoices are overdue?")

    assert answer.text == "Three invoices are overdue; the oldest is INV-0026."
    assert answer.rounds == 2 and answer.stopped is None and answer.actions == ()
    first, second = ai.model_requests
    assert first.path == "/v1/messages"
    assert first.headers["x-api-key"] == TEST_KEY
    assert first.headers["anthropic-version"] == "2023-06-01"
    body = first.json
    assert body["model"] == "test-model" and body["max_tokens"] > 0
    assert schema_text() in body["system"]  # word for word what `query --schema` prints
    assert f"Today is {world.today.isoformat()}" in body["system"]
    assert body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "Which invoices are overdue?"}]}]
    assert {t["name"] for t in body["tools"]} == {"run_query", "propose_action"}
    assert body["tools"][0]["input_schema"]["properties"]["entity"]["enum"][0] == "clients"
    # the rows went back as a tool_result for the tool_use, computed here from the database
    expected = run_query(world.db, OVERDUE, today=world.today).rows
    assert expected
    tool_use = second.json["messages"][1]["content"][0]
    result = second.json["messages"][2]["content"][0]
    assert tool_use["type"] == "tool_use" and result["tool_use_id"] == tool_use["id"]
    assert json.loads(result["content"])["rows"] == expected
    assert answer.queries[0].result is not None and answer.queries[0].result.rows == expected


def test_openai_tool_calls_loop(world: World, ai: FakeAI):
    ai.script(query({"entity": "clients", "aggregate": [{"fn": "count", "as": "n"}]}),
              text("You have 41 clients."))
    answer = assistant(world.db, ai, provider="openai", today=world.today).ask("How many clients?")
    assert answer.text == "You have 41 clients."
    first, second = ai.model_requests
    assert first.path == "/v1/chat/completions"
    assert first.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert first.json["messages"][0]["role"] == "system"
    assert first.json["tools"][0]["type"] == "function"
    assert "parameters" in first.json["tools"][0]["function"]
    call = second.json["messages"][2]["tool_calls"][0]
    back = second.json["messages"][3]
    assert back["role"] == "tool" and back["tool_call_id"] == call["id"]
    assert json.loads(back["content"])["rows"] == [{"n": 41}]


def test_openai_compatible_endpoint_without_tools_switches_to_json_schema(world: World, ai: FakeAI):
    ai.script(error(400, "registry.ollama.ai/library/tiny does not support tools"),
              query({"entity": "jobs", "group_by": ["status"]}),
              text("Most jobs are invoiced."))
    bot = assistant(world.db, ai, provider="openai-compatible", key=None,
                    ai={"base_url": ai.base + "/v1", "model": "tiny"}, today=world.today)
    answer = bot.ask("How are my jobs doing?")
    assert answer.text == "Most jobs are invoiced."
    refused, step, final = ai.model_requests
    assert refused.path == step.path == "/v1/chat/completions"
    assert "authorization" not in step.headers  # a local endpoint without a key
    assert "tools" in refused.json and "tools" not in step.json
    assert step.json["response_format"]["type"] == "json_schema"
    assert "REPLY FORMAT" in step.json["messages"][0]["content"]
    assert final.json["messages"][-1]["content"].startswith("Tool results:")
    assert answer.queries[0].error is None and answer.queries[0].result is not None


def test_json_schema_mode_from_the_config_file_asks_for_json_replies(world: World, ai: FakeAI):
    config = parse_config({"ai": {"provider": "openai-compatible", "base_url": ai.base + "/v1",
                                  "model": "tiny", "mode": "json_schema"}}, "config.toml")
    ai.script(query({"entity": "clients", "aggregate": [{"fn": "count", "as": "n"}]}),
              text("You have 41 clients."))
    bot = Assistant(world.db, app_paths(), config, tier="sovereign", api_key=None,
                    today=world.today)
    answer = bot.ask("How many clients?")
    assert answer.text == "You have 41 clients."
    first, second = ai.model_requests
    for request in (first, second):  # from the first request on: no tools, a JSON reply format
        assert "tools" not in request.json
        assert request.json["response_format"]["type"] == "json_schema"
        assert request.json["response_format"]["json_schema"]["schema"]["required"] == [
            "calls", "answer"]
    assert "REPLY FORMAT" in first.json["messages"][0]["content"]
    back = second.json["messages"][-1]
    assert back["role"] == "user" and back["content"].startswith("Tool results:")
    assert '"rows": [{"n": 41}]' in back["content"]
    assert answer.queries[0].result is not None and answer.queries[0].result.rows == [{"n": 41}]


def test_tools_mode_does_not_fall_back_to_json_schema(world: World, ai: FakeAI):
    ai.script(error(400, "registry.ollama.ai/library/tiny does not support tools"))
    bot = assistant(world.db, ai, provider="openai-compatible", key=None, today=world.today,
                    ai={"base_url": ai.base + "/v1", "model": "tiny", "mode": "tools"})
    with pytest.raises(ProviderError, match="does not support tools"):
        bot.ask("How are my jobs doing?")
    (only,) = ai.model_requests
    assert "tools" in only.json and "response_format" not in only.json


@pytest.mark.parametrize(("ai_table", "words"), [
    ({"mode": "xml"}, "config.toml: ai.mode: 'xml' is not one of auto, tools, json_schema"),
    ({"mode": "JSON_SCHEMA", "provider": "openai"}, "config.toml: ai.mode: 'JSON_SCHEMA' is "
                                                    "not one of"),
    ({"mode": 1}, "config.toml: ai.mode: expected a string"),
    ({"mode": "json_schema"}, "config.toml: ai.mode: json_schema works with provider openai or "
                              "openai-compatible"),
])
def test_a_bad_mode_is_refused_naming_the_key(ai_table, words):
    with pytest.raises(ConfigError) as err:
        parse_config({"ai": ai_table}, "config.toml")
    assert str(err.value).startswith(words)


def test_anthropic_with_a_custom_auth_header_and_api_version(world: World, ai: FakeAI):
    ai.script(text("Hello."))
    bot = assistant(world.db, ai, today=world.today,
                    ai={"auth_header": "api-key", "api_version": "2024-10-22"})
    assert bot.ask("Hi").text == "Hello."
    (sent,) = ai.model_requests
    assert sent.path == "/v1/messages"
    assert sent.headers["api-key"] == TEST_KEY and "x-api-key" not in sent.headers
    assert "authorization" not in sent.headers
    assert sent.headers["anthropic-version"] == "2024-10-22"


def test_openai_compatible_endpoint_with_api_key_header_and_api_version(world: World,
                                                                      ai: FakeAI):
    """An Azure OpenAI style endpoint: the key in ``api-key``, ``?api-version=`` on the URL."""
    ai.script(query({"entity": "clients", "aggregate": [{"fn": "count", "as": "n"}]}),
              text("You have 41 clients."))
    bot = assistant(world.db, ai, provider="openai-compatible", today=world.today,
                    ai={"base_url": ai.base + "/openai/v1", "model": "gpt-4o",
                        "auth_header": "api-key", "api_version": "2024-10-21"})
    assert bot.ask("How many clients?").text == "You have 41 clients."
    for sent in ai.model_requests:
        assert sent.path == "/openai/v1/chat/completions"
        assert sent.query == {"api-version": "2024-10-21"}
        assert sent.headers["api-key"] == TEST_KEY and "authorization" not in sent.headers
        assert "anthropic-version" not in sent.headers
    # left empty, no api-version goes to OpenAI (Anthropic's default is not sent there)
    ai.script(text("ok"))
    assistant(world.db, ai, provider="openai", today=world.today).ask("Hi")
    assert ai.model_requests[-1].query == {}


def test_malformed_json_is_refused_and_the_model_can_try_again(world: World, ai: FakeAI):
    ai.script(tool("run_query", raw_arguments='{"entity": "invoices", where: [}'),
              text("Sorry, I could not read that."))
    answer = assistant(world.db, ai, provider="openai", today=world.today).ask("Overdue?")
    assert answer.queries == ()  # nothing ran
    back = ai.model_requests[1].json["messages"][-1]
    assert back["role"] == "tool"
    assert "not valid JSON" in json.loads(back["content"])["error"]


def test_json_schema_reply_that_is_not_json(world: World, ai: FakeAI):
    ai.script(tool("run_query", {}, raw_arguments="Sure! Here is the query: {entity"),
              text("Done"))
    bot = assistant(world.db, ai, provider="openai-compatible",
                    ai={"base_url": ai.base + "/v1"}, today=world.today)
    bot._get_provider().mode = "json_schema"  # type: ignore[attr-defined]
    answer = bot.ask("Anything overdue?")
    assert answer.text == "Done" and answer.queries == ()
    assert "was not valid JSON" in ai.model_requests[1].json["messages"][-1]["content"]


@pytest.mark.parametrize(("bad", "words"), [
    ({"entity": "audit_events"}, "'audit_events' is not something a query can read"),
    ({"entity": "settings"}, "is not something a query can read"),
    ({"entity": "users", "fields": ["email"]}, "is not something a query can read"),
    ({"entity": "alembic_version"}, "is not something a query can read"),
    ({"entity": "invoices", "fields": ["secret_notes"]}, "invoices have no field 'secret_notes'"),
    ({"entity": "visits", "fields": ["assignee.email"]}, "has no field 'email'"),
    ({"entity": "invoices", "limit": 1_000_000_000}, "more than the 1,000 rows"),
    ({"entity": "invoices", "sql": "SELECT * FROM settings"}, "unknown key 'sql'"),
    ({"entity": "clients", "where": [{"field": "name", "op": "eq) OR 1=1 --", "value": "x"}]},
     "is not an operator"),
])
def test_queries_outside_the_whitelist_are_refused_with_a_clear_message(world: World, ai: FakeAI,
                                                                         bad, words):
    before = counts(world)
    ai.script(query(bad), text("I cannot see that."))
    answer = assistant(world.db, ai, today=world.today).ask("Show me everything")
    (run,) = answer.queries
    assert run.result is None and words in (run.error or "")
    result = ai.model_requests[1].json["messages"][-1]["content"][0]
    assert result["is_error"] is True and words in json.loads(result["content"])["error"]
    assert counts(world) == before


def test_sql_inside_values_is_only_ever_a_value(world: World, ai: FakeAI):
    before = counts(world)
    evil = {"entity": "clients", "fields": ["name"], "where": [
        {"field": "name", "op": "eq", "value": "x'; DROP TABLE clients; --"}]}
    ai.script(query(evil), query({"entity": "clients", "fields": ["name"], "where": [
        {"field": "notes", "op": "contains", "value": "%' OR 1=1 --"}]}), text("No one."))
    answer = assistant(world.db, ai, today=world.today).ask("Find Robert")
    assert [r.result.rows for r in answer.queries if r.result] == [[], []]
    assert counts(world) == before


def test_a_huge_limit_is_refused_then_a_sensible_one_runs(world: World, ai: FakeAI):
    ai.script(query({"entity": "payments", "limit": 10**12}),
              query({"entity": "payments", "limit": 5}), text("Here are five."))
    answer = assistant(world.db, ai, today=world.today).ask("All payments ever")
    first, second = answer.queries
    assert "1,000" in (first.error or "") and first.result is None
    assert second.result is not None and len(second.result.rows) == 5


def test_rows_are_capped_before_they_go_back(world: World, ai: FakeAI):
    ai.script(query({"entity": "visits", "fields": ["id", "starts_at"], "limit": 1000}),
              text("Lots of visits."))
    answer = assistant(world.db, ai, today=world.today).ask("List every visit")
    local = answer.queries[0].result
    assert local is not None and len(local.rows) > ROWS_TO_MODEL
    sent = json.loads(ai.model_requests[1].json["messages"][-1]["content"][0]["content"])
    assert sent["rows"] == local.rows[:ROWS_TO_MODEL]
    assert sent["note"].startswith(f"Showing {ROWS_TO_MODEL} of {len(local.rows)} rows")
    assert answer.queries[0].rows_sent == ROWS_TO_MODEL


def test_endless_tool_rounds_stop_at_the_bound(world: World, ai: FakeAI):
    ai.script(query({"entity": "clients", "limit": 1}), repeat=True)
    answer = assistant(world.db, ai, today=world.today).ask("Keep going")
    assert len(ai.model_requests) == MAX_ROUNDS
    assert answer.rounds == MAX_ROUNDS and answer.stopped == "round_limit"
    assert f"could not finish within {MAX_ROUNDS} steps" in answer.text
    assert len(answer.queries) == MAX_ROUNDS


def test_too_many_calls_in_one_reply(world: World, ai: FakeAI):
    calls = [Call("run_query", {"entity": "clients", "limit": 1}) for _ in range(7)]
    ai.script(tool("run_query", {"entity": "clients", "limit": 1}, *calls), text("ok"))
    answer = assistant(world.db, ai, today=world.today).ask("Again and again")
    assert len(answer.queries) == 6
    results = last_results(ai.model_requests[1])
    assert [r["ok"] for r in results] == [True] * 6 + [False, False]
    assert "at most 6 tool calls" in results[-1]["error"]


def test_an_unknown_tool_is_refused(world: World, ai: FakeAI):
    ai.script(tool("run_sql", {"sql": "DELETE FROM clients"}), text("ok"))
    before = counts(world)
    assistant(world.db, ai, today=world.today).ask("Clean up")
    assert "there is no tool 'run_sql'" in last_results(ai.model_requests[1])[0]["error"]
    assert counts(world) == before


# --------------------------------------------------------------------------- provider failures


def test_401_says_the_key_was_refused_and_never_shows_it(world: World, ai: FakeAI):
    ai.script(error(401, f"Incorrect API key provided: {TEST_KEY}", "invalid_api_key"))
    bot = assistant(world.db, ai, provider="openai", today=world.today)
    with pytest.raises(ProviderError) as err:
        bot.ask("Hello?")
    message = str(err.value)
    assert message.startswith("OpenAI: refused the API key (HTTP 401")
    assert "ai_api_key" in message and TEST_KEY not in message and TEST_KEY[-4:] not in message
    assert len(ai.model_requests) == 1  # never retried
    assert bot.messages == []  # the failed question is not kept in the conversation
    # what a crash screen would show of the session's objects never holds the key itself
    provider = bot._get_provider()
    for shown in (vars(bot), vars(provider), provider.settings, vars(provider._sender)):
        assert TEST_KEY not in repr(shown)


def test_429_is_retried_with_retry_after_then_succeeds(world: World, ai: FakeAI):
    waits: list[float] = []
    ai.script(error(429, "rate limited", "rate_limit_error", headers={"Retry-After": "3"}),
              text("Fine."))
    answer = assistant(world.db, ai, sleeps=waits, today=world.today).ask("Hi")
    assert answer.text == "Fine." and waits == [3.0] and len(ai.model_requests) == 2


def test_429_and_500_give_up_after_bounded_retries(world: World, ai: FakeAI):
    waits: list[float] = []
    ai.script(error(500, "boom", "api_error"), repeat=True)
    with pytest.raises(ProviderError) as err:
        assistant(world.db, ai, sleeps=waits, today=world.today).ask("Hi")
    assert "Anthropic: had a server error: HTTP 500, api_error: boom (gave up after 3 tries)" \
        == str(err.value)
    assert len(ai.model_requests) == 3 and waits == [1.0, 2.0]
    ai.script(error(429, "slow down", "rate_limit_error"), repeat=True)
    with pytest.raises(ProviderError, match="is limiting requests"):
        assistant(world.db, ai, today=world.today).ask("Hi")


def test_an_unreadable_reply_is_an_error_not_an_answer(world: World, ai: FakeAI):
    from tests.fakes.ai_server import raw

    ai.script(raw(200, b"<html>gateway</html>", "text/html"))
    with pytest.raises(ProviderError, match="cannot read"):
        assistant(world.db, ai, today=world.today).ask("Hi")
    ai.script(raw(200, json.dumps({"content": "not blocks"}).encode()))
    with pytest.raises(ProviderError, match="cannot read"):
        assistant(world.db, ai, today=world.today).ask("Hi")


def test_no_key_no_request(world: World, ai: FakeAI):
    from core.errors import DomainError

    with pytest.raises(DomainError, match="No API key for Anthropic"):
        assistant(world.db, ai, key=None, today=world.today).ask("Hi")
    assert ai.requests == []
