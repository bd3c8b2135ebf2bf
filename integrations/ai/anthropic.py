"""Anthropic Messages API over plain httpx: ``POST /v1/messages`` with ``tools``
(``input_schema``), replies with ``text`` and ``tool_use`` blocks, results sent back as
``tool_result`` blocks. The key goes in ``x-api-key`` (or the configured auth header), the
API version in ``anthropic-version``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
)

NAME = "Anthropic"


class AnthropicProvider:
    name = NAME

    def __init__(self, settings: ProviderSettings, **sender: Any) -> None:
        self.settings = settings
        self._sender = Sender(NAME, settings, "x-api-key", **sender)

    def close(self) -> None:
        self._sender.close()

    def complete(self, system: str, messages: Sequence[Message],
                 tools: Sequence[ToolSpec]) -> Exchange:
        body: dict[str, Any] = {
            "model": self.settings.model,
            "max_tokens": self.settings.max_tokens,
            "system": system,
            "messages": wire_messages(messages),
        }
        if tools:
            body["tools"] = [{"name": t.name, "description": t.description,
                              "input_schema": t.input_schema} for t in tools]
        headers = {"anthropic-version": self.settings.api_version or "2023-06-01",
                   "content-type": "application/json"}
        exchange = self._sender.post("/v1/messages", headers, body)
        try:
            turn = parse_reply(exchange.received)
        except ValueError as exc:
            raise ProviderError(NAME, f"sent a reply this app cannot read ({exc})",
                                exchange=exchange, status=exchange.status) from None
        return Exchange(exchange.provider, exchange.url, exchange.sent, exchange.status,
                        exchange.received, turn)


def wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Neutral messages as Anthropic's alternating user/assistant turns."""
    out: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:  # a new question right after tool results
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for message in messages:
        if isinstance(message, UserMessage):
            add("user", [{"type": "text", "text": message.text}])
        elif isinstance(message, AssistantMessage):
            turn = message.turn
            blocks: list[dict[str, Any]] = []
            if turn.text:
                blocks.append({"type": "text", "text": turn.text})
            for call in turn.tool_calls:
                arguments = call.arguments if isinstance(call.arguments, dict) else {}
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                               "input": arguments})
            add("assistant", blocks or [{"type": "text", "text": ""}])
        elif isinstance(message, ToolResults):
            add("user", [{"type": "tool_result", "tool_use_id": r.call_id, "content": r.content,
                          **({"is_error": True} if r.is_error else {})}
                         for r in message.results])
    return out


def parse_reply(body: Any) -> ModelTurn:
    if not isinstance(body, dict) or not isinstance(body.get("content"), list):
        raise ValueError("no content blocks")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in body["content"]:
        if not isinstance(block, dict):
            raise ValueError("a content block is not an object")
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "tool_use":
            call_id, name, arguments = block.get("id"), block.get("name"), block.get("input")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise ValueError("a tool_use block has no id or name")
            error = None if isinstance(arguments, dict) else "the tool input was not a JSON object"
            calls.append(ToolCall(call_id, name, arguments, error=error))
    stop = body.get("stop_reason")
    return ModelTurn("".join(texts), tuple(calls), stop if isinstance(stop, str) else None, body)
