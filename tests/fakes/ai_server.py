"""A fake AI provider on 127.0.0.1 speaking the Anthropic Messages and OpenAI chat
completions wire formats, with scripted replies, recording every request.

``POST /v1/messages`` answers in Anthropic's format (``content`` blocks, ``tool_use``,
``stop_reason``, errors as ``{"type": "error", "error": {...}}``); ``POST
/v1/chat/completions`` (or ``/chat/completions``) in OpenAI's (``choices[0].message``,
``tool_calls`` with JSON-string ``arguments``, errors as ``{"error": {...}}``); a request
with ``response_format`` gets its step as a JSON string in ``content``.

The script is a list of steps, one per request: :func:`tool` (one or more tool calls),
:func:`text` (a final answer), :func:`error` (an HTTP error in the provider's format),
:func:`raw` (any status and bytes), or a function of the request returning a step.
``repeat=True`` on :meth:`FakeAI.script` replays the last step forever (endless tool rounds).
With nothing scripted the server answers 500, so a test never passes by accident.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.loopback import Answer, LoopbackServer, Recorded


@dataclass(frozen=True)
class Call:
    name: str
    input: Any
    raw_arguments: str | None = None  # OpenAI: send these exact (maybe broken) arguments


@dataclass(frozen=True)
class Step:
    calls: tuple[Call, ...] = ()
    text: str = ""
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    body: bytes | None = None  # raw(): sent as is
    headers: dict[str, str] = field(default_factory=dict)


Responder = Step | Callable[[Recorded], Step]


def tool(name: str, input: Any = None, *more: Call, text: str = "",
         raw_arguments: str | None = None) -> Step:
    return Step(calls=(Call(name, input, raw_arguments), *more), text=text)


def query(q: Any) -> Step:
    return tool("run_query", q)


def text(answer: str) -> Step:
    return Step(text=answer)


def error(status: int, message: str = "", kind: str = "", headers: dict[str, str] | None = None
          ) -> Step:
    return Step(status=status, error_type=kind, error_message=message, headers=headers or {})


def raw(status: int, body: bytes, content_type: str = "application/json") -> Step:
    return Step(status=status, body=body, headers={"Content-Type": content_type})


class FakeAI(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.steps: list[Responder] = []
        self.repeat = False
        self._ids = itertools.count(1)

    def script(self, *steps: Responder, repeat: bool = False) -> None:
        self.steps = list(steps)
        self.repeat = repeat

    @property
    def model_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def answer(self, req: Recorded) -> Answer:
        anthropic = req.path.endswith("/v1/messages")
        if not self.steps:
            return 500, {"error": {"type": "api_error", "message": "nothing scripted"}}, {}
        responder = self.steps[0] if (self.repeat and len(self.steps) == 1) else self.steps.pop(0)
        step = responder(req) if callable(responder) else responder
        if step.body is not None:
            return step.status, step.body, dict(step.headers)
        if step.status >= 400:
            if anthropic:
                body: Any = {"type": "error", "error": {"type": step.error_type or "api_error",
                                                        "message": step.error_message}}
            else:
                body = {"error": {"message": step.error_message, "type": step.error_type
                                  or "invalid_request_error", "param": None, "code": None}}
            return step.status, body, dict(step.headers)
        if anthropic:
            return 200, self._anthropic(step, req), {}
        return 200, self._openai(step, req), {}

    def _anthropic(self, step: Step, req: Recorded) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if step.text:
            content.append({"type": "text", "text": step.text})
        for call in step.calls:
            content.append({"type": "tool_use", "id": f"toolu_{next(self._ids):04d}",
                            "name": call.name, "input": call.input})
        return {"id": f"msg_{next(self._ids):04d}", "type": "message", "role": "assistant",
                "model": req.json.get("model"), "content": content,
                "stop_reason": "tool_use" if step.calls else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 5}}

    def _openai(self, step: Step, req: Recorded) -> dict[str, Any]:
        message: dict[str, Any]
        if "response_format" in req.json:
            content = json.dumps({"calls": [{"tool": c.name, "input": c.input} for c in step.calls],
                                  "answer": step.text})
            if step.calls and step.calls[0].raw_arguments is not None:
                content = step.calls[0].raw_arguments
            message = {"role": "assistant", "content": content}
            finish = "stop"
        elif step.calls:
            message = {"role": "assistant", "content": step.text or None, "tool_calls": [
                {"id": f"call_{next(self._ids):04d}", "type": "function",
                 "function": {"name": c.name, "arguments": c.raw_arguments
                              if c.raw_arguments is not None else json.dumps(c.input)}}
                for c in step.calls]}
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": step.text}
            finish = "stop"
        return {"id": f"chatcmpl-{next(self._ids):04d}", "object": "chat.completion",
                "created": 1_760_000_000, "model": req.json.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def tool_results(req: Recorded) -> list[str]:
    """The tool results a request carries back to the model, in either format."""
    out: list[str] = []
    for message in req.json.get("messages", []):
        if message.get("role") == "tool":
            out.append(message.get("content", ""))
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            out += [b.get("content", "") for b in content if b.get("type") == "tool_result"]
        elif message.get("role") == "user" and isinstance(content, str) and \
                content.startswith("Tool results:"):
            out.append(content)
    return out


def last_results(req: Recorded) -> list[dict[str, Any]]:
    """The tool results of the latest round only, parsed (Anthropic or OpenAI tools)."""
    messages = req.json.get("messages", [])
    last = messages[-1] if messages else {}
    if isinstance(last.get("content"), list):
        return [json.loads(b["content"]) for b in last["content"] if b.get("type") == "tool_result"]
    tail = list(itertools.takewhile(lambda m: m.get("role") == "tool", reversed(messages)))
    return [json.loads(m["content"]) for m in reversed(tail)]


# --------------------------------------------------------------------------- test helpers

TEST_KEY = "sk-test-0123456789abcdef"


def ai_config(server: FakeAI, provider: str = "anthropic", **ai: Any) -> Any:
    """An AppConfig whose [ai] section points at the fake server."""
    from config import AppConfig
    from config.settings import AIConfig

    ai.setdefault("base_url", server.base)
    ai.setdefault("model", "test-model")
    return AppConfig(ai=AIConfig(provider=provider, **ai))


def consent(on: bool = True) -> Any:
    """Turn AI consent on (or off) in this test's TSSG_CRM_HOME; returns its paths."""
    from config import app_paths
    from config.privacy import PrivacySettings, save_privacy

    paths = app_paths()
    paths.ensure()
    save_privacy(paths, PrivacySettings(ai_consent=on))
    return paths


def assistant(db: Any, server: FakeAI, *, provider: str = "anthropic", tier: str = "sovereign",
              key: str | None = TEST_KEY, sleeps: list[float] | None = None, **kw: Any) -> Any:
    """An Assistant on ``db`` talking to the fake server; retries do not wait (the waits
    asked for are appended to ``sleeps``)."""
    from config import Secret, app_paths
    from integrations.ai.assistant import Assistant

    waits = sleeps if sleeps is not None else []
    return Assistant(db, app_paths(), ai_config(server, provider, **kw.pop("ai", {})), tier=tier,
                     api_key=Secret(key) if key else None, sleep=waits.append, **kw)
