"""What every benchmark shares: results, statistics, boto3 clients of the local AWS, running N
clients at once. (The HTTP client is devstack.wallet_client, shared with the tests.)"""

import math
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from devstack.config import DevStack


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


def aws_client(service: str, endpoint: str, pool: int = 10, attempts: int = 3) -> Any:
    """A boto3 client of the local AWS (ministack), never of an AWS account."""
    environment = DevStack().aws_environment()
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
