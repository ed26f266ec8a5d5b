"""The authorizer client over real HTTP against the local stub, and the circuit breaker on a fake clock.

Assertions are on counts and states, never on durations: CI machines are too noisy for timing.
"""

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from devstack.authorizer_stub import AuthorizerStub
from wallet.adapters.authorizer import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    MAX_BODY_BYTES,
    UNAVAILABLE_RETRY_AFTER_SECONDS,
    HttpAuthorizer,
    _parse_verdict,
    _Unavailable,
    backoff_delay,
)
from wallet.adapters.circuit_breaker import CircuitBreaker, CircuitOpen
from wallet.domain.errors import AuthorizerUnavailable, TransferNotAuthorized


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def state_of(breaker: CircuitBreaker) -> str:
    # Widened to str: mypy would otherwise narrow the Literal property after the first assert in a test.
    return breaker.state


@dataclass
class Recorded:
    """What the authorizer did besides HTTP: the backoff sleeps it asked for and the latencies it reported."""

    sleeps: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


@pytest.fixture
def stub() -> Iterator[AuthorizerStub]:
    # In "timeout" mode the stub holds its answer 2 s: ten times the 0.2 s client timeouts
    # below, so a timeout is certain, and short enough that the held answer ends with the test.
    # A fixed seed: the error-rate mode fails the same calls on every run.
    with AuthorizerStub(timeout_sleep_seconds=2.0, seed=1234) as running:
        yield running


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def authorizer_for(
    stub: AuthorizerStub,
    recorded: Recorded,
    *,
    attempts: int = 3,
    timeout_seconds: float = 2.0,
    breaker: CircuitBreaker | None = None,
) -> HttpAuthorizer:
    # A breaker that never trips unless the test brings its own, so tests can fail many calls.
    return HttpAuthorizer(
        stub.url,
        timeout_seconds=timeout_seconds,
        attempts=attempts,
        breaker=breaker if breaker is not None else CircuitBreaker(failure_threshold=1_000_000),
        sleep=recorded.sleeps.append,
        observe_latency=recorded.latencies.append,
    )


def control(stub: AuthorizerStub, method: str, body: bytes | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(stub.control_url, data=body, method=method)
    try:
        # The stub answers a control request at once: 2 s is a stub that hangs.
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


# --- HttpAuthorizer over HTTP -------------------------------------------------------------------------


def test_allow_returns_after_one_call(stub: AuthorizerStub, recorded: Recorded) -> None:
    authorizer_for(stub, recorded).authorize()

    assert stub.calls == 1
    assert len(recorded.latencies) == 1
    assert recorded.latencies[0] >= 0
    assert recorded.sleeps == []


def test_one_kept_alive_connection_serves_every_call(stub: AuthorizerStub, recorded: Recorded) -> None:
    authorizer = authorizer_for(stub, recorded)
    for _ in range(5):
        authorizer.authorize()

    assert (stub.calls, stub.connections) == (5, 1)


def test_a_connection_the_server_closed_is_replaced_without_a_failed_attempt(
    recorded: Recorded,
) -> None:
    with AuthorizerStub() as first:
        authorizer = authorizer_for(first, recorded)
        authorizer.authorize()
        port = int(first.url.rsplit(":", 1)[1].strip("/"))
    # The same address, a new server: the kept-alive connection now leads nowhere.
    with AuthorizerStub(port=port) as second:
        authorizer.authorize()

        assert (second.calls, second.connections) == (1, 1)
    assert recorded.sleeps == []


def test_an_answer_after_a_timeout_is_never_read_as_the_next_one(
    stub: AuthorizerStub, recorded: Recorded
) -> None:
    authorizer = authorizer_for(stub, recorded, attempts=1, timeout_seconds=0.2)
    stub.set_mode("timeout")
    with pytest.raises(AuthorizerUnavailable):
        authorizer.authorize()
    stub.set_mode("deny")

    with pytest.raises(TransferNotAuthorized):
        authorizer.authorize()


@pytest.mark.parametrize("mode", ["deny", "deny_200"])
def test_deny_is_final_and_not_retried(stub: AuthorizerStub, recorded: Recorded, mode: str) -> None:
    stub.set_mode(mode)
    breaker = CircuitBreaker(failure_threshold=1)

    with pytest.raises(TransferNotAuthorized):
        authorizer_for(stub, recorded, breaker=breaker).authorize()

    assert stub.calls == 1
    assert recorded.sleeps == []
    assert state_of(breaker) == "closed"  # a deny is an answer, not a failure


@pytest.mark.parametrize("attempts", [1, 3, 4])
def test_server_errors_are_retried_then_unavailable(
    stub: AuthorizerStub, recorded: Recorded, attempts: int
) -> None:
    stub.set_mode("error")

    with pytest.raises(AuthorizerUnavailable) as raised:
        authorizer_for(stub, recorded, attempts=attempts).authorize()

    assert raised.value.retry_after_seconds == UNAVAILABLE_RETRY_AFTER_SECONDS
    assert stub.calls == attempts
    assert len(recorded.latencies) == attempts
    assert len(recorded.sleeps) == attempts - 1


def test_retry_delays_are_jittered_within_exponential_bounds(
    stub: AuthorizerStub, recorded: Recorded
) -> None:
    stub.set_mode("error")

    with pytest.raises(AuthorizerUnavailable):
        authorizer_for(stub, recorded, attempts=6).authorize()

    assert len(recorded.sleeps) == 5
    for retry, delay in enumerate(recorded.sleeps):
        assert 0 <= delay <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retry)


