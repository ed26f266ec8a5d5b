"""An in-memory circuit breaker, so a dependency that keeps failing is left alone for a while.

``failure_threshold`` failures within ``window_seconds`` open the
circuit for ``open_seconds``; then it is half-open and exactly one probe call goes through. The probe's
success closes the circuit, its failure re-opens it for another ``open_seconds``.

State lives in the process (one Lambda container), so each container decides on its own; a lock makes it
safe for handlers that share the container across threads.
"""

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]

# While the single probe is in flight, other callers are told to come back soon rather than after a
# whole open period: the probe will settle the state within one call.
_PROBE_IN_FLIGHT_RETRY_SECONDS = 1.0


class CircuitOpen(Exception):
    """The circuit refuses calls for now; ``retry_after_seconds`` says when asking again makes sense."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"circuit open; retry after {retry_after_seconds:.1f} s")
        self.retry_after_seconds = retry_after_seconds


class CircuitBreaker:
    """Call ``before_call()`` before each call, then ``record_success()`` or ``record_failure()``."""

    def __init__(
        self,
        failure_threshold: int = 10,
        window_seconds: float = 60.0,
        open_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or window_seconds <= 0 or open_seconds < 0:
            raise ValueError("need failure_threshold >= 1, window_seconds > 0 and open_seconds >= 0")
        self._threshold = failure_threshold
        self._window = window_seconds
        self._open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures: deque[float] = deque()
        self._open_until = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> State:
        with self._lock:
            self._expire_open_period()
            return self._state

    def before_call(self) -> None:
        """Let the call through, or raise ``CircuitOpen``; in half-open state only the first caller passes."""
        with self._lock:
            self._expire_open_period()
            if self._state == "open":
                raise CircuitOpen(self._open_until - self._clock())
            if self._state == "half_open":
                if self._probe_in_flight:
                    raise CircuitOpen(_PROBE_IN_FLIGHT_RETRY_SECONDS)
                self._probe_in_flight = True

    def record_success(self) -> None:
        with self._lock:
            if self._state == "half_open":
                self._close()

    def record_failure(self) -> None:
        with self._lock:
            self._expire_open_period()
            if self._state == "half_open":
                self._open()
            elif self._state == "closed":
                self._count_failure()
            # Open: a call that started before the circuit opened; it changes nothing.

    def _count_failure(self) -> None:
        now = self._clock()
        self._failures.append(now)
        while now - self._failures[0] >= self._window:
            self._failures.popleft()
        if len(self._failures) >= self._threshold:
            self._open()

    def _expire_open_period(self) -> None:
        # The open period ends lazily, on the next look at the state: no timer thread to manage.
        if self._state == "open" and self._clock() >= self._open_until:
            self._state = "half_open"
            self._probe_in_flight = False

    def _open(self) -> None:
        self._state = "open"
        self._open_until = self._clock() + self._open_seconds
        self._failures.clear()
        self._probe_in_flight = False

    def _close(self) -> None:
        self._state = "closed"
        self._failures.clear()
        self._probe_in_flight = False
