"""The TOML config file: loaded once, validated, handed down as a frozen :class:`AppConfig`.

Every error names the file and the dotted key (``config.toml: integrations.stripe.api_base:
expected a string``). Unknown keys are errors too: a typo should not silently do nothing.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A config or secrets problem, with a message that names the file and the key."""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str | None = None  # None: crm.sqlite3 in the data dir
    backup_on_migrate: bool = True
    keep_backups: int = 10


@dataclass(frozen=True)
class LicenseConfig:
    server_url: str = "https://license.tssg-crm.invalid/v1/check"
    public_keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalyticsConfig:
    endpoint: str = "https://analytics.tssg-crm.invalid/v1/batch"


@dataclass(frozen=True)
class StripeConfig:
    api_base: str = "https://api.stripe.com"
    timeout: float = 20.0


@dataclass(frozen=True)
class TwilioConfig:
    api_base: str = "https://api.twilio.com"
    from_number: str = ""
    timeout: float = 20.0


@dataclass(frozen=True)
class UspsConfig:
    api_base: str = "https://apis.usps.com"
    timeout: float = 20.0


@dataclass(frozen=True)
class IntegrationsConfig:
    stripe: StripeConfig = field(default_factory=StripeConfig)
    twilio: TwilioConfig = field(default_factory=TwilioConfig)
    usps: UspsConfig = field(default_factory=UspsConfig)


@dataclass(frozen=True)
class AIConfig:
    provider: str = "anthropic"
    base_url: str = "https://api.anthropic.com"
    model: str = ""
    api_version: str = ""  # empty: Anthropic's 2023-06-01; OpenAI: none sent
    auth_header: str = ""
    # OpenAI and compatible endpoints: "tools" (function calling), "json_schema" (a JSON
    # reply format, for models without tools) or "auto" (tools, json_schema if refused)
    mode: str = "auto"
    timeout: float = 60.0


@dataclass(frozen=True)
class UIConfig:
    theme: str = "textual-dark"


@dataclass(frozen=True)
class AppConfig:
    source: Path | None = None
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    license: LicenseConfig = field(default_factory=LicenseConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    integrations: IntegrationsConfig = field(default_factory=IntegrationsConfig)
    ai: AIConfig = field(default_factory=AIConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    keymap: dict[str, str] = field(default_factory=dict)


_AI_PROVIDERS = ("anthropic", "openai", "openai-compatible")
_AI_MODES = ("auto", "tools", "json_schema")


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    # bool is an int in Python; a config that says `timeout = true` is still wrong.
    if isinstance(value, bool) and kind is not bool and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    ):
        raise ConfigError(f"{where}: expected {what}, got a boolean")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: expected {what}, got {type(value).__name__}")
    return value


def _section(
    cls: type, data: Any, file: str, prefix: str, nested: dict[str, tuple[type, str]] | None = None
) -> Any:
    where = f"{file}: {prefix}" if prefix else file
    _expect(data, dict, where, "a table")
    kwargs: dict[str, Any] = {}
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    nested = nested or {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        loc = f"{file}: {dotted}"
        if key not in fields or key == "source":
            allowed = ", ".join(k for k in fields if k != "source")
            raise ConfigError(f"{loc}: unknown key (allowed here: {allowed})")
        if key in nested:
            sub_cls, _ = nested[key]
            kwargs[key] = _section(sub_cls, value, file, dotted)
            continue
        default = fields[key].default
        ftype = fields[key].type
        if ftype in ("str", "str | None"):
            _expect(value, str, loc, "a string")
        elif ftype == "bool":
            _expect(value, bool, loc, "true or false")
        elif ftype == "int":
            _expect(value, int, loc, "a whole number")
            if value < 0:
                raise ConfigError(f"{loc}: must not be negative")
        elif ftype == "float":
            _expect(value, (int, float), loc, "a number")
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{loc}: must be greater than zero")
            value = float(value)
        elif ftype == "dict[str, str]":
            _expect(value, dict, loc, "a table of strings")
            for k, v in value.items():
                _expect(v, str, f"{loc}.{k}", "a string")
        else:  # pragma: no cover - a new field type needs a rule here
            raise AssertionError(f"no validation rule for {ftype}")
        del default
        kwargs[key] = value
    return cls(**kwargs)


def parse_config(data: dict[str, Any], file: str = "config.toml") -> AppConfig:
    """Validate a parsed TOML document into an :class:`AppConfig`."""
    known = {
        "database": DatabaseConfig,
        "license": LicenseConfig,
        "analytics": AnalyticsConfig,
        "ai": AIConfig,
        "ui": UIConfig,
    }
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in known:
            kwargs[key] = _section(known[key], value, file, key)
        elif key == "integrations":
            kwargs[key] = _section(
                IntegrationsConfig,
                value,
                file,
                "integrations",
                nested={
                    "stripe": (StripeConfig, ""),
                    "twilio": (TwilioConfig, ""),
                    "usps": (UspsConfig, ""),
                },
            )
        elif key == "keymap":
            _expect(value, dict, f"{file}: keymap", "a table of binding id = key")
            for k, v in value.items():
                _expect(v, str, f"{file}: keymap.{k}", "a key name such as 'ctrl+n'")
            kwargs[key] = dict(value)
        else:
            allowed = ", ".join([*known, "integrations", "keymap"])
            raise ConfigError(f"{file}: {key}: unknown section (allowed: {allowed})")
    config = AppConfig(**kwargs)
    if config.ai.provider not in _AI_PROVIDERS:
        raise ConfigError(
            f"{file}: ai.provider: '{config.ai.provider}' is not one of {', '.join(_AI_PROVIDERS)}"
        )
    if config.ai.mode not in _AI_MODES:
        raise ConfigError(f"{file}: ai.mode: '{config.ai.mode}' is not one of {', '.join(_AI_MODES)}")
    if config.ai.mode == "json_schema" and config.ai.provider == "anthropic":
        raise ConfigError(f"{file}: ai.mode: json_schema works with provider openai or "
                          "openai-compatible; Anthropic always uses tool use")
    for name, url in (
        ("license.server_url", config.license.server_url),
        ("analytics.endpoint", config.analytics.endpoint),
        ("integrations.stripe.api_base", config.integrations.stripe.api_base),
        ("integrations.twilio.api_base", config.integrations.twilio.api_base),
        ("integrations.usps.api_base", config.integrations.usps.api_base),
        ("ai.base_url", config.ai.base_url),
    ):
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"{file}: {name}: must be an http:// or https:// URL with a host")
    for key_id, hexkey in config.license.public_keys.items():
        try:
            raw = bytes.fromhex(hexkey)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ConfigError(
                f"{file}: license.public_keys.{key_id}: expected 64 hex digits (an Ed25519 key)"
            )
    return config


def load_config(path: Path) -> AppConfig:
    """Load the config file; a missing file means all defaults."""
    if not path.exists():
        return AppConfig(source=None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot be read (permission denied)") from None
    config = parse_config(data, str(path))
    return AppConfig(
        source=path,
        database=config.database,
        license=config.license,
        analytics=config.analytics,
        integrations=config.integrations,
        ai=config.ai,
        ui=config.ui,
        keymap=config.keymap,
    )
