"""The API at http://127.0.0.1:3000, the address ``sam local start-api`` users know.

A thin pass-through to the HTTP API's execute-api on ministack: method (any, as API Gateway
takes any), path, query, headers and body go through untouched, and so does the answer. The only other path is
``/_local/authorizer``, which reaches the stub of the external authorizer.
"""

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import SplitResult, urlsplit

# Hop-by-hop headers belong to one connection, not to the request (RFC 9110, 7.6.1).
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
}
LOCAL_AUTHORIZER_PATH = "/_local/authorizer"


class Gateway:
    def __init__(self, port: int, execute_api_url: str, authorizer_url: str) -> None:
        self._execute_api = urlsplit(execute_api_url)
        self._authorizer = urlsplit(authorizer_url)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "Gateway":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class PassThrough(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, a kept-open connection waits
            # ~40 ms (Nagle + delayed ACK) between them (docs/benchmarks.md).
            disable_nagle_algorithm = True

            def __getattr__(self, name: str) -> Callable[[], None]:
                """``do_<METHOD>`` for ANY method (QUERY, PROPFIND, ...): API Gateway routes every
                method, so the pass-through never answers 501 itself."""
                if name.startswith("do_"):
                    return lambda: gateway.forward(self)
                raise AttributeError(name)

            def log_message(self, format: str, *args: object) -> None:
                """The functions' own logs say what happened; the gateway stays quiet."""

        return PassThrough

    def forward(self, request: BaseHTTPRequestHandler) -> None:
        try:
            answer = self._upstream_answer(request, _body_of(request))
            if isinstance(answer, HTTPStatus):
                request.send_error(answer, "the local AWS (ministack) did not answer")
            else:
                _relay(answer, request)
        except ConnectionError:
            # The client hung up (its own timeout): nobody is left to answer.
            request.close_connection = True

    def _upstream_answer(self, request: BaseHTTPRequestHandler, body: bytes | None) -> "_Answer | HTTPStatus":
        if request.path.startswith(LOCAL_AUTHORIZER_PATH):
            target, path = self._authorizer, request.path
        else:
            target, path = self._execute_api, self._execute_api.path + request.path
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
        try:
            return _ask(target, request.command, path, body, headers)
        except TimeoutError:
            return HTTPStatus.GATEWAY_TIMEOUT
        except (OSError, http.client.HTTPException):
            return HTTPStatus.BAD_GATEWAY


def _body_of(request: BaseHTTPRequestHandler) -> bytes | None:
    length = int(request.headers.get("Content-Length") or 0)
    body = request.rfile.read(length) if length else None
    if body is not None and len(body) < length:
        raise ConnectionResetError("the client hung up in the middle of its request body")
    return body


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    payload: bytes


def _ask(target: SplitResult, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> _Answer:
    connection = http.client.HTTPConnection(
        target.hostname or "127.0.0.1", target.port, timeout=60
    )  # above any function's Timeout
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return _Answer(response.status, response.reason, response.getheaders(), response.read())
    finally:
        connection.close()


def _relay(answer: _Answer, request: BaseHTTPRequestHandler) -> None:
    request.send_response(answer.status, answer.reason)
    for name, value in answer.headers:
        if name.lower() not in _HOP_BY_HOP | {"content-length"}:
            request.send_header(name, value)
    request.send_header("Content-Length", str(len(answer.payload)))
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(answer.payload)
