"""The external transfer authorizer, asked over HTTP before any money moves.

``GET url`` answering 200 with ``{"data": {"authorization": true}}`` allows the transfer; 403, or 200 with
``authorization: false``, denies it. Anything else (timeouts, connection errors, 5xx, other statuses,
bodies that are not that JSON) means the authorizer is unavailable: the call is retried a few times with
jittered backoff, and a circuit breaker stops asking an authorizer that keeps failing. A deny is an answer,
so it is never retried and counts as a success for the breaker.

Only the standard library is used, so the Lambda layer stays free of HTTP client dependencies.
"""

import http.client
import json
import math
import random
import threading
import time
import urllib.parse
from collections.abc import Callable

from wallet.adapters.circuit_breaker import CircuitBreaker, CircuitOpen
from wallet.domain.errors import AuthorizerUnavailable, TransferNotAuthorized
from wallet.observability import logger

MAX_BODY_BYTES = 64 * 1024
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5
# When the authorizer failed but the breaker is still closed, clients may try again soon.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


class _Unavailable(Exception):
    """One attempt got no usable answer; the message is a short reason safe to log (never the body)."""


class HttpAuthorizer:
    """Asks the authorizer at ``url``; ``authorize()`` returns when allowed and raises otherwise.

    Without a ``breaker`` a default ``CircuitBreaker()`` is used, so production code gets its
    10-failures-in-60-s / open-300-s behaviour by constructing one ``HttpAuthorizer`` per container.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 2.0,
        attempts: int = 3,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        observe_latency: Callable[[float], None] | None = None,
    ) -> None:
        # Only HTTP: a misconfigured URL must never name something else.
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("the authorizer URL must be http or https")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._url = url
        parts = urllib.parse.urlsplit(url)
        self._target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        # A kept-alive connection: a TLS handshake per transfer would cost more than the
        # authorizer's answer. One per thread: Lambda runs one request at a time per
        # container, but a process that shares this object between threads must not mix them.
        self._local = threading.local()
        self._timeout = timeout_seconds
        self._attempts = attempts
        self._breaker = breaker if breaker is not None else CircuitBreaker()
        self._sleep = sleep
        self._observe_latency = observe_latency

    def authorize(self) -> None:
        """Return if the transfer is allowed; raise ``TransferNotAuthorized`` or ``AuthorizerUnavailable``."""
        try:
            self._breaker.before_call()
        except CircuitOpen as exc:
            retry_after = max(1, math.ceil(exc.retry_after_seconds))
            raise AuthorizerUnavailable(
                "The authorizer is unavailable; try again later.", retry_after_seconds=retry_after
            ) from None
        allowed = self._ask_with_breaker()
        if not allowed:
            raise TransferNotAuthorized("The authorizer did not authorize this transfer.")

    def _ask_with_breaker(self) -> bool:
        try:
            allowed = self._ask_with_retries()
        except _Unavailable as exc:
            logger.warning("authorizer unavailable", extra={"attempts": self._attempts, "reason": str(exc)})
            self._breaker.record_failure()
            raise AuthorizerUnavailable(
                "The authorizer is unavailable; try again later.",
                retry_after_seconds=UNAVAILABLE_RETRY_AFTER_SECONDS,
            ) from None
        except BaseException:
            # Whatever went wrong, the breaker must hear about the call, or a half-open probe never ends.
            self._breaker.record_failure()
            raise
        self._breaker.record_success()
        return allowed

    def _ask_with_retries(self) -> bool:
        for retry in range(self._attempts - 1):
            try:
                return self._timed_attempt()
            except _Unavailable as exc:
                logger.info("authorizer attempt failed; retrying", extra={"reason": str(exc)})
            self._sleep(backoff_delay(retry))
        return self._timed_attempt()

    def _timed_attempt(self) -> bool:
        started = time.perf_counter()
        try:
            return self._attempt()
        finally:
            if self._observe_latency is not None:
                self._observe_latency((time.perf_counter() - started) * 1000.0)

    def _attempt(self) -> bool:
        try:
            status, body = self._get()
        except (OSError, http.client.HTTPException) as exc:
            # OSError covers timeouts, resets and refusals; HTTPException covers malformed responses.
            self._forget_connection()
            raise _Unavailable(type(exc).__name__) from None
        if status == 403:
            return False
        if status != 200:
            raise _Unavailable(f"HTTP {status}")
        return _parse_verdict(body)

    @property
    def _connection(self) -> http.client.HTTPConnection | None:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        return connection

    @_connection.setter
    def _connection(self, connection: http.client.HTTPConnection | None) -> None:
        self._local.connection = connection

    def _get(self) -> tuple[int, bytes]:
        """One GET on the kept-alive connection. A connection the server has meanwhile closed
        fails at once on reuse: that is no answer from the authorizer, so it is sent again,
        once, on a new connection."""
        reused = self._connection is not None
        try:
            return self._exchange()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self._forget_connection()
            if not reused:
                raise
            return self._exchange()

    def _exchange(self) -> tuple[int, bytes]:
        connection = self._connection or self._connect()
        self._connection = connection
        connection.request("GET", self._target, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(MAX_BODY_BYTES + 1)
        if response.will_close or not response.isclosed():
            # Closed by the server, or a body too large to read to the end: not reusable.
            self._forget_connection()
        return response.status, body

    def _connect(self) -> http.client.HTTPConnection:
        parts = urllib.parse.urlsplit(self._url)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.netloc, timeout=self._timeout)
        return http.client.HTTPConnection(parts.netloc, timeout=self._timeout)

    def _forget_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def backoff_delay(attempt: int) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)], so retrying clients spread out."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(0.0, ceiling)


def _parse_verdict(body: bytes) -> bool:
    if len(body) > MAX_BODY_BYTES:
        raise _Unavailable("response body too large")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: a small body can still nest deeply
        raise _Unavailable("response body is not JSON") from None
    data = document.get("data") if isinstance(document, dict) else None
    verdict = data.get("authorization") if isinstance(data, dict) else None
    if not isinstance(verdict, bool):
        raise _Unavailable("response has no boolean data.authorization")
    return verdict
