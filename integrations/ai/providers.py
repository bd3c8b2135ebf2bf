"""Build the configured provider from ``AppConfig.ai`` and the ``ai_api_key`` secret.

Decisions where the config is silent: the model defaults to ``claude-sonnet-4-5``
(Anthropic) or ``gpt-4o-mini`` (OpenAI); an OpenAI-compatible endpoint must name its model
and base URL. ``base_url`` left at its default (Anthropic's) with ``provider = "openai"``
means OpenAI's own URL. ``api_version`` is Anthropic's ``anthropic-version`` header
(2023-06-01 when empty) and, when set, the ``api-version`` query parameter of an OpenAI
endpoint (Azure OpenAI).
``mode`` (``auto``, ``tools``, ``json_schema``) picks how OpenAI and compatible endpoints
return queries (see :mod:`.openai`); Anthropic always uses tool use.
Anthropic and OpenAI need a key; a compatible endpoint (a local Ollama) may have none.
"""

from __future__ import annotations

from typing import Any

from config import AppConfig, Secret
from config.settings import AIConfig
from core.errors import DomainError
from integrations.ai.anthropic import AnthropicProvider
from integrations.ai.base import Provider, ProviderSettings
from integrations.ai.openai import OpenAIProvider

DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o-mini"}
OPENAI_URL = "https://api.openai.com/v1"
_LABELS = {"anthropic": "Anthropic", "openai": "OpenAI",
           "openai-compatible": "your OpenAI-compatible AI endpoint"}


def provider_label(config: AppConfig) -> str:
    return _LABELS.get(config.ai.provider, config.ai.provider)


def settings_for(ai: AIConfig, api_key: Secret | None) -> ProviderSettings:
    kind = ai.provider
    base_url = ai.base_url
    if kind == "openai" and base_url == AIConfig().base_url:
        base_url = OPENAI_URL
    if kind == "openai-compatible" and base_url == AIConfig().base_url:
        raise DomainError("Set ai.base_url in the config file to your endpoint "
                          "(for example http://localhost:11434/v1 for Ollama).")
    model = ai.model or DEFAULT_MODELS.get(kind, "")
    if not model:
        raise DomainError("Set ai.model in the config file to the model your endpoint serves.")
    if kind in ("anthropic", "openai") and not api_key:
        raise DomainError(f"No API key for {_LABELS[kind]}: add ai_api_key to the secrets file "
                          "or set TSSG_CRM_AI_API_KEY. Nothing was sent.")
    return ProviderSettings(kind=kind, base_url=base_url, model=model, api_key=api_key or None,
                            auth_header=ai.auth_header, api_version=ai.api_version,
                            timeout=ai.timeout)


def make_provider(config: AppConfig, api_key: Secret | None, **sender: Any) -> Provider:
    """``sender`` options (``transport``, ``sleep``, ``policy``) go to the HTTP sender."""
    settings = settings_for(config.ai, api_key)
    options = {k: v for k, v in sender.items() if v is not None}
    if settings.kind == "anthropic":
        return AnthropicProvider(settings, **options)
    return OpenAIProvider(settings, mode=config.ai.mode, **options)
