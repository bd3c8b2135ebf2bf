"""A fake analytics collector on 127.0.0.1: accepts JSON batches (``POST /v1/batch``) and
records every request it receives, whatever the path, so a test can assert nothing arrived."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class AnalyticsServer:
    status: int = 202
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)  # method, path, body
    url: str = ""

    @property
    def batches(self) -> list[Any]:
        return [json.loads(body) for _m, path, body in self.requests if path == "/v1/batch"]

    def __enter__(self) -> AnalyticsServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.command, self.path, body))
                self.send_response(fake.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = _any  # noqa: N815 - http.server API

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1/batch"
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
