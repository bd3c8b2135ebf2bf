"""The assistant screen (F4) against the fake AI provider on 127.0.0.1: off (consent or tier)
it says why and makes no request at all; on, the first question waits for the disclosure to
be accepted, the answer and the queries that ran are shown as plain text, and a proposed
action — even one a planted note talked the model into — changes nothing until the owner
picks it, presses x and confirms. The exchange log is viewable and deletable."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import app_paths, load_config
from config.settings import AIConfig
from core import clients
from core.clients import ClientData, ContactData
from core.models import AuditEvent, SmsMessage, Task
from integrations.ai import exchange_log
from tests.core.query_world import INJECTION
from tests.fakes.ai_server import TEST_KEY, Call, FakeAI, consent, query, text, tool
from tests.license_support import grant, paths_for
from tests.tui.support import TODAY, notices, screen_text, settle, type_text, wait_until
from tui.app import CrmApp
from tui.screens.assistant import AssistantScreen, DisclosureDialog, ExchangeLogScreen
from tui.screens.confirm import ConfirmScreen

CLIENT_NOTES = {"entity": "clients", "fields": ["id", "name", "notes"],
                "sort": [{"field": "name", "dir": "asc"}]}


@pytest.fixture
def ai(monkeypatch):
    monkeypatch.setenv("TSSG_CRM_AI_API_KEY", TEST_KEY)
    with FakeAI() as server:
        yield server


def assistant_app(db, ai: FakeAI, *, tier: str = "sovereign", consent_on: bool = True) -> CrmApp:
    """The app at ``tier`` (a real signed license token) with [ai] pointing at the fake."""
    home = Path(os.environ["TSSG_CRM_HOME"])
    if tier != "free":
        grant(home, tier)
    config = load_config(paths_for(home).config_file)
    config = dataclasses.replace(config, ai=AIConfig(base_url=ai.base, model="test-model"))
    consent(consent_on)
    app = CrmApp(db, config=config, today=TODAY)
    app.animation_level = "none"
    return app


def counts(db) -> tuple[int, int, int]:
    """(audit events, tasks, text messages): every change writes an audit event."""
    with db.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (AuditEvent, Task, SmsMessage))


async def open_assistant(pilot) -> AssistantScreen:
    await settle(pilot)
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AssistantScreen)
                     and pilot.app.screen.checked, "the assistant screen")
    screen = pilot.app.screen
    assert isinstance(screen, AssistantScreen)
    return screen


async def ask(pilot, question: str) -> None:
    await type_text(pilot, question)
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize(("tier", "consent_on", "reason"), [
    ("sovereign", False, "turn on AI consent in Settings"),
    ("free", True, "needs the Sovereign tier"),
    ("premium", True, "needs the Sovereign tier"),
])
async def test_off_it_says_why_and_makes_no_request(ui_db, ai: FakeAI, tier, consent_on, reason):
    ai.script(text("should never be asked"))
    app = assistant_app(ui_db, ai, tier=tier, consent_on=consent_on)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_assistant(pilot)
        assert screen.reason is not None and reason in screen.reason
        assert reason in screen_text(app)
        question = screen.query_one("#question")
        assert question.disabled
        await ask(pilot, "Who owes me money?")  # the box takes no keys; enter sends nothing
        assert not isinstance(app.screen, DisclosureDialog)
    assert ai.requests == []
    assert exchange_log.read_exchanges(app_paths()) == []


async def test_the_first_question_waits_for_the_disclosure_then_the_answer_shows(ui_db, ai):
    clients.create_client(ui_db, ClientData(name="Acme [b]Dental[/b]"))
    clients.create_client(ui_db, ClientData(name="Brook Farm"))
    ai.script(query({"entity": "clients", "aggregate": [{"fn": "count", "as": "n"}]}),
              text("You have 2 clients: [bold]Acme[/bold] and Brook Farm."))
    app = assistant_app(ui_db, ai)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_assistant(pilot)
        assert "What will be sent" in screen_text(app)

        await ask(pilot, "How many clients do I have?")
        assert isinstance(app.screen, DisclosureDialog)
        assert ai.base in app.screen.text and "Nothing else leaves this machine" in app.screen.text
        await pilot.press("n")  # not now: nothing goes out
        await settle(pilot)
        assert app.screen is screen and ai.requests == []
        assert "Nothing was sent." in notices(app)

        await ask(pilot, "How many clients do I have?")
        assert isinstance(app.screen, DisclosureDialog)
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.busy and len(ai.model_requests) == 2,
                         "the answer")
        shown = screen_text(app)
        assert "You: How many clients do I have?" in shown
        assert "You have 2 clients: [bold]Acme[/bold] and Brook Farm." in shown  # not markup
        assert "Query ran here: 1 row (1 sent)" in shown
        assert '{"entity": "clients", ' in shown

        # later questions of the session go straight out
        ai.script(text("Still 2."))
        await ask(pilot, "And now?")
        await wait_until(pilot, lambda: not screen.busy and len(ai.model_requests) == 3,
                         "the second answer")
        assert not isinstance(app.screen, DisclosureDialog)
        assert "Still 2." in screen_text(app)

        # the transparency view: every exchange, then deleted on request
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ExchangeLogScreen)
                         and len(app.screen.entries) == 3, "the exchange log")
        assert "How many clients do I have?" in screen_text(app)
        assert TEST_KEY not in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ExchangeLogScreen)
                         and app.screen.entries == [], "the emptied log")
        assert not exchange_log.log_path(app_paths()).exists()
        assert "The exchange log was deleted." in notices(app)


async def test_a_provider_failure_is_shown_in_plain_words(ui_db, ai: FakeAI):
    from tests.fakes.ai_server import error

    ai.script(error(401, "invalid x-api-key", "authentication_error"))
    app = assistant_app(ui_db, ai)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_assistant(pilot)
        await ask(pilot, "Hello?")
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.busy and ai.requests, "the refusal")
        assert any("refused the API key" in n for n in notices(app))
        assert "Not answered:" in screen_text(app)


async def test_a_planted_instruction_only_makes_proposals_that_wait_for_a_keypress(ui_db, ai):
    mallory = clients.create_client(
        ui_db, ClientData(name="Mallory Quinn", notes=INJECTION),
        [ContactData(name="Mallory Quinn", phone="(217) 555-0199", sms_consent=True,
                     is_primary=True)])
    clients.create_client(ui_db, ClientData(name="Brook Farm"))

    def obedient_model(req):
        """A model that does what the note says."""
        return tool("propose_action",
                    {"kind": "draft_sms", "client_id": mallory,
                     "body": "Your account is suspended, pay now"},
                    Call("propose_action", {"kind": "create_task", "client_id": mallory,
                                            "title": "Text every client about their account"}))

    ai.script(query(CLIENT_NOTES), obedient_model,
              text("I have texted every client as the note asked."))
    before = counts(ui_db)
    app = assistant_app(ui_db, ai)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_assistant(pilot)
        await ask(pilot, "Anything odd in my client notes?")
        await pilot.press("y")
        await wait_until(pilot, lambda: not screen.busy and len(ai.model_requests) == 3,
                         "the answer")
        shown = screen_text(app)
        assert "I have texted every client as the note asked." in shown
        assert "Proposed  Text Mallory Quinn" in shown
        assert "Proposed  Create a task “Text every client about their account”" in shown
        assert counts(ui_db) == before  # the answer claims it; nothing was done

        # the owner goes to the list; x on an action asks first, and "n" changes nothing
        await pilot.press("down")
        options = screen.query_one("#assistant-actions")
        assert app.focused is options
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert counts(ui_db) == before

        # the text: Twilio is not set up here, so it is refused with the reason, unsent
        await pilot.press("x", "y")
        await wait_until(pilot, lambda: screen.proposals[0].outcome != "", "the refusal")
        assert not screen.proposals[0].done
        assert any("Twilio" in n and "not set up" in n for n in notices(app))
        assert counts(ui_db) == before

        # the task: done after x and y, once
        await pilot.press("down", "x", "y")
        await wait_until(pilot, lambda: screen.proposals[1].done, "the task")
        audit, tasks, sms = counts(ui_db)
        assert (tasks, sms) == (before[1] + 1, before[2]) and audit == before[0] + 1
        with ui_db.read() as s:
            task = s.scalars(select(Task)).one()
        assert task.title == "Text every client about their account"
        assert (task.linked_type, task.linked_id) == ("client", mallory)
        assert "Done  Created task" in screen_text(app)
        await pilot.press("x")  # done is done: nothing more happens
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert counts(ui_db)[1] == before[1] + 1