def test_a_retry_can_recover_from_a_transient_error(stub: AuthorizerStub) -> None:
    # The sleep hook doubles as "time passes": the authorizer heals before the retry.
    authorizer = HttpAuthorizer(stub.url, attempts=3, sleep=lambda _delay: stub.set_mode("allow"))
    stub.set_mode("error")

    authorizer.authorize()

    assert stub.calls == 2


def test_timeout_is_unavailable(stub: AuthorizerStub, recorded: Recorded) -> None:
    stub.set_mode("timeout")

    with pytest.raises(AuthorizerUnavailable):
        authorizer_for(stub, recorded, attempts=2, timeout_seconds=0.2).authorize()

    assert stub.calls == 2
    assert len(recorded.latencies) == 2


def test_garbage_is_unavailable_and_the_body_is_never_echoed(
    stub: AuthorizerStub, recorded: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    stub.set_mode("garbage")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthorizerUnavailable) as raised:
        authorizer_for(stub, recorded).authorize()

    assert stub.calls == 3
    assert "<html>" not in str(raised.value)
    assert "<html>" not in caplog.text
    assert any("not JSON" in getattr(r, "reason", "") for r in caplog.records)  # the reason, not the body


def test_connection_refused_is_unavailable(recorded: Recorded) -> None:
    with AuthorizerStub() as stopped_soon:
        url = stopped_soon.url
    authorizer = HttpAuthorizer(url, attempts=2, sleep=recorded.sleeps.append)

    with pytest.raises(AuthorizerUnavailable):
        authorizer.authorize()

    assert len(recorded.sleeps) == 1


def test_error_rate_fails_roughly_that_fraction(stub: AuthorizerStub, recorded: Recorded) -> None:
    stub.set_mode("allow", error_rate=0.5)
    authorizer = authorizer_for(stub, recorded, attempts=1)
    failures = 0
    for _ in range(100):
        try:
            authorizer.authorize()
        except AuthorizerUnavailable:
            failures += 1

    assert stub.calls == 100
    assert 25 <= failures <= 75


def test_error_rate_one_fails_every_call(stub: AuthorizerStub, recorded: Recorded) -> None:
    stub.set_mode("allow", error_rate=1.0)

    with pytest.raises(AuthorizerUnavailable):
        authorizer_for(stub, recorded).authorize()

    assert stub.calls == 3


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"data": null}',
        b'{"authorization": true}',
        b'{"data": {"authorization": "true"}}',
        b'{"data": {"authorization": 1}}',
        b"[" * 100_000,
        b'{"data": {"authorization": true}, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}',
        b"\xff\xfe",
    ],
)
def test_bodies_without_a_boolean_verdict_are_unavailable(body: bytes) -> None:
    with pytest.raises(_Unavailable):
        _parse_verdict(body)


def test_non_http_urls_are_refused() -> None:
    with pytest.raises(ValueError):
        HttpAuthorizer("file:///etc/passwd")


