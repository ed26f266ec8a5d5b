"""How big the reliability suite runs: its short form (every ``make test``) or its full form
(``make reliability``).

``WALLET_RELIABILITY=full`` selects the full form; anything else, or nothing, the short one.
Both run the same tests with the same assertions; only the sizes differ, and the short
form's state machine runs the same sequences on every run (the full form's are new each time).
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class SuiteSizes:
    """The counts and time limits of one form of the suite (docs/reliability.md, "Results").

    The short form keeps ``tests/reliability`` to about 3.5 minutes of ``make test`` on a
    2-core machine and still commits hundreds of transfers; the full form runs about ten
    times the work (about 12 minutes) for the figures published in docs/benchmarks.md.
    """

    name: str
    # The ledger state machine (per engine).
    state_machine_examples: int
    state_machine_steps: int
    # The same sequences on every run: 250 random steps commit only a handful of transfers,
    # and now and then none, which would fail "some transfer committed" by chance alone.
    state_machine_derandomized: bool
    # The load run with faults (8 clients). 2 merchants of 20 customers: enough payees that
    # can never send, so merchant_cannot_send is met under load too.
    load_customers: int
    load_merchants: int
    load_transfers: int
    # The load run while Lambda workers are killed.
    worker_kill_transfers: int
    # schemathesis against /openapi.json: examples per operation and mode, and the fewest
    # requests a run must have sent (below that, the fuzzer was mostly skipped, not passed).
    fuzz_examples: int
    fuzz_requests_at_least: int
    # The whole-stack crash (fewer clients in the short form: every restart starts every worker cold).
    crash_customers: int
    crash_clients: int
    crash_transfers: int
    # Upper bound of every wait for the asynchronous pipeline to drain: the longest drain
    # measured (SES refusing) took ~20 s in the short form and up to ~140 s in the full one
    # (docs/reliability.md, benchmarks/reliability.json); the bound leaves room for a busy
    # machine, and only a stuck pipeline reaches it.
    drain_timeout_seconds: float
    # pytest-timeout for the tests that drive a stack: a deploy, the load and the drains
    # (bounded above) with margin; the full form's load is ten times longer.
    stack_test_timeout_seconds: int


SHORT = SuiteSizes(
    name="short",
    state_machine_examples=10,
    state_machine_steps=25,
    state_machine_derandomized=True,
    load_customers=18,
    load_merchants=2,
    load_transfers=200,
    worker_kill_transfers=150,
    fuzz_examples=8,
    fuzz_requests_at_least=100,
    crash_customers=6,
    crash_clients=4,
    crash_transfers=60,
    drain_timeout_seconds=120,
    stack_test_timeout_seconds=300,
)

FULL = SuiteSizes(
    name="full",
    state_machine_examples=100,
    state_machine_steps=40,
    state_machine_derandomized=False,
    load_customers=36,
    load_merchants=4,
    load_transfers=2_000,
    worker_kill_transfers=1_500,
    fuzz_examples=110,
    fuzz_requests_at_least=1_000,
    crash_customers=20,
    crash_clients=8,
    crash_transfers=600,
    drain_timeout_seconds=300,
    stack_test_timeout_seconds=900,
)


def current() -> SuiteSizes:
    return FULL if os.environ.get("WALLET_RELIABILITY", "").strip().lower() == "full" else SHORT


SIZES = current()
