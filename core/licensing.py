"""License policy, verified offline: which tier this copy runs at and why (DESIGN sections 4, 5).

A license token is ``v1.<key id>.<payload>.<signature>`` (base64url, no padding): an Ed25519
signature over ``v1.<key id>.<payload>`` made by the license server, checked here against the
public keys shipped below plus ``[license] public_keys`` from the config. The payload is JSON:
tier, license_id, instance_id, issued_at, expires_at (ISO 8601 UTC), grace_days and, optionally,
``update`` (latest_version, release_notes_url, security) and privacy_policy_version — the
notices are inside the signature so nobody on the network can plant a fake "update" link.

Decisions where the issue is silent:
- State lives in ``license.json`` (0600) in the data dir: the last token that verified, the
  last check (exact payload sent, license key masked, when, outcome), the notices and their
  acknowledgements, and a clock high-water mark. The instance id is its own file, made on
  first run ("install"), random, never derived from the machine.
- Every evaluation re-verifies the stored token, so editing the file by hand gives Free.
- The clock counts as set back when it is more than :data:`CLOCK_TOLERANCE` behind the latest
  time this copy has seen (a check, a token's issue time, or an earlier evaluation), or behind
  a token's issue time. Only a token issued later than the one held may reset that mark (so a
  clock that once ran ahead is cured by the next check, and replaying an old answer is not).
- A refused token (bad signature, unknown key, other instance, clock set back) means Free, with
  the reason in the status. Nothing here ever blocks reading, editing or exporting data: the
  tier only gates the features listed in :mod:`core.tiers`.
- The first privacy-policy version seen is the one the user installed under (no notice);
  a later different version is a notice until acknowledged. An update notice appears when the
  announced version is newer than the running one, once per announced version.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import AppConfig, AppPaths
from config.files import read_json_object, write_private_json
from core.errors import DomainError
from core.tiers import TIERS

TOKEN_VERSION = "v1"

# key id -> raw Ed25519 public key (hex). The private half never leaves the signing server.
SHIPPED_PUBLIC_KEYS: dict[str, str] = {
    "tssg-2026-1": "f48e802731e29314969bbd0712681c97dd6d8acdc665b990098bb0fed408d7bd",
}

CLOCK_TOLERANCE = dt.timedelta(hours=1)
CHECK_INTERVAL = dt.timedelta(hours=24)
CHECK_JITTER = dt.timedelta(hours=1)
RETRY_FIRST = dt.timedelta(minutes=5)
RETRY_MAX = dt.timedelta(hours=6)
MAX_GRACE_DAYS = 90  # a token cannot stretch its own grace period beyond this

CHECK_FIELDS = ("instance_id", "license_key", "app_version", "os", "python")


class TokenRefused(DomainError):
    """A license token that cannot be trusted; ``reason`` is a short code, the message words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class UpdateInfo:
    latest_version: str
    release_notes_url: str = ""
    security: bool = False


@dataclass(frozen=True)
class LicenseToken:
    key_id: str
    tier: str
    license_id: str
    instance_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    grace_days: int
    update: UpdateInfo | None
    privacy_policy_version: str | None
    raw: str

    @property
    def grace_until(self) -> dt.datetime:
        return self.expires_at + dt.timedelta(days=self.grace_days)


@dataclass(frozen=True)
class LicenseStatus:
    """What Settings and the status bar show. ``state`` is one of: none (no license held),
    valid, grace, expired, refused."""

    tier: str
    state: str
    message: str
    instance_id: str
    license_id: str | None = None
    licensed_tier: str | None = None  # the tier on the token, even when not in force
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    grace_until: dt.datetime | None = None
    last_check: dict[str, Any] | None = None


@dataclass(frozen=True)
class Notice:
    kind: str  # "update" | "privacy_policy"
    key: str  # the version the notice is about; acknowledging stores it
    title: str
    text: str
    url: str = ""