def test_backoff_delay_has_full_jitter_and_a_cap() -> None:
    for attempt in range(10):
        samples = {backoff_delay(attempt) for _ in range(50)}
        assert all(
            0 <= delay <= min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt) for delay in samples
        )
        assert len(samples) > 1


# --- HttpAuthorizer with its circuit breaker -----------------------------------------------------------


def test_breaker_opens_after_threshold_and_answers_without_calling(
    stub: AuthorizerStub, recorded: Recorded, clock: FakeClock
) -> None:
    breaker = CircuitBreaker(failure_threshold=2, window_seconds=60, open_seconds=30, clock=clock)
    authorizer = authorizer_for(stub, recorded, attempts=3, breaker=breaker)
    stub.set_mode("error")
    for _ in range(2):
        with pytest.raises(AuthorizerUnavailable):
            authorizer.authorize()
    assert stub.calls == 6  # one breaker failure per authorize(), however many attempts it made
    assert state_of(breaker) == "open"

    clock.advance(10)
    with pytest.raises(AuthorizerUnavailable) as raised:
        authorizer.authorize()

    assert stub.calls == 6
    assert raised.value.retry_after_seconds == 20


def open_breaker_then_wait(authorizer: HttpAuthorizer, stub: AuthorizerStub, clock: FakeClock) -> None:
    stub.set_mode("error")
    with pytest.raises(AuthorizerUnavailable):
        authorizer.authorize()
    clock.advance(30)


def test_half_open_probe_success_closes(stub: AuthorizerStub, recorded: Recorded, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=30, clock=clock)
    authorizer = authorizer_for(stub, recorded, attempts=1, breaker=breaker)
    open_breaker_then_wait(authorizer, stub, clock)
    assert state_of(breaker) == "half_open"
    stub.set_mode("allow")

    authorizer.authorize()

    assert stub.calls == 2
    assert state_of(breaker) == "closed"


def test_half_open_probe_failure_reopens(stub: AuthorizerStub, recorded: Recorded, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=30, clock=clock)
    authorizer = authorizer_for(stub, recorded, attempts=1, breaker=breaker)
    open_breaker_then_wait(authorizer, stub, clock)

    with pytest.raises(AuthorizerUnavailable):
        authorizer.authorize()
    assert stub.calls == 2
    assert state_of(breaker) == "open"

    with pytest.raises(AuthorizerUnavailable) as raised:
        authorizer.authorize()
    assert stub.calls == 2
    assert raised.value.retry_after_seconds == 30


def test_half_open_deny_closes_too(stub: AuthorizerStub, recorded: Recorded, clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=30, clock=clock)
    authorizer = authorizer_for(stub, recorded, attempts=1, breaker=breaker)
    open_breaker_then_wait(authorizer, stub, clock)
    stub.set_mode("deny")

    with pytest.raises(TransferNotAuthorized):
        authorizer.authorize()

    assert state_of(breaker) == "closed"


# --- the stub's control endpoint -----------------------------------------------------------------------


def test_control_put_changes_the_mode(stub: AuthorizerStub, recorded: Recorded) -> None:
    status, body = control(stub, "PUT", b'{"mode": "deny", "error_rate": 0.25}')

    assert (status, body) == (200, {"mode": "deny", "error_rate": 0.25})
    assert control(stub, "GET") == (200, {"mode": "deny", "error_rate": 0.25})
    assert (stub.mode, stub.error_rate) == ("deny", 0.25)
    assert stub.calls == 0  # control requests are not authorization calls


def test_control_put_without_error_rate_resets_it(stub: AuthorizerStub) -> None:
    stub.set_mode("allow", error_rate=0.5)

    assert control(stub, "PUT", b'{"mode": "garbage"}') == (200, {"mode": "garbage", "error_rate": 0.0})


