"""Make a test app run at a chosen license tier through the real mechanism.

:func:`grant` writes (merging into any existing file) a config file for ``TSSG_CRM_HOME=home``
that trusts the test Ed25519 public key under ``[license] public_keys``, then has
:func:`core.licensing.accept_token` verify and store a token signed with the test private key —
exactly what a successful license check does. The fake license server signs with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config import AppConfig, AppPaths, load_config
from config.files import read_json_object, write_private_json
from core import licensing

TEST_KEY_ID = "test-key-1"
# deterministic, so a config written in one test process trusts tokens signed in another
TEST_PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"tssg-crm test license signing key").digest()
)
TEST_PUBLIC_KEY_HEX = TEST_PRIVATE_KEY.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw
).hex()
# a second key nobody trusts: tokens signed with it must be refused
UNTRUSTED_PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"someone else's key").digest()
)


def paths_for(home: Path) -> AppPaths:
    """The paths the app uses with ``TSSG_CRM_HOME=home`` (mirrors config.paths.app_paths)."""
    home = Path(home)
    return AppPaths(
        config_dir=home / "config",
        data_dir=home / "data",
        state_dir=home / "state",
        cache_dir=home / "cache",
        config_file=home / "config" / "config.toml",
    )


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def token_payload(instance_id: str, tier: str = "premium", **overrides: Any) -> dict[str, Any]:
    """A license payload valid for a year; datetime overrides are formatted for the wire."""
    now = now_utc()
    payload: dict[str, Any] = {
        "tier": tier,
        "license_id": "lic-test-0001",
        "instance_id": instance_id,
        "issued_at": now - dt.timedelta(minutes=5),
        "expires_at": now + dt.timedelta(days=365),
        "grace_days": 14,
    }
    payload.update(overrides)
    return {k: licensing.format_time(v) if isinstance(v, dt.datetime) else v
            for k, v in payload.items()}


def sign(payload: dict[str, Any], *, key: Ed25519PrivateKey = TEST_PRIVATE_KEY,
         key_id: str = TEST_KEY_ID) -> str:
    return licensing.sign_token(payload, key, key_id)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _dump_toml(data: dict[str, Any]) -> str:
    """Write the app's config shape: sections of scalars and inline tables; ``integrations``
    holds sub-sections."""
    out: list[str] = []

    def section(name: str, body: dict[str, Any]) -> None:
        out.append(f"[{name}]")
        out.extend(f'"{k}" = {_toml_value(v)}' for k, v in body.items())

    for name, body in data.items():
        if not isinstance(body, dict):
            raise ValueError(f"unexpected top-level key {name!r} in a config file")
        if name == "integrations":
            for sub, sub_body in body.items():
                section(f"integrations.{sub}", sub_body)
        else:
            section(name, body)
    return "\n".join(out) + "\n"


def trust_test_key(home: Path, **license_settings: str) -> AppConfig:
    """Merge ``[license] public_keys`` (and e.g. ``server_url``) into home's config file."""
    paths = paths_for(home)
    paths.ensure()
    data: dict[str, Any] = {}
    if paths.config_file.exists():
        data = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
    lic = dict(data.get("license", {}))
    lic["public_keys"] = {**lic.get("public_keys", {}), TEST_KEY_ID: TEST_PUBLIC_KEY_HEX}
    lic.update(license_settings)
    data["license"] = lic
    paths.config_file.write_text(_dump_toml(data), encoding="utf-8")
    return load_config(paths.config_file)


def grant(home: Path, tier: str, **overrides: Any) -> None:
    """Make the app under ``TSSG_CRM_HOME=home`` run at ``tier`` via a real signed token.

    ``overrides`` replace payload fields (``expires_at=...``, ``grace_days=0``,
    ``update={...}``, ``privacy_policy_version="2"``). A token the app would refuse (say,
    another ``instance_id``) raises :class:`core.licensing.TokenRefused` here, as it would
    in a real check; use :func:`plant_token` to put a bad token in place.
    """
    config = trust_test_key(home)
    paths = paths_for(home)
    payload = token_payload(licensing.instance_id(paths), tier, **overrides)
    licensing.accept_token(paths, config, sign(payload))


def plant_token(home: Path, token: str) -> None:
    """Store ``token`` as if it had been accepted — for testing tampered/foreign tokens."""
    trust_test_key(home)
    path = licensing.license_file(paths_for(home))
    state = read_json_object(path) or {}
    state["token"] = token
    write_private_json(path, state)
