"""A stand-in for the external transfer authorizer, for local runs and tests.

``GET`` on any path answers the authorization according to the current mode; ``PUT /_local/authorizer``
with ``{"mode": ..., "error_rate": ...}`` changes the mode over HTTP, so a running stack (or a load test)
can be switched to deny or fail without a restart. Standard library only, so it starts anywhere.

Run it alone with ``python -m devstack.authorizer_stub --port 3001``.
"""

import argparse
import contextlib
import json
import logging
import random
import socket
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, Self, cast, get_args
from urllib.parse import urlsplit

_LOG = logging.getLogger(__name__)

Mode = Literal["allow", "deny", "deny_200", "error", "timeout", "garbage"]
MODES: tuple[str, ...] = get_args(Mode)
CONTROL_PATH = "/_local/authorizer"
# A mode switch is a few dozen bytes; anything far larger is not one.
_MAX_CONTROL_BODY_BYTES = 4096

_ALLOW = {"status": "success", "data": {"authorization": True}}
_DENY = {"status": "fail", "data": {"authorization": False}}
_ERROR = {"status": "error", "message": "authorizer stub: simulated failure"}
_GARBAGE = b"<html><body>authorizer stub: this is not JSON</body></html>"


class AuthorizerStub:
    """The stub server. Modes: ``allow`` (200 true), ``deny`` (403), ``deny_200`` (200 false),
    ``error`` (500), ``timeout`` (answers nothing for ``timeout_sleep_seconds``), ``garbage`` (200, not JSON).

    ``error_rate`` makes that fraction of authorization calls answer 503 whatever the mode, to inject
    faults into an otherwise healthy authorizer.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout_sleep_seconds: float = 5.0,
        seed: int | None = None,
    ) -> None:
        self._address = (host, port)
        self._timeout_sleep = timeout_sleep_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._mode: Mode = "allow"
        self._error_rate = 0.0
        self._calls = 0
        self._connections = 0
        self._stopping = threading.Event()
        self._server: _StubServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("the authorizer stub is already running")
        self._stopping.clear()
        self._server = _StubServer(self._address, self)
        # A short poll interval keeps stop() quick; the default 0.5 s adds up across many tests.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="authorizer-stub",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        self._stopping.set()  # wakes handlers sleeping in timeout mode
        server.shutdown()
        server.server_close()
        server.hang_up_on_clients()
        thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL; a GET on it (or any path but the control one) answers the authorization."""
        if self._server is None:
            raise RuntimeError("the authorizer stub is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def control_url(self) -> str:
        return self.url.rstrip("/") + CONTROL_PATH

    @property
    def mode(self) -> Mode:
        with self._lock:
            return self._mode

    @property
    def error_rate(self) -> float:
        with self._lock:
            return self._error_rate

    @property
    def connections(self) -> int:
        """TCP connections accepted (a client that keeps its connection alive opens one)."""
        with self._lock:
            return self._connections

    @property
    def calls(self) -> int:
        """Authorization requests received (control requests are not counted)."""
        with self._lock:
            return self._calls

    def set_mode(self, mode: str, error_rate: float = 0.0) -> None:
        """Switch the answer; raises ``ValueError`` for an unknown mode or a rate outside 0..1."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not 0.0 <= error_rate <= 1.0:  # also rejects NaN
            raise ValueError("error_rate must be a number from 0 to 1")
        with self._lock:
            self._mode = cast(Mode, mode)
            self._error_rate = float(error_rate)

    def settings(self) -> dict[str, object]:
        with self._lock:
            return {"mode": self._mode, "error_rate": self._error_rate}

    def _next_answer(self) -> Mode | Literal["injected_error"]:
        with self._lock:
            self._calls += 1
            if self._error_rate and self._random.random() < self._error_rate:
                return "injected_error"
            return self._mode

    def _connected(self) -> None:
        with self._lock:
            self._connections += 1

    def _sleep_like_a_hung_server(self) -> None:
        # An Event rather than time.sleep, so stop() does not wait for sleeping handlers.
        self._stopping.wait(self._timeout_sleep)


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], stub: AuthorizerStub) -> None:
        self.stub = stub
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self._clients_lock:
            self._clients.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._clients_lock:
            self._clients.discard(request)
        super().shutdown_request(request)

    def hang_up_on_clients(self) -> None:
        """A stopped authorizer keeps no kept-alive connection answering."""
        with self._clients_lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that gave up (timeouts) break the pipe; that is expected here, not worth a traceback.
        _LOG.debug("authorizer stub: request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _StubServer
    # Keep-alive, as real authorizers speak: clients may reuse one connection for many calls.
    protocol_version = "HTTP/1.1"
    # An answer is two writes (headers, then body): with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers, ~40 ms per call on a kept-alive connection.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.stub._connected()

    def do_GET(self) -> None:
        if urlsplit(self.path).path == CONTROL_PATH:
            self._send_json(HTTPStatus.OK, self.server.stub.settings())
        else:
            self._answer_authorization()

    def do_PUT(self) -> None:
        if urlsplit(self.path).path != CONTROL_PATH:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": "no such resource"})
            return
        try:
            mode, error_rate = _parse_control(self._read_body())
            self.server.stub.set_mode(mode, error_rate)
        except (ValueError, TypeError) as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "validation_error", "message": str(exc)})
            return
        self._send_json(HTTPStatus.OK, self.server.stub.settings())

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request stderr line; tests and load runs would drown in it."""

    def _answer_authorization(self) -> None:
        stub = self.server.stub
        match stub._next_answer():
            case "allow":
                self._send_json(HTTPStatus.OK, _ALLOW)
            case "deny":
                self._send_json(HTTPStatus.FORBIDDEN, _DENY)
            case "deny_200":
                self._send_json(HTTPStatus.OK, _DENY)
            case "error":
                self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, _ERROR)
            case "injected_error":
                self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, _ERROR)
            case "timeout":
                stub._sleep_like_a_hung_server()  # then close without answering, like a hung upstream
            case "garbage":
                self._send(HTTPStatus.OK, _GARBAGE, "text/html")

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            raise ValueError("Content-Length must be a number") from None
        if not 0 <= length <= _MAX_CONTROL_BODY_BYTES:
            raise ValueError(f"the body must be at most {_MAX_CONTROL_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _send_json(self, status: HTTPStatus, document: object) -> None:
        self._send(status, json.dumps(document).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _parse_control(body: bytes) -> tuple[str, float]:
    try:
        document = json.loads(body)
    except ValueError:
        raise ValueError("the body must be JSON") from None
    if not isinstance(document, dict):
        raise TypeError('the body must be a JSON object like {"mode": "allow", "error_rate": 0.1}')
    mode = document.get("mode")
    error_rate = document.get("error_rate", 0.0)
    if not isinstance(mode, str):
        raise TypeError(f"mode must be one of {', '.join(MODES)}")
    if isinstance(error_rate, bool) or not isinstance(error_rate, int | float):
        raise TypeError("error_rate must be a number from 0 to 1")
    return mode, float(error_rate)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a stub of the external transfer authorizer.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--mode", choices=MODES, default="allow")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with AuthorizerStub(args.host, args.port) as stub:
        stub.set_mode(args.mode)
        _LOG.info(
            "authorizer stub on %s (mode %s; PUT %s to change it)", stub.url, stub.mode, stub.control_url
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