def test_authorization_follows_a_mode_set_over_http(stub: AuthorizerStub, recorded: Recorded) -> None:
    control(stub, "PUT", b'{"mode": "deny"}')

    with pytest.raises(TransferNotAuthorized):
        authorizer_for(stub, recorded).authorize()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"mode": "maybe"}',
        b"{}",
        b'{"mode": "allow", "error_rate": 1.5}',
        b'{"mode": "allow", "error_rate": -0.1}',
        b'{"mode": "allow", "error_rate": true}',
        b'{"mode": "allow", "error_rate": "0.1"}',
    ],
)
def test_control_put_rejects_bad_input(stub: AuthorizerStub, body: bytes) -> None:
    status, answer = control(stub, "PUT", body)

    assert status == 400
    assert answer["error"] == "validation_error"
    assert isinstance(answer["message"], str) and answer["message"]
    assert stub.mode == "allow"


def test_control_put_elsewhere_is_not_found(stub: AuthorizerStub) -> None:
    request = urllib.request.Request(stub.url + "elsewhere", data=b'{"mode": "deny"}', method="PUT")

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=2)

    raised.value.close()
    assert raised.value.code == 404


def test_set_mode_validates() -> None:
    stub = AuthorizerStub()
    with pytest.raises(ValueError):
        stub.set_mode("maybe")
    with pytest.raises(ValueError):
        stub.set_mode("allow", error_rate=2.0)


def test_stop_is_idempotent_and_the_url_goes_away() -> None:
    stub = AuthorizerStub().start()
    stub.stop()
    stub.stop()

    with pytest.raises(RuntimeError):
        _ = stub.url


# --- CircuitBreaker alone ------------------------------------------------------------------------------


def test_breaker_starts_closed_and_lets_calls_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker(clock=clock)

    for _ in range(20):
        breaker.before_call()
        breaker.record_success()

    assert state_of(breaker) == "closed"


def test_breaker_opens_on_the_threshold_failure(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, window_seconds=60, open_seconds=300, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert state_of(breaker) == "closed"

    breaker.record_failure()

    assert state_of(breaker) == "open"
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after_seconds == 300


def test_breaker_counts_only_failures_inside_the_window(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, window_seconds=60, clock=clock)
    breaker.record_failure()
    clock.advance(60)
    breaker.record_failure()
    breaker.record_failure()

    assert state_of(breaker) == "closed"


def test_successes_do_not_wipe_recent_failures(clock: FakeClock) -> None:
    # "10 failures within 60 s", not 10 in a row: a flapping dependency still opens the circuit.
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()

    assert state_of(breaker) == "open"


def test_breaker_retry_after_counts_down_then_half_opens(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=300, clock=clock)
    breaker.record_failure()

    clock.advance(299.5)
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after_seconds == pytest.approx(0.5)

    clock.advance(0.5)
    assert state_of(breaker) == "half_open"


def test_half_open_lets_exactly_one_probe_through(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=300, clock=clock)
    breaker.record_failure()
    clock.advance(300)

    breaker.before_call()
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    assert state_of(breaker) == "half_open"


def test_half_open_lets_one_probe_through_under_concurrency(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=300, clock=clock)
    breaker.record_failure()
    clock.advance(300)
    start = threading.Barrier(16)
    passed: list[int] = []

    def call() -> None:
        start.wait()
        try:
            breaker.before_call()
        except CircuitOpen:
            return
        passed.append(1)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert passed == [1]


def test_probe_success_closes_and_resets_the_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, open_seconds=300, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(300)
    breaker.before_call()

    breaker.record_success()

    assert state_of(breaker) == "closed"
    breaker.record_failure()
    assert state_of(breaker) == "closed"


def test_probe_failure_reopens_for_a_full_period(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=5, open_seconds=300, clock=clock)
    for _ in range(5):
        breaker.record_failure()
    clock.advance(300)
    breaker.before_call()

    breaker.record_failure()

    assert state_of(breaker) == "open"
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after_seconds == 300


def test_late_results_while_open_change_nothing(clock: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_seconds=300, clock=clock)
    breaker.record_failure()
    clock.advance(100)

    breaker.record_failure()  # calls that started before the circuit opened
    breaker.record_success()

    assert state_of(breaker) == "open"
    clock.advance(200)
    assert state_of(breaker) == "half_open"


@pytest.mark.parametrize(
    ("threshold", "window", "open_for"), [(0, 60.0, 300.0), (1, 0.0, 300.0), (1, 60.0, -1.0)]
)
def test_breaker_rejects_nonsense_settings(threshold: int, window: float, open_for: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, window_seconds=window, open_seconds=open_for)
