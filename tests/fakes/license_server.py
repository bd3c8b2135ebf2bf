"""A fake license server on 127.0.0.1 that issues REAL Ed25519-signed tokens (test key).

``POST /v1/check`` with the JSON check payload answers ``{"token": "v1...."}``; ``POST
/v1/delete`` answers ``{"message": ...}``. ``mode`` chooses the answer: valid, expired (past
its grace period), grace, bad_signature, tampered, other_instance, clock_ahead (issued in the
future, as a client whose clock was set back sees it), rejected (403 with an error), down
(503), slow (waits ``delay`` seconds), garbage (200 with HTML). Every request is recorded.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.license_support import UNTRUSTED_PRIVATE_KEY, now_utc, sign, token_payload


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LicenseServer:
    mode: str = "valid"
    tier: str = "premium"
    delay: float = 0.0
    update: dict[str, Any] | None = None
    privacy_policy_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more payload overrides
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def __enter__(self) -> LicenseServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fake.requests.append(Recorded("POST", self.path,
                                              {k.lower(): v for k, v in self.headers.items()},
                                              body))
                status, answer = fake.answer(self.path, body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the "slow" mode)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.url = f"{self.base}/v1/check"
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def checks(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/check"]

    @property
    def deletions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/delete"]

    def answer(self, path: str, body: bytes) -> tuple[int, Any]:
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "down":
            return 503, {"error": "maintenance"}
        if self.mode == "rejected":
            return 403, {"error": "This license key is not valid."}
        if self.mode == "garbage":
            return 200, b"<html>captive portal</html>"
        try:
            request = json.loads(body)
        except ValueError:
            return 400, {"error": "expected JSON"}
        if path == "/v1/delete":
            return 200, {"message": "Deletion request received; your account data will be "
                                    "deleted within 30 days."}
        if path != "/v1/check":
            return 404, {"error": "not found"}
        return 200, {"token": self.token_for(str(request.get("instance_id", "")))}

    def token_for(self, instance_id: str) -> str:
        now = now_utc()
        overrides: dict[str, Any] = dict(self.extra)
        if self.update is not None:
            overrides["update"] = self.update
        if self.privacy_policy_version is not None:
            overrides["privacy_policy_version"] = self.privacy_policy_version
        if self.mode == "expired":
            overrides.update(issued_at=now - dt.timedelta(days=60),
                             expires_at=now - dt.timedelta(days=30), grace_days=14)
        elif self.mode == "grace":
            overrides.update(issued_at=now - dt.timedelta(days=40),
                             expires_at=now - dt.timedelta(days=2), grace_days=14)
        elif self.mode == "other_instance":
            instance_id = "0" * 32
        elif self.mode == "clock_ahead":
            overrides.update(issued_at=now + dt.timedelta(days=3),
                             expires_at=now + dt.timedelta(days=368))
        payload = token_payload(instance_id, self.tier, **overrides)
        if self.mode == "bad_signature":
            return sign(payload, key=UNTRUSTED_PRIVATE_KEY)
        token = sign(payload)
        if self.mode == "tampered":
            version, kid, _body, signature = token.split(".")
            forged = dict(payload, tier="sovereign", expires_at="2099-12-31T00:00:00Z")
            body = base64.urlsafe_b64encode(
                json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
            ).rstrip(b"=").decode()
            return f"{version}.{kid}.{body}.{signature}"
        return token


@pytest.fixture
def license_server():
    with LicenseServer() as server:
        yield server
