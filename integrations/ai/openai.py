"""OpenAI chat completions over plain httpx, for OpenAI itself and any OpenAI-compatible
endpoint (a local Ollama, vLLM, LM Studio...).

Two ways to get structured queries out of the model:

* ``tools`` (default): ``tools`` with ``function.parameters``; the reply's
  ``message.tool_calls[].function.arguments`` is a JSON string; results go back as
  ``role: tool`` messages.
* ``json_schema``: for models without tool calling. ``response_format`` asks for one JSON
  object per reply, ``{"calls": [{"tool": ..., "input": {...}}], "answer": "..."}``; the
  tools are described in the system message and results go back as a user message.
  ``auto`` starts with tools and switches to json_schema for the rest of the session when the
  endpoint answers 400 saying it does not support tools.

The endpoint is ``base_url`` + ``/chat/completions`` when ``base_url`` already ends in
``/v1`` (``http://localhost:11434/v1``), else ``base_url`` + ``/v1/chat/completions``.
The key is sent as ``Authorization: Bearer`` (or in the configured ``auth_header``, e.g.
Azure's ``api-key``); an OpenAI-compatible endpoint without a key gets no auth header. A
configured ``api_version`` is sent as the ``api-version`` query parameter (Azure OpenAI).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from integrations.ai.base import (
    AssistantMessage,
    Exchange,
    Message,
    ModelTurn,
    ProviderError,
    ProviderSettings,
    Sender,
    ToolCall,
    ToolResults,
    ToolSpec,
    UserMessage,
    dumps,
    loads,
)

MODES = ("tools", "json_schema", "auto")


class OpenAIProvider:
    def __init__(self, settings: ProviderSettings, *, mode: str = "auto", **sender: Any) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.settings = settings
        self.name = "OpenAI" if settings.kind == "openai" else "The AI endpoint"
        self.mode = mode
        self._sender = Sender(self.name, settings, "Authorization", **sender)

    @property
    def path(self) -> str:
        path = urlsplit(self.settings.base_url).path.rstrip("/")
        path = "/chat/completions" if path.endswith("/v1") else "/v1/chat/completions"
        if self.settings.api_version:
            path += "?" + urlencode({"api-version": self.settings.api_version})
        return path

    def close(self) -> None:
        self._sender.close()

    def complete(self, system: str, messages: Sequence[Message],
                 tools: Sequence[ToolSpec]) -> Exchange:
        json_mode = self.mode == "json_schema"
        try:
            return self._complete(system, messages, tools, json_mode)
        except ProviderError as exc:
            if self.mode != "auto" or exc.status != 400 or "tool" not in exc.message.lower():
                raise
        self.mode = "json_schema"  # the endpoint cannot call tools: ask for JSON replies
        return self._complete(system, messages, tools, True)

    def _complete(self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec],
                  json_mode: bool) -> Exchange:
        body: dict[str, Any] = {"model": self.settings.model}
        if json_mode:
            body["messages"] = [{"role": "system", "content": system + json_instructions(tools)},
                                *json_messages(messages)]
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "assistant_step", "strict": False, "schema": step_schema(tools)}}
        else:
            body["messages"] = [{"role": "system", "content": system}, *tool_messages(messages)]
            if tools:
                body["tools"] = [{"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.input_schema}}
                    for t in tools]
        body["max_tokens"] = self.settings.max_tokens
        headers = {"content-type": "application/json"}
        exchange = self._sender.post(self.path, headers, body)
        try:
            turn = parse_reply(exchange.received, json_mode)
        except ValueError as exc:
            raise ProviderError(self.name, f"sent a reply this app cannot read ({exc})",
                                exchange=exchange, status=exchange.status) from None
        return Exchange(exchange.provider, exchange.url, exchange.sent, exchange.status,
                        exchange.received, turn)


# --------------------------------------------------------------------------- tools mode


def tool_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, UserMessage):
            out.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantMessage):
            turn = message.turn
            entry: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
            if turn.tool_calls:
                entry["tool_calls"] = [{
                    "id": c.id, "type": "function",
                    "function": {"name": c.name,
                                 "arguments": c.raw if c.raw is not None else dumps(c.arguments)},
                } for c in turn.tool_calls]
            out.append(entry)
        elif isinstance(message, ToolResults):
            out.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.content}
                       for r in message.results)
    return out


def parse_reply(body: Any, json_mode: bool) -> ModelTurn:
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise ValueError("no choices")
    choice = body["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise ValueError("the choice has no message")
    finish = choice.get("finish_reason")
    finish = finish if isinstance(finish, str) else None
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    if json_mode:
        return _parse_json_step(text, finish)
    calls: list[ToolCall] = []
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise ValueError("tool_calls is not a list")
    for n, raw in enumerate(raw_calls):
        fn = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ValueError("a tool call has no function name")
        call_id = raw.get("id") if isinstance(raw.get("id"), str) else f"call_{n}"
        arguments = fn.get("arguments")
        if isinstance(arguments, dict):  # some compatible servers send an object
            calls.append(ToolCall(call_id, fn["name"], arguments, raw=dumps(arguments)))
            continue
        if not isinstance(arguments, str):
            calls.append(ToolCall(call_id, fn["name"], None, raw="",
                                  error="the arguments were missing"))
            continue
        try:
            parsed = loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            calls.append(ToolCall(call_id, fn["name"], None, raw=arguments,
                                  error=f"the arguments were not valid JSON ({exc})"))
            continue
        error = None if isinstance(parsed, dict) else "the arguments were not a JSON object"
        calls.append(ToolCall(call_id, fn["name"], parsed, raw=arguments, error=error))
    return ModelTurn(text, tuple(calls), finish, message)


# --------------------------------------------------------------------------- json_schema mode


def json_instructions(tools: Sequence[ToolSpec]) -> str:
    lines = ["", "", "REPLY FORMAT", "Reply with exactly one JSON object and nothing else:",
             '{"calls": [{"tool": "<tool name>", "input": {...}}], "answer": "<text>"}',
             "To use tools, list the calls and leave answer empty; the results come back in "
             "the next message. When you have what you need, give the answer with no calls.",
             "Tools:"]
    for t in tools:
        lines.append(f"- {t.name}: {t.description} Input: {dumps(t.input_schema)}")
    return "\n".join(lines)


def step_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "calls": {"type": "array", "items": {
                "type": "object",
                "properties": {"tool": {"type": "string", "enum": [t.name for t in tools]},
                               "input": {"type": "object"}},
                "required": ["tool", "input"]}},
            "answer": {"type": "string"},
        },
        "required": ["calls", "answer"],
    }


def json_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, UserMessage):
            out.append({"role": "user", "content": message.text})
        elif isinstance(message, AssistantMessage):
            raw = message.turn.raw
            out.append({"role": "assistant", "content": raw if isinstance(raw, str) else dumps(
                {"calls": [{"tool": c.name, "input": c.arguments} for c in message.turn.tool_calls],
                 "answer": message.turn.text})})
        elif isinstance(message, ToolResults):
            out.append({"role": "user", "content": _results_text(message)})
    return out


def _results_text(message: ToolResults) -> str:
    return "Tool results:\n" + "\n".join(
        f"[{r.call_id}] {r.name}{' (error)' if r.is_error else ''}: {r.content}"
        for r in message.results)


def _parse_json_step(text: str, finish: str | None) -> ModelTurn:
    try:
        step = loads(text)
    except ValueError as exc:
        return ModelTurn("", (ToolCall("json-0", "reply", None, raw=text,
                                       error=f"your reply was not valid JSON ({exc}); reply "
                                             "with one JSON object as described"),), finish, text)
    if not isinstance(step, dict):
        return ModelTurn("", (ToolCall("json-0", "reply", None, raw=text,
                                       error="your reply was not a JSON object"),), finish, text)
    calls = []
    raw_calls = step.get("calls") or []
    for n, call in enumerate(raw_calls if isinstance(raw_calls, list) else []):
        if not isinstance(call, dict) or not isinstance(call.get("tool"), str):
            calls.append(ToolCall(f"json-{n}", "reply", None,
                                  error='each call needs "tool" and "input"'))
            continue
        arguments = call.get("input")
        error = None if isinstance(arguments, dict) else "the input was not a JSON object"
        calls.append(ToolCall(f"json-{n}", call["tool"], arguments, error=error))
    answer = step.get("answer")
    return ModelTurn(answer if isinstance(answer, str) else "", tuple(calls), finish, text)