# --------------------------------------------------------------------------- time & encoding


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def format_time(value: dt.datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise TokenRefused("bad_payload", f"The license token has no valid {field}.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise TokenRefused("bad_payload", f"The license token has no valid {field}.") from None
    return _utc(parsed)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------- keys & tokens


def trusted_keys(config: AppConfig) -> dict[str, bytes]:
    """Key id -> raw public key: the shipped keys, plus the config's for a private server.

    A config key cannot replace a shipped key id (that would let a config file impersonate
    the vendor's key under its own name).
    """
    keys = {kid: bytes.fromhex(hexkey) for kid, hexkey in config.license.public_keys.items()}
    keys.update({kid: bytes.fromhex(hexkey) for kid, hexkey in SHIPPED_PUBLIC_KEYS.items()})
    return keys


def sign_token(payload: Mapping[str, Any], private_key: Any, key_id: str) -> str:
    """Encode and sign a payload (the license server's half; tests use it with a test key)."""
    body = _b64encode(json.dumps(dict(payload), sort_keys=True, separators=(",", ":")).encode())
    signing_input = f"{TOKEN_VERSION}.{key_id}.{body}"
    signature = private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64encode(signature)}"


def verify_token(token: str, keys: Mapping[str, bytes]) -> LicenseToken:
    """Check the signature and the payload's shape; raise :class:`TokenRefused` if either fails.

    Instance id and clock are checked by :func:`accept_token` and :func:`status`.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(token, str):
        raise TokenRefused("malformed", "The license token is not in a format this app reads.")
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION:
        raise TokenRefused("malformed", "The license token is not in a format this app reads.")
    version, key_id, body, signature_text = parts
    if key_id not in keys:
        raise TokenRefused(
            "unknown_key",
            f"The license token is signed with a key this app does not trust ({key_id[:40]}).",
        )
    try:
        signature = _b64decode(signature_text)
        raw_payload = _b64decode(body)
        Ed25519PublicKey.from_public_bytes(keys[key_id]).verify(
            signature, f"{version}.{key_id}.{body}".encode("ascii")
        )
    except (InvalidSignature, ValueError, binascii.Error):
        raise TokenRefused(
            "bad_signature", "The license token's signature does not match; it was altered."
        ) from None
    try:
        payload = json.loads(raw_payload)
    except ValueError:
        raise TokenRefused("bad_payload", "The license token's content is unreadable.") from None
    return _token_from_payload(payload, key_id, token.strip())


def _token_from_payload(payload: Any, key_id: str, raw: str) -> LicenseToken:
    if not isinstance(payload, dict):
        raise TokenRefused("bad_payload", "The license token's content is unreadable.")
    tier = payload.get("tier")
    if tier not in TIERS:
        raise TokenRefused("bad_payload", "The license token names a tier this app does not know.")
    for field in ("license_id", "instance_id"):
        if not isinstance(payload.get(field), str) or not payload[field]:
            raise TokenRefused("bad_payload", f"The license token has no {field}.")
    grace = payload.get("grace_days", 0)
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        raise TokenRefused("bad_payload", "The license token has an invalid grace period.")
    issued = _parse_time(payload.get("issued_at"), "issue time")
    expires = _parse_time(payload.get("expires_at"), "expiry time")
    if expires < issued:
        raise TokenRefused("bad_payload", "The license token expires before it was issued.")
    update = None
    raw_update = payload.get("update")
    if isinstance(raw_update, dict) and isinstance(raw_update.get("latest_version"), str):
        notes = raw_update.get("release_notes_url")
        update = UpdateInfo(
            latest_version=raw_update["latest_version"],
            release_notes_url=notes if isinstance(notes, str) else "",
            security=raw_update.get("security") is True,
        )
    policy = payload.get("privacy_policy_version")
    return LicenseToken(
        key_id=key_id,
        tier=tier,
        license_id=payload["license_id"],
        instance_id=payload["instance_id"],
        issued_at=issued,
        expires_at=expires,
        grace_days=min(grace, MAX_GRACE_DAYS),
        update=update,
        privacy_policy_version=policy if isinstance(policy, str) and policy else None,
        raw=raw,
    )


# --------------------------------------------------------------------------- local files


def instance_id_file(paths: AppPaths) -> Path:
    return paths.data_dir / "instance_id"


def license_file(paths: AppPaths) -> Path:
    return paths.data_dir / "license.json"


def instance_id(paths: AppPaths) -> str:
    """This installation's random id, made on first use (0600) and kept from then on."""
    path = instance_id_file(paths)
    with contextlib.suppress(OSError):
        existing = path.read_text(encoding="ascii").strip()
        if re.fullmatch(r"[0-9a-f]{32}", existing):
            return existing
    new_id = secrets.token_hex(16)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".instance_id.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(new_id + "\n")
    try:
        # never replace an id another process wrote first
        os.link(tmp, path)
    except FileExistsError:
        os.unlink(tmp)
        return instance_id(paths)
    os.unlink(tmp)
    return new_id


def _load_state(paths: AppPaths) -> dict[str, Any]:
    return read_json_object(license_file(paths)) or {}


def _save_state(paths: AppPaths, state: dict[str, Any]) -> None:
    write_private_json(license_file(paths), state)


def _seen(state: dict[str, Any]) -> dt.datetime | None:
    try:
        return _parse_time(state.get("last_seen_at"), "time")
    except TokenRefused:
        return None


def _mark_seen(state: dict[str, Any], when: dt.datetime) -> bool:
    seen = _seen(state)
    if seen is None or when > seen:
        state["last_seen_at"] = format_time(when)
        return True
    return False


# --------------------------------------------------------------------------- use cases


def check_payload(paths: AppPaths, license_key: str, app_version: str) -> dict[str, str]:
    """Exactly what a license check sends (DESIGN section 4) — nothing about the business."""
    return {
        "instance_id": instance_id(paths),
        "license_key": license_key,
        "app_version": app_version,
        "os": f"{platform.system()} {platform.release()}".strip(),
        "python": platform.python_version(),
    }


def masked_key(license_key: str) -> str:
    """The license key as Settings may show it: only the last four characters."""
    if not license_key:
        return ""
    return "••••" + license_key[-4:] if len(license_key) > 8 else "••••"


def _check_clock(token: LicenseToken, state: dict[str, Any], now: dt.datetime) -> None:
    seen = _seen(state)
    if token.issued_at > now + CLOCK_TOLERANCE or (seen and seen > now + CLOCK_TOLERANCE):
        raise TokenRefused(
            "clock_set_back",
            "This computer's clock is behind the time of the last license check; "
            "set the correct date and time.",
        )


def accept_token(paths: AppPaths, config: AppConfig, token: str, *,
                 now: dt.datetime | None = None) -> LicenseToken:
    """Verify a token from the license server and keep it as the one in force.

    Refused tokens raise :class:`TokenRefused` and leave the previous token in place.
    """
    now = _utc(now)
    parsed = verify_token(token, trusted_keys(config))
    if parsed.instance_id != instance_id(paths):
        raise TokenRefused(
            "other_instance", "The license token was issued to another installation."
        )
    state = _load_state(paths)
    stored = _stored_issue_time(state, config)
    if stored is not None and parsed.issued_at <= stored:
        # not newer than what we hold (a replay, or the same answer again): the clock
        # high-water mark stands
        _check_clock(parsed, state, now)
        _mark_seen(state, max(now, parsed.issued_at))
    else:
        # a newer answer signed by the server: its issue time vouches for this clock, so a
        # mark left by a clock that once ran ahead is replaced rather than kept for good
        _check_clock(parsed, {}, now)
        state["last_seen_at"] = format_time(max(now, parsed.issued_at))
    state["token"] = parsed.raw
    notices = state.setdefault("notices", {})
    acknowledged = state.setdefault("acknowledged", {})
    if parsed.update is not None:
        notices["update"] = {
            "latest_version": parsed.update.latest_version,
            "release_notes_url": parsed.update.release_notes_url,
            "security": parsed.update.security,
        }
    if parsed.privacy_policy_version:
        notices["privacy_policy_version"] = parsed.privacy_policy_version
        # the first version seen is the one this installation started under
        acknowledged.setdefault("privacy_policy", parsed.privacy_policy_version)
    _save_state(paths, state)
    return parsed


def _stored_issue_time(state: dict[str, Any], config: AppConfig) -> dt.datetime | None:
    raw = state.get("token")
    if not isinstance(raw, str):
        return None
    try:
        return verify_token(raw, trusted_keys(config)).issued_at
    except TokenRefused:
        return None


def record_check(paths: AppPaths, *, at: dt.datetime, url: str, sent: Mapping[str, str],
                 ok: bool, message: str) -> None:
    """Keep the exact payload of the last check (license key masked) for Settings."""
    shown = dict(sent)
    if "license_key" in shown:
        shown["license_key"] = masked_key(shown["license_key"])
    state = _load_state(paths)
    state["last_check"] = {
        "at": format_time(at),
        "url": url,
        "sent": shown,
        "ok": ok,
        "message": message,
    }
    if ok:
        _mark_seen(state, _utc(at))
        state["consecutive_failures"] = 0
    else:
        state["consecutive_failures"] = int(state.get("consecutive_failures") or 0) + 1
    _save_state(paths, state)


def last_check(paths: AppPaths) -> dict[str, Any] | None:
    check = _load_state(paths).get("last_check")
    return check if isinstance(check, dict) else None


def consecutive_failures(paths: AppPaths) -> int:
    value = _load_state(paths).get("consecutive_failures")
    return value if isinstance(value, int) and value >= 0 else 0


def next_check_in(failures: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """How long the background worker waits: a day (± jitter) after a success; after failures
    a quiet exponential backoff from five minutes up to six hours, also jittered."""
    rng = rng or random.Random()
    if failures <= 0:
        jitter = rng.uniform(-1, 1) * CHECK_JITTER.total_seconds()
        return CHECK_INTERVAL + dt.timedelta(seconds=jitter)
    base = min(RETRY_FIRST * (2 ** min(failures - 1, 16)), RETRY_MAX)
    return base * rng.uniform(0.8, 1.2)


def status(paths: AppPaths, config: AppConfig, *, now: dt.datetime | None = None) -> LicenseStatus:
    """The tier in force and why. Never raises for a missing, damaged or refused token."""
    now = _utc(now)
    try:
        inst = instance_id(paths)
    except OSError:
        inst = ""
    state = _load_state(paths)
    check = state.get("last_check") if isinstance(state.get("last_check"), dict) else None
    raw = state.get("token")
    if not raw:
        return LicenseStatus(tier="free", state="none", instance_id=inst, last_check=check,
                             message="Free tier: no license is active on this installation.")
    try:
        token = verify_token(raw, trusted_keys(config))
        if token.instance_id != inst:
            raise TokenRefused("other_instance",
                               "The stored license was issued to another installation.")
        _check_clock(token, state, now)
    except TokenRefused as exc:
        return LicenseStatus(tier="free", state="refused", instance_id=inst, last_check=check,
                             message=f"Free tier: {exc}")
    # advance the clock high-water mark now and then (not on every call: it is a file write)
    seen = _seen(state)
    if seen is None or now - seen > CLOCK_TOLERANCE:
        _mark_seen(state, now)
        with contextlib.suppress(OSError):
            _save_state(paths, state)
    common: dict[str, Any] = dict(
        instance_id=inst, license_id=token.license_id, licensed_tier=token.tier,
        issued_at=token.issued_at, expires_at=token.expires_at, grace_until=token.grace_until,
        last_check=check,
    )
    name = token.tier.capitalize()
    if now <= token.expires_at:
        return LicenseStatus(tier=token.tier, state="valid", **common,
                             message=f"{name} license, valid until {_day(token.expires_at)}.")
    if now <= token.grace_until:
        return LicenseStatus(
            tier=token.tier, state="grace", **common,
            message=(f"{name} license expired on {_day(token.expires_at)}; it keeps working "
                     f"until {_day(token.grace_until)} while the app reaches the license "
                     "server. Check the internet connection or renew."),
        )
    return LicenseStatus(
        tier="free", state="expired", **common,
        message=(f"Free tier: the {name} license expired on {_day(token.expires_at)} and its "
                 "grace period has ended. Your data stays fully usable."),
    )


def _day(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d")


def effective_tier(paths: AppPaths, config: AppConfig, *, now: dt.datetime | None = None) -> str:
    """"free", "premium" or "sovereign": the tier features are gated on. Never raises."""
    try:
        return status(paths, config, now=now).tier
    except Exception:  # a broken license file must never stop the app
        return "free"


def status_bar_text(status: LicenseStatus) -> str:
    """The few words the status bar shows: the tier in force and, if notable, the state."""
    if status.state == "valid":
        if status.tier == "free" or status.expires_at is None:
            return status.tier.capitalize()
        return f"{status.tier.capitalize()} · until {_day(status.expires_at)}"
    if status.state == "grace" and status.grace_until is not None:
        return f"{status.tier.capitalize()} · expired, grace until {_day(status.grace_until)}"
    if status.state == "expired":
        return f"Free · {(status.licensed_tier or 'license').capitalize()} license expired"
    if status.state == "refused":
        return "Free · license not accepted"
    return "Free"


# --------------------------------------------------------------------------- notices


def _version_key(version: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"v?(\d+(?:\.\d+)*)", version.strip())
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def is_newer(candidate: str, current: str) -> bool:
    a, b = _version_key(candidate), _version_key(current)
    if a is None or b is None:
        return candidate.strip() != current.strip()
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) > b + (0,) * (width - len(b))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def pending_notices(paths: AppPaths, app_version: str) -> list[Notice]:
    """Notices not yet acknowledged: a newer version, a changed privacy policy."""
    state = _load_state(paths)
    notices = _dict(state.get("notices"))
    acknowledged = _dict(state.get("acknowledged"))
    out: list[Notice] = []
    update = notices.get("update")
    if isinstance(update, dict) and isinstance(update.get("latest_version"), str):
        latest = update["latest_version"]
        if is_newer(latest, app_version) and acknowledged.get("update") != latest:
            security = update.get("security") is True
            out.append(Notice(
                kind="update",
                key=latest,
                title=("Security update available" if security else "New version available"),
                text=(f"TSSG CRM {latest} is available (this is {app_version})."
                      + (" It fixes a security problem; please update soon." if security else "")),
                url=str(update.get("release_notes_url") or ""),
            ))
    policy = notices.get("privacy_policy_version")
    if isinstance(policy, str) and policy and acknowledged.get("privacy_policy") != policy:
        out.append(Notice(
            kind="privacy_policy",
            key=policy,
            title="The privacy policy has changed",
            text=f"The privacy policy was updated (version {policy}). Read what changed.",
        ))
    return out


def acknowledge(paths: AppPaths, notice: Notice) -> None:
    """Hide a notice for good (until a different version is announced)."""
    state = _load_state(paths)
    acknowledged = state.get("acknowledged")
    if not isinstance(acknowledged, dict):
        acknowledged = state["acknowledged"] = {}
    acknowledged[notice.kind] = notice.key
    _save_state(paths, state)
