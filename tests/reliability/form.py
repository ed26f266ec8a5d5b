"""The two forms of the reliability suite: short (every ``make test``) and full (``make reliability``).

``WALLET_RELIABILITY=full`` selects the full form; anything else, or nothing, the short one.
Both run the same tests with the same assertions; only the sizes differ, and the short
form's state machine runs the same sequences on every run (the full form's are new each time).
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Form:
    name: str
    # The ledger state machine (per engine).
    state_machine_examples: int
    state_machine_steps: int
    # The same sequences on every run: 250 random steps commit only a handful of transfers,
    # and now and then none, which would fail "some transfer committed" by chance alone.
    state_machine_derandomized: bool
    # The load run with faults (8 clients).
    load_customers: int
    load_merchants: int
    load_transfers: int
    # The load run while Lambda workers are killed.
    worker_kill_transfers: int
    # schemathesis against /openapi.json.
    fuzz_examples: int
    fuzz_requests_at_least: int
    # The whole-stack crash (fewer clients in the short form: every restart starts every worker cold).
    crash_customers: int
    crash_clients: int
    crash_transfers: int
    # Upper bound of every wait for the asynchronous pipeline to drain.
    drain_timeout_seconds: float
    # pytest-timeout for the tests that drive a stack.
    stack_test_timeout_seconds: int


SHORT = Form(
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

FULL = Form(
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


def current() -> Form:
    return FULL if os.environ.get("WALLET_RELIABILITY", "").strip().lower() == "full" else SHORT


FORM = current()
