"""What every AI provider speaks: a conversation in neutral form, one call per round trip,
and an :class:`Exchange` recording exactly what went out and what came back.

Providers (:mod:`.anthropic`, :mod:`.openai`) turn the neutral messages into their wire
format, send them with the shared HTTP policy (:mod:`integrations.http`) and parse the
reply into a :class:`ModelTurn`. Response bodies are parsed with exact decimals, so a money
value a model writes as ``500.5`` never becomes a float.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import httpx

from config import Secret
from integrations.http import IntegrationError, RetryPolicy, make_client, request


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Any  # the parsed JSON arguments (a dict when well-formed)
    raw: str | None = None  # the arguments as the provider sent them (OpenAI: a JSON string)
    error: str | None = None  # why the arguments could not be read


@dataclass(frozen=True)
class ModelTurn:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    raw: Any = None  # the assistant message as received, to send back verbatim


@dataclass(frozen=True)
class UserMessage:
    text: str


@dataclass(frozen=True)
class AssistantMessage:
    turn: ModelTurn


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolResults:
    results: tuple[ToolResult, ...]


Message = UserMessage | AssistantMessage | ToolResults


@dataclass(frozen=True)
class Exchange:
    """One request to the provider: the body sent (never the API key, which travels in a
    header) and the status and body received."""

    provider: str
    url: str
    sent: dict[str, Any]
    status: int | None = None
    received: Any = None
    turn: ModelTurn | None = None


class ProviderError(IntegrationError):
    """The provider refused or failed; ``exchange`` holds what was sent and received."""

    def __init__(self, service: str, message: str, *, exchange: Exchange,
                 status: int | None = None, retryable: bool = False) -> None:
        super().__init__(service, message, status=status, retryable=retryable)
        self.exchange = exchange


class Provider(Protocol):
    name: str

    def complete(self, system: str, messages: Sequence[Message],
                 tools: Sequence[ToolSpec]) -> Exchange: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ProviderSettings:
    """What a provider needs, resolved from AppConfig.ai and the secrets."""

    kind: str  # anthropic | openai | openai-compatible
    base_url: str
    model: str
    # kept as a Secret down to the HTTP client: no frame a traceback shows holds the raw key
    api_key: Secret | None = None
    auth_header: str = ""
    api_version: str = ""
    timeout: float = 60.0
    max_tokens: int = 2048


# --------------------------------------------------------------------------- JSON helpers


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # exact: a decimal the model wrote goes back as the same digits (as a string)
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def plain(value: Any) -> Any:
    """A structure with Decimals turned into strings (for logs and JSON round trips)."""
    return json.loads(dumps(value))


def error_detail(body: Any, text: str) -> str:
    """The provider's own error words: Anthropic ``{"error": {"type", "message"}}``, OpenAI
    ``{"error": {"message", "code"}}``, or the start of a non-JSON body."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        kind = err.get("type") or err.get("code") or ""
        message = err.get("message") or ""
        return f"{kind}: {message}".strip(": ") if kind else str(message)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    text = " ".join(text.split())
    return text[:200] if text else "no details"


def mask(text: str, secret: Secret | None) -> str:
    """Remove the API key (and OpenAI's partial echo of it) from a provider's message."""
    if secret:
        text = text.replace(secret.get(), "***")
        if len(secret.get()) > 8:
            text = text.replace(secret.get()[-4:], "****")
    return text


# --------------------------------------------------------------------------- sending

DEFAULT_POLICY = RetryPolicy(retries=2, backoff=1.0, max_backoff=8.0)


@dataclass
class Sender:
    """Posts a JSON body to the provider with the shared retry policy and turns failures
    into :class:`ProviderError` messages a person can act on."""

    service: str
    settings: ProviderSettings
    auth_header: str  # the provider's usual header for the key (x-api-key, Authorization)
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    policy: RetryPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        self._client: httpx.Client | None = None

    def client(self, headers: dict[str, str]) -> httpx.Client:
        # one client per session: building one costs ~0.1 s (it loads the CA certificates)
        if self._client is None:
            transport = self.transport or httpx.HTTPTransport(verify=_ssl_context())
            self._client = make_client(self.settings.base_url.rstrip("/"),
                                       timeout=self.settings.timeout, transport=transport)
            self._client.headers.update(auth_headers(self.settings, self.auth_header))
        self._client.headers.update(headers)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def post(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Exchange:
        url = self.settings.base_url.rstrip("/") + path
        sent = plain(body)
        exchange = Exchange(self.service, url, sent)
        key = self.settings.api_key
        try:
            response = request(
                self.client(headers), "POST", url, service=self.service, policy=self.policy,
                sleep=self.sleep, content=dumps(body).encode("utf-8"),
                describe=lambda r: mask(_describe(r), key),
            )
        except IntegrationError as exc:
            raise ProviderError(self.service, mask(exc.message, key), exchange=exchange,
                                status=exc.status, retryable=exc.retryable) from None
        text = response.text
        try:
            received: Any = loads(response.content) if response.content else None
        except ValueError:
            received = text[:2000]
        exchange = Exchange(self.service, url, sent, response.status_code, received)
        status = response.status_code
        if status in (401, 403):
            detail = mask(error_detail(received, text), key)
            raise ProviderError(
                self.service,
                f"refused the API key (HTTP {status}, {detail}). Check ai_api_key in the "
                "secrets file (or TSSG_CRM_AI_API_KEY) and that the key may use this model.",
                exchange=exchange, status=status)
        if status >= 400:
            detail = mask(error_detail(received, text), key)
            raise ProviderError(self.service, f"refused the request (HTTP {status}, {detail})",
                                exchange=exchange, status=status)
        if not isinstance(received, dict):
            raise ProviderError(self.service, "sent a reply this app cannot read (not a JSON "
                                              "object)", exchange=exchange, status=status)
        return exchange


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once per process (loading the CA bundle is
    most of the cost of a new client)."""
    return httpx.create_ssl_context()


def _describe(response: httpx.Response) -> str:
    try:
        body = loads(response.content)
    except ValueError:
        body = None
    return f"HTTP {response.status_code}, {error_detail(body, response.text)}"


def auth_headers(settings: ProviderSettings, default_header: str) -> dict[str, str]:
    """The key in the configured header (``Authorization`` takes ``Bearer KEY``)."""
    if not settings.api_key:
        return {}
    header = settings.auth_header or default_header
    if header.lower() == "authorization":
        return {header: f"Bearer {settings.api_key.get()}"}
    return {header: settings.api_key.get()}
