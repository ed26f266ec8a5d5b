"""The local API gateway (devstack/gateway.py) over real sockets, against a tiny upstream."""

import http.client
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devstack.gateway import Gateway
from devstack.processes import free_port


class Upstream(ThreadingHTTPServer):
    """Answers every request with what it received; waits for ``release`` when told to."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.release.set()
        upstream = self

        class Echo(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream.release.wait(10)
                length = int(self.headers.get("Content-Length") or 0)
                body = f"{self.command} {self.path} ".encode() + self.rfile.read(length)
                self.send_response(207)
                self.send_header("X-Upstream", "yes")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_TRACE = do_QUERY = do_PROPFIND = do_GET  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Echo)
        self.daemon_threads = True


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _gateway_to(port: int) -> Gateway:
    return Gateway(free_port(), f"http://127.0.0.1:{port}/_aws/execute-api/abc", "http://127.0.0.1:1").start()


def _call(
    gateway: Gateway, method: str, path: str, body: bytes | None = None
) -> tuple[int, str | None, bytes]:
    """Status, the upstream's marker header and body; the connection is closed after it."""
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body)
        answer = connection.getresponse()
        return answer.status, answer.getheader("X-Upstream"), answer.read()
    finally:
        connection.close()


def _request_threads() -> set[threading.Thread]:
    """The threads handling a connection, one each, in every server of this process."""
    return {t for t in threading.enumerate() if "process_request_thread" in t.name}


def _wait_until_handled(already_there: set[threading.Thread], timeout_seconds: float = 10) -> None:
    """Until every connection opened since ``already_there`` was taken has been handled."""
    deadline = time.monotonic() + timeout_seconds
    while _request_threads() - already_there:
        assert time.monotonic() < deadline, "a request is still being handled"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("method", "body"), [("POST", b"{}"), ("TRACE", None), ("QUERY", b'{"q": 1}'), ("PROPFIND", None)]
)
def test_passes_request_and_answer_through(upstream: Upstream, method: str, body: bytes | None) -> None:
    """Any method, as API Gateway routes any: QUERY or PROPFIND too, never a 501 of its own."""
    gateway = _gateway_to(upstream.server_address[1])
    try:
        status, marker, echoed = _call(gateway, method, "/transfers?x=1", body)
        assert (status, marker) == (207, "yes")
        assert echoed == f"{method} /_aws/execute-api/abc/transfers?x=1 ".encode() + (body or b"")
    finally:
        gateway.stop()


def test_answers_502_when_the_local_aws_does_not() -> None:
    gateway = _gateway_to(free_port())
    try:
        assert _call(gateway, "GET", "/customers/x")[0] == 502
    finally:
        gateway.stop()


def test_a_client_that_hangs_up_leaves_no_traceback_and_the_gateway_serving(
    upstream: Upstream, capfd: pytest.CaptureFixture[str]
) -> None:
    already_there = _request_threads()  # other tests' servers may keep connections open
    gateway = _gateway_to(upstream.server_address[1])
    try:
        upstream.release.clear()
        host, port = gateway.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            # Linger 0: closing resets the connection, as a client giving up on its timeout does.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        upstream.release.set()
        assert _call(gateway, "GET", "/after")[0] == 207
        _wait_until_handled(already_there)
    finally:
        gateway.stop()
    assert "Traceback" not in capfd.readouterr().err
