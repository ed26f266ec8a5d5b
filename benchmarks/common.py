"""What every benchmark shares: results, statistics, an HTTP client, running N clients at once."""

import http.client
import json
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from devstack.config import LocalStack

Say = Callable[[str], None]


@dataclass
class Result:
    """What one benchmark measured.

    ``figures`` are the headline numbers (printed as ``name: value``); ``raw`` keeps what
    they were computed from, for ``latest.json`` and the explanations in the docs.
    """

    figures: dict[str, float] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, max and mean of durations given in seconds, in milliseconds."""
    milliseconds = [value * 1000 for value in seconds]
    return {
        "count": len(milliseconds),
        "p50_ms": round(percentile(milliseconds, 0.50), 1),
        "p95_ms": round(percentile(milliseconds, 0.95), 1),
        "p99_ms": round(percentile(milliseconds, 0.99), 1),
        "max_ms": round(max(milliseconds), 1),
        "mean_ms": round(statistics.fmean(milliseconds), 1),
    }


# ---------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Reply:
    status: int
    """The HTTP status; 0 when no answer came (timeout, connection lost)."""
    body: Any
    seconds: float
    at: float
    """Wall clock (``time.time()``) when the answer was read: comparable with ministack's timestamps."""


class HttpClient:
    """One keep-alive HTTP/1.1 connection to ``base_url``; one per thread, never shared."""

    def __init__(self, base_url: str, timeout_seconds: float = 90) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout_seconds
        self._connection: http.client.HTTPConnection | None = None

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        sent_headers = {"content-type": "application/json", **(headers or {})}
        for attempt in range(2):
            connection = self._connection or http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
            self._connection = connection
            started = time.perf_counter()
            try:
                connection.request(method, self._prefix + path, body=data, headers=sent_headers)
                response = connection.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt:
                    return Reply(0, f"connection lost: {error}", time.perf_counter() - started, time.time())
                continue
            except (TimeoutError, OSError) as error:
                # No answer in time: a failed request, counted as status 0 by whoever sent it.
                self.close()
                return Reply(0, f"no answer: {error}", time.perf_counter() - started, time.time())
            seconds, at = time.perf_counter() - started, time.time()
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return Reply(response.status, _decoded(raw), seconds, at)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def get_json(url: str, timeout_seconds: float = 30) -> Any:
    client = HttpClient(url, timeout_seconds)
    try:
        reply = client.call("GET", "")
    finally:
        client.close()
    if reply.status != 200:
        raise RuntimeError(f"GET {url} answered {reply.status}: {reply.body}")
    return reply.body


def aws_client(service: str, endpoint: str, pool: int = 10, attempts: int = 3) -> Any:
    """A boto3 client of the local AWS (ministack), never of an AWS account."""
    environment = LocalStack().aws_environment()
    session = boto3.session.Session(
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        region_name=environment["AWS_REGION"],
    )
    config = Config(max_pool_connections=pool, retries={"mode": "standard", "total_max_attempts": attempts})
    return session.client(service, endpoint_url=endpoint, config=config)  # type: ignore[call-overload]


# ---------------------------------------------------------------------------- concurrency


@dataclass(frozen=True)
class Run[T]:
    results: list[T]
    seconds: float


def run_concurrently[Job, T](jobs: Sequence[Job], workers: int, work: Callable[[Job], T]) -> Run[T]:
    """Run ``work`` over ``jobs`` from ``workers`` threads that start together; the wall time of all.

    Threads take the next job as soon as they are free (a closed loop, like N clients);
    ``results`` are in job order.
    """
    results: list[T | None] = [None] * len(jobs)
    errors: list[BaseException] = []
    next_job = iter(range(len(jobs)))
    lock = threading.Lock()
    start = threading.Barrier(workers + 1)

    def take() -> int | None:
        with lock:
            return next(next_job, None)

    def worker() -> None:
        start.wait()
        try:
            while (index := take()) is not None:
                results[index] = work(jobs[index])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    return Run([result for result in results if result is not None], seconds)


class Pool[T]:
    """Reusable clients (HTTP connections, boto3 clients), lent to one thread at a time.

    A pool never holds more than the most threads that ever used it at once, so keep-alive
    connections are reused from one run to the next instead of piling up.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._idle: list[T] = []
        self._all: list[T] = []
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[T]:
        with self._lock:
            value = self._idle.pop() if self._idle else None
        if value is None:
            value = self._build()
            with self._lock:
                self._all.append(value)
        try:
            yield value
        finally:
            with self._lock:
                self._idle.append(value)

    def prefill(self, count: int) -> None:
        """Build clients ahead, so that no timed run pays for building them."""
        with self._lock:
            missing = count - len(self._all)
        for _ in range(missing):
            value = self._build()
            with self._lock:
                self._all.append(value)
                self._idle.append(value)

    def every(self) -> list[T]:
        with self._lock:
            return list(self._all)


def wait_until[T](probe: Callable[[], T | None], timeout_seconds: float, pause_seconds: float = 0.25) -> T:
    deadline = time.monotonic() + timeout_seconds
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done after {timeout_seconds} s")
        time.sleep(pause_seconds)
