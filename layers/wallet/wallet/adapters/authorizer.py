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
import time
import urllib.error
import urllib.parse
import urllib.request
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

    Without a ``breaker`` a default ``CircuitBreaker()`` is used, so production code gets the seed's
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
        # urllib would also open file:// and ftp:// URLs; a misconfigured URL must not read local files.
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("the authorizer URL must be http or https")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._url = url
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
        request = urllib.request.Request(self._url, headers={"Accept": "application/json"}, method="GET")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - scheme checked
                status: int = response.status
                body: bytes = response.read(MAX_BODY_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 403:
                return False
            raise _Unavailable(f"HTTP {exc.code}") from None
        except (OSError, http.client.HTTPException) as exc:
            # OSError covers URLError, timeouts and resets; HTTPException covers malformed responses.
            raise _Unavailable(type(exc).__name__) from None
        if status != 200:
            raise _Unavailable(f"HTTP {status}")
        return _parse_verdict(body)


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
