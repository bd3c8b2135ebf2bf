"""Secrets: API keys and the license key.

They live in ``secrets.toml`` beside the config file, mode 0600, or in ``TSSG_CRM_*``
environment variables (which win). A :class:`Secret` never shows its value in ``repr``/``str``,
so tracebacks, Textual's crash screen and logs cannot leak it.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import ConfigError

# secret name -> environment variable that overrides it
SECRET_ENV = {
    "stripe_api_key": "TSSG_CRM_STRIPE_API_KEY",
    "twilio_account_sid": "TSSG_CRM_TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TSSG_CRM_TWILIO_AUTH_TOKEN",
    "usps_client_id": "TSSG_CRM_USPS_CLIENT_ID",
    "usps_client_secret": "TSSG_CRM_USPS_CLIENT_SECRET",
    "ai_api_key": "TSSG_CRM_AI_API_KEY",
    "license_key": "TSSG_CRM_LICENSE_KEY",
}


class Secret:
    """A string that will not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def masked(self) -> str:
        """A hint a person can recognise without revealing the key: last four characters."""
        v = self._value
        return "••••" + v[-4:] if len(v) > 8 else "••••"

    def __repr__(self) -> str:
        return "Secret('**redacted**')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # never pickled with its value
        raise TypeError("Secret values cannot be pickled")


@dataclass
class Secrets:
    path: Path
    values: dict[str, Secret] = field(default_factory=dict)
    from_env: set[str] = field(default_factory=set)

    def get(self, name: str) -> Secret | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        if name not in SECRET_ENV:
            raise ConfigError(f"{self.path}: unknown secret '{name}'")
        self.values[name] = Secret(value)
        self.save()

    def delete(self, name: str) -> None:
        self.values.pop(name, None)
        self.save()

    def save(self) -> None:
        """Write the file-backed secrets with mode 0600 (created that way, never widened)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lines = ["# TSSG CRM secrets. Keep this file private (mode 0600).\n"]
        for name in sorted(self.values):
            if name in self.from_env:
                continue
            lines.append(f"{name} = {_toml_str(self.values[name].get())}\n")
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    # TOML forbids raw control characters (C0 and DEL) in basic strings
    escaped = "".join(
        f"\\u{ord(c):04x}" if c < " " or c == "\x7f" else c for c in escaped
    )
    return f'"{escaped}"'


def _read_wrapped(path: Path) -> dict[str, Secret | str]:
    """The file's keys, each string value already a Secret (other types: their type name)."""
    try:
        return {
            key: Secret(value) if isinstance(value, str) else type(value).__name__
            for key, value in tomllib.loads(path.read_text(encoding="utf-8")).items()
        }
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def load_secrets(path: Path) -> Secrets:
    """Read the secrets file (if any) and apply environment overrides.

    A secrets file readable by group or others is refused: the user is told how to fix it.
    """
    secrets = Secrets(path=path)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path}: secrets file is readable by others (mode {mode:o}); "
                f"run: chmod 600 {path}"
            )
        # Values are wrapped in Secret before anything can raise, so no frame that a
        # traceback (or Textual's crash screen) shows holds a raw key.
        for key, value in _read_wrapped(path).items():
            if key not in SECRET_ENV:
                raise ConfigError(
                    f"{path}: unknown key '{key}' (allowed: {', '.join(sorted(SECRET_ENV))})"
                )
            if not isinstance(value, Secret):
                raise ConfigError(f"{path}: key '{key}' must be a string")
            secrets.values[key] = value
    for name, env in SECRET_ENV.items():
        env_value = os.environ.get(env)
        if env_value:
            secrets.values[name] = Secret(env_value)
            secrets.from_env.add(name)
    return secrets
