"""What the assistant promises about privacy and control: no request at all without consent
and the Sovereign tier; redaction that sends tokens and puts the real values back here; a
local log of every exchange the owner can read and delete; and actions — even ones a
planted instruction talks the model into — that are only proposals until confirmed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from config import app_paths
from core import tiers
from core.models import AuditEvent, Contact, Task, Visit
from core.query import run_query
from integrations.ai import exchange_log
from integrations.ai.actions import ProposedAction, execute_action, propose_action
from integrations.ai.assistant import AssistantDisabled, disabled_reason, disclosure
from tests.core.factories import make_client, make_job
from tests.core.query_world import INJECTION, World, world_fixture
from tests.fakes.ai_server import (
    TEST_KEY,
    Call,
    FakeAI,
    ai_config,
    assistant,
    consent,
    last_results,
    query,
    text,
    tool,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    yield from world_fixture(request, tmp_path_factory)


@pytest.fixture
def ai():
    with FakeAI() as server:
        yield server


def writes(world: World) -> int:
    """Audit events: every change the app makes writes one."""
    with world.db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


# --------------------------------------------------------------------------- consent and tier


def test_with_consent_off_the_server_sees_no_request_at_all(world: World, ai: FakeAI):
    ai.script(text("should never be asked"))
    bot = assistant(world.db, ai, today=world.today)
    with pytest.raises(AssistantDisabled, match="turn on AI consent in Settings"):
        bot.ask("Who owes me money?")
    consent(False)
    with pytest.raises(AssistantDisabled):
        bot.ask("Who owes me money?")
    assert ai.requests == []
    assert exchange_log.read_exchanges(app_paths()) == []


@pytest.mark.parametrize("tier", ["free", "premium", "bogus"])
def test_below_sovereign_the_server_sees_no_request(world: World, ai: FakeAI, tier: str):
    consent(True)
    ai.script(text("should never be asked"))
    with pytest.raises(AssistantDisabled, match="needs the Sovereign tier"):
        assistant(world.db, ai, tier=tier, today=world.today).ask("Who owes me money?")
    assert ai.requests == []
    assert disabled_reason(app_paths(), tier) == tiers.lock_reason(tier, "ai.assistant")


def test_revoking_consent_stops_the_very_next_question(world: World, ai: FakeAI):
    consent(True)
    ai.script(text("First answer."), text("Second answer."))
    bot = assistant(world.db, ai, today=world.today)
    assert bot.ask("One?").text == "First answer."
    consent(False)
    with pytest.raises(AssistantDisabled):
        bot.ask("Two?")
    assert len(ai.requests) == 1


def test_the_screen_can_say_what_will_be_sent(ai: FakeAI):
    paths = consent(True)
    words = disclosure(ai_config(ai), paths, redact=False)
    assert ai.base in words and "Anthropic" in words
    assert str(exchange_log.log_path(paths)) in words
    assert "only happen if you confirm" in words
    assert "replaced by tokens" in disclosure(ai_config(ai), paths, redact=True)


# --------------------------------------------------------------------------- the exchange log


def test_every_exchange_is_logged_locally_exactly_as_sent(world: World, ai: FakeAI):
    paths = consent(True)
    ai.script(query({"entity": "invoices", "where": [{"field": "overdue", "op": "eq", "value": True}]}),
              query({"entity": "nonsense"}), text("Done."))
    answer = assistant(world.db, ai, today=world.today).ask("Overdue?")
    entries = exchange_log.read_exchanges(paths)
    assert [e["round"] for e in entries] == [1, 2, 3]
    assert [e["sent"] for e in entries] == [r.json for r in ai.model_requests]
    assert entries[0]["queries"][0]["rows"] == len(answer.queries[0].result.rows)
    assert "not something a query can read" in entries[1]["queries"][0]["error"]
    assert entries[2]["received"]["content"][0]["text"] == "Done."
    assert list(answer.exchanges) == entries
    log = exchange_log.log_path(paths)
    assert log.parent == paths.data_dir  # not the state dir the local-storage toggle empties
    assert log.stat().st_mode & 0o777 == 0o600
    assert TEST_KEY not in log.read_text()
    assert exchange_log.delete_exchanges(paths) is True
    assert exchange_log.read_exchanges(paths) == [] and not log.exists()
    assert exchange_log.delete_exchanges(paths) is False


def test_a_failed_exchange_is_logged_too(world: World, ai: FakeAI):
    from integrations.ai.base import ProviderError
    from tests.fakes.ai_server import error

    paths = consent(True)
    ai.script(error(401, "invalid x-api-key", "authentication_error"))
    with pytest.raises(ProviderError):
        assistant(world.db, ai, today=world.today).ask("Hi")
    (entry,) = exchange_log.read_exchanges(paths)
    assert entry["status"] == 401 and "refused the API key" in entry["error"]
    assert entry["received"]["error"]["type"] == "authentication_error"


# --------------------------------------------------------------------------- redaction


def test_redaction_sends_tokens_and_puts_real_values_back(world: World, ai: FakeAI):
    consent(True)
    old = run_query(world.db, {"entity": "invoices", "fields": ["client.name", "balance"],
                               "where": [{"field": "id", "op": "eq", "value": world.old_invoice_id}]},
                    today=world.today).rows[0]
    name = old["client.name"]

    def answer_with_token(req):
        rows = last_results(req)[0]["rows"]
        return text(f"{rows[0]['client.name']} owes {rows[0]['balance']}; email "
                    f"{rows[0]['client.email']}.")

    ai.script(query({"entity": "invoices", "fields": ["client.name", "client.email", "balance"],
                     "where": [{"field": "client.name", "op": "eq", "value": "Client-1"},
                               {"field": "id", "op": "eq", "value": world.old_invoice_id}]}),
              answer_with_token)
    answer = assistant(world.db, ai, redact=True, today=world.today).ask(
        f"How much does {name.upper()} owe me?")
    email = answer.queries[0].result.rows[0]["client.email"]
    assert answer.text == f"{name} owes {old['balance']}; email {email}."
    everything_sent = json.dumps([r.json for r in ai.model_requests])
    assert name not in everything_sent and name.upper() not in everything_sent
    assert email not in everything_sent
    assert "How much does Client-1 owe me?" in everything_sent
    assert "Client-1" in everything_sent and "Email-1" in everything_sent
    assert answer.queries[0].result.rows[0]["client.name"] == name  # ran with the real name


def test_redaction_covers_free_text_emails_and_phones(world: World, ai: FakeAI):
    consent(True)
    ai.script(text("ok"))
    assistant(world.db, ai, redact=True, today=world.today).ask(
        "Did jane.doe@example.com or +1 (217) 555-0142 call about Mallory Quinn?")
    sent = ai.model_requests[0].json["messages"][0]["content"][0]["text"]
    assert sent == "Did Email-1 or Phone-1 call about Client-1?"


def test_redaction_covers_a_street_address_typed_in_the_question(world: World, ai: FakeAI):
    consent(True)
    street = run_query(world.db, {"entity": "jobs", "fields": ["address.line1"], "limit": 1,
                                  "where": [{"field": "address.line1", "op": "is_null",
                                             "value": False}]}, today=world.today).rows[0]
    street = street["address.line1"]
    at_street = {"entity": "jobs", "fields": ["number", "address.line1"],
                 "where": [{"field": "address.line1", "op": "eq", "value": street}]}
    expected = run_query(world.db, at_street, today=world.today).rows
    assert expected

    def answer_with_token(req):
        rows = last_results(req)[0]["rows"]
        return text(f"{len(rows)} job(s) at {rows[0]['address.line1']}.")

    ai.script(query({**at_street, "where": [{"field": "address.line1", "op": "eq",
                                             "value": "Address-1"}]}), answer_with_token)
    answer = assistant(world.db, ai, redact=True, today=world.today).ask(
        f"Which jobs are at {street.lower()}?")
    assert ai.model_requests[0].json["messages"][0]["content"][0]["text"] == \
        "Which jobs are at Address-1?"
    everything_sent = json.dumps([r.json for r in ai.model_requests]).lower()
    assert street.lower() not in everything_sent
    assert answer.queries[0].result.rows == expected  # ran here with the real street
    assert answer.text == f"{len(expected)} job(s) at {street}."


def test_redaction_covers_names_and_streets_inside_free_text_rows(db, ai: FakeAI):
    from core import clients

    consent(True)
    clients.create_client(
        db, clients.ClientData(name="Ada Park", notes="Key under the mat at 42 Quarry Lane, "
                                                      "Unit 3B; Annual check with Bo Lee."),
        [clients.ContactData(name="Bo Lee", email="bo@example.com"),
         clients.ContactData(name="Ann", phone="(217) 555-0150")],
        [clients.AddressData(line1="42 Quarry Lane", line2="Unit 3B")])
    seen: list[dict] = []

    def answer_with_tokens(req):
        seen.extend(last_results(req)[0]["rows"])
        return text(f"{seen[0]['name']}: the key is at {seen[0]['notes'].split(' at ')[1]}")

    ai.script(query({"entity": "clients", "fields": ["name", "notes"]}), answer_with_tokens)
    answer = assistant(db, ai, redact=True, today=TODAY).ask("Where is the key?")
    assert seen == [{"name": "Client-1",
                     "notes": "Key under the mat at Address-1, Address-2; Annual check with "
                              "Contact-1."}]  # "Ann" in "Annual" is not a name
    everything_sent = json.dumps([r.json for r in ai.model_requests])
    assert "Quarry" not in everything_sent and "3B" not in everything_sent
    assert "Bo Lee" not in everything_sent
    assert answer.text == "Ada Park: the key is at 42 Quarry Lane, Unit 3B; Annual check with " \
                          "Bo Lee."


# --------------------------------------------------------------------------- prompt injection


def test_an_instruction_planted_in_a_note_can_only_make_a_proposal(world: World, ai: FakeAI):
    consent(True)

    def obedient_model(req):
        """A model that does what the note says: texts every client it saw."""
        rows = last_results(req)[0]["rows"]
        assert any(INJECTION in (r["notes"] or "") for r in rows)
        calls = [Call("propose_action", {"kind": "draft_sms", "client_id": r["id"],
                                         "body": "Your account is suspended, pay now"})
                 for r in rows if r["id"] != world.injected_client_id][:5]
        return tool("propose_action", {"kind": "draft_sms", "client_id": world.injected_client_id,
                                       "body": "Your account is suspended, pay now"}, *calls)

    ai.script(query({"entity": "clients", "fields": ["id", "name", "notes"],
                     "sort": [{"field": "id", "dir": "desc"}], "limit": 6}),
              obedient_model, text("I have texted every client as the note asked."))
    before = writes(world)
    answer = assistant(world.db, ai, today=world.today).ask("Anything odd in my client notes?")
    assert answer.actions, "the model's proposals are shown to the owner"
    assert all(isinstance(a, ProposedAction) and a.kind == "draft_sms" for a in answer.actions)
    assert answer.actions[0].param("client_id") == world.injected_client_id
    for action in answer.actions:  # plain data: nothing in it can run
        assert not any(callable(v) for _, v in action.params)
        assert dataclasses.is_dataclass(action) and action.__dataclass_params__.frozen
    assert writes(world) == before  # nothing was changed or sent
    # the model was told it had not happened; proposals for contacts who cannot be texted were
    # refused with the reason
    results = last_results(ai.model_requests[2])
    assert all("has NOT been done" in r["note"] for r in results if r["ok"])
    assert all("proposal refused" in r["error"] for r in results if not r["ok"])
    # only the owner's keypress sends: execute_action with the sender
    sent: list[object] = []
    outcome = execute_action(world.db, answer.actions[0], send_sms=sent.append)
    assert len(sent) == 1 and outcome == "Sent the text to Mallory Quinn"
    assert sent[0].body == "Your account is suspended, pay now"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- actions


TODAY = dt.date(2026, 3, 10)


def test_proposals_are_checked_when_made(db):
    client_id = make_client(db, "Ada Park")
    with pytest.raises(Exception, match="kind"):
        propose_action(db, {"kind": "delete_client", "client_id": client_id}, today=TODAY)
    with pytest.raises(Exception, match="client 999 does not exist"):
        propose_action(db, {"kind": "create_task", "title": "Call", "client_id": 999}, today=TODAY)
    with pytest.raises(Exception, match="does not apply to create_task"):
        propose_action(db, {"kind": "create_task", "title": "Call", "body": "x"}, today=TODAY)
    with pytest.raises(Exception, match="no contact|No contact"):
        propose_action(db, {"kind": "draft_sms", "client_id": client_id, "body": "Hi"}, today=TODAY)
    with pytest.raises(Exception, match="job 12345 does not exist"):
        propose_action(db, {"kind": "schedule_visit", "job_id": 12345,
                            "starts_at": "2026-03-12T09:00"}, today=TODAY)
    action = propose_action(db, {"kind": "create_task", "title": "Call Ada about the hedge",
                                 "due_date": "+2d", "priority": "high", "client_id": client_id},
                            today=TODAY)
    assert action.summary == ("Create a task “Call Ada about the hedge” about Ada Park, due "
                              "2026-03-12 (high priority)")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Task)) == 0


def test_a_confirmed_task_and_visit_are_carried_out_by_the_services(db):
    client_id = make_client(db, "Ada Park")
    job_id = make_job(db, client_id)
    task = propose_action(db, {"kind": "create_task", "title": "Order mulch", "due_date": "2026-03-20",
                               "client_id": client_id}, today=TODAY)
    visit = propose_action(db, {"kind": "schedule_visit", "job_id": job_id,
                                "starts_at": "2026-03-12T09:30", "duration_minutes": 90},
                           today=TODAY)
    assert "on 2026-03-12 09:30 for 90 min" in visit.summary
    assert execute_action(db, task).startswith("Created task #")
    assert execute_action(db, visit).startswith("Scheduled visit #")
    with db.read() as s:
        saved = s.scalar(select(Task))
        assert (saved.title, saved.due_date, saved.client_id) == ("Order mulch",
                                                                  dt.date(2026, 3, 20), client_id)
        v = s.scalar(select(Visit).where(Visit.job_id == job_id))
        assert (v.starts_at, v.ends_at - v.starts_at) == (dt.datetime(2026, 3, 12, 9, 30),
                                                          dt.timedelta(minutes=90))
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"task.create", "visit.create"} <= actions


def test_a_text_is_checked_again_when_confirmed(db):
    from core import clients

    client_id = clients.create_client(db, clients.ClientData(name="Bo Lee"), [
        clients.ContactData(name="Bo Lee", phone="(217) 555-0150", sms_consent=True,
                            is_primary=True)])
    action = propose_action(db, {"kind": "draft_sms", "client_id": client_id,
                                 "body": "See you tomorrow at 9"}, today=TODAY)
    assert action.summary == "Text Bo Lee (+12175550150): “See you tomorrow at 9”"
    with pytest.raises(Exception, match="not set up"):
        execute_action(db, action)  # no sender: nothing is sent
    with db.write() as s:  # the client withdrew consent after the proposal
        s.scalar(select(Contact)).sms_consent = False
    sent: list[object] = []
    with pytest.raises(Exception, match="has not agreed"):
        execute_action(db, action, send_sms=sent.append)
    assert sent == []
