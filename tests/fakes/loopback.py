"""The plumbing the Stripe, Twilio and USPS fakes share: a threaded HTTP server on
127.0.0.1 (ephemeral port), every request recorded, and scripted faults.

A fault with a ``status`` answers instead of the service (the request is *not* processed: a
load balancer's 500, a rate limiter's 429). A fault with a ``delay`` lets the service process
the request and then holds the answer back (the client times out although the work was
done: the case that makes double charges and double texts).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    times: int = 1
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    method: str | None = None
    path: str | None = None  # prefix

    def matches(self, method: str, path: str) -> bool:
        return (self.times > 0 and (self.method is None or self.method == method)
                and (self.path is None or path.startswith(self.path)))


Answer = tuple[int, Any, dict[str, str]]


class LoopbackServer:
    """Subclasses implement :meth:`answer`; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self.base = ""

    # ------------------------------------------------------------------ scripting

    def fail(self, status: int, body: Any = None, *, times: int = 1, method: str | None = None,
             path: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.faults.append(Fault(times=times, status=status, body=body, headers=headers or {},
                                 method=method, path=path))

    def slow(self, delay: float, *, times: int = 1, method: str | None = None,
             path: str | None = None) -> None:
        self.faults.append(Fault(times=times, delay=delay, method=method, path=path))

    def requests_to(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # ------------------------------------------------------------------ serving

    def answer(self, req: Recorded) -> Answer:  # pragma: no cover - abstract
        raise NotImplementedError

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        url = urlsplit(handler.path)
        req = Recorded(method, url.path, dict(parse_qsl(url.query, keep_blank_values=True)),
                       {k.lower(): v for k, v in handler.headers.items()}, body)
        with self._lock:
            self.requests.append(req)
        fault = self._take_fault(method, url.path)
        if fault is not None and fault.status is not None:
            status, data, headers = fault.status, fault.body, dict(fault.headers)
        else:
            with self._lock:
                status, data, headers = self.answer(req)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)  # the work is done; the answer comes too late
        raw = data if isinstance(data, bytes) else json.dumps(data if data is not None else {}
                                                              ).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting

    def __enter__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server API
                server._serve(self, "GET")

            def do_POST(self):  # noqa: N802
                server._serve(self, "POST")

            def do_DELETE(self):  # noqa: N802
                server._serve(self, "DELETE")

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connection refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
