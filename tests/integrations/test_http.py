"""The shared HTTP policy against a real server on 127.0.0.1: retries are bounded, Retry-After
is honoured, 4xx comes back to the caller, network failures become plain messages."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.http import IntegrationError, RetryPolicy, make_client, request


class _Script(BaseHTTPRequestHandler):
    statuses: list[int] = []
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        type(self).seen.append(self.path)
        status = type(self).statuses.pop(0) if type(self).statuses else 200
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "2")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def server():
    _Script.statuses, _Script.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Script)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_retries_5xx_and_429_then_succeeds_with_bounded_waits(server):
    _Script.statuses = [500, 429, 503]
    waits: list[float] = []
    with make_client(server, timeout=5) as client:
        response = request(client, "GET", "/x", service="Test", sleep=waits.append,
                           policy=RetryPolicy(retries=3, backoff=0.25))
    assert response.status_code == 200
    assert len(_Script.seen) == 4
    assert waits == [0.25, 2.0, 0.5]  # backoff, Retry-After, doubled backoff


def test_gives_up_after_the_bound_with_a_plain_message(server):
    _Script.statuses = [500] * 10
    with make_client(server, timeout=5) as client, pytest.raises(IntegrationError) as err:
        request(client, "GET", "/x", service="Stripe", sleep=lambda s: None,
                policy=RetryPolicy(retries=2))
    assert len(_Script.seen) == 3
    assert str(err.value) == "Stripe: had a server error: HTTP 500 (gave up after 3 tries)"


def test_client_errors_are_returned_not_retried(server):
    _Script.statuses = [401]
    with make_client(server, timeout=5) as client:
        response = request(client, "GET", "/x", service="Test", sleep=lambda s: None)
    assert response.status_code == 401 and len(_Script.seen) == 1


def test_connection_refused_is_retried_then_explained():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with make_client(f"http://127.0.0.1:{port}", timeout=2) as client, pytest.raises(IntegrationError) as err:
        request(client, "GET", "/x", service="USPS", sleep=lambda s: None, policy=RetryPolicy(retries=1))
    assert "USPS: could not be reached" in str(err.value) and "gave up after 2 tries" in str(err.value)
