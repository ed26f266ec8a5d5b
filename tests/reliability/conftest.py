"""The reliability suite's shared local stack, and the figures it reports.

``deployed`` is the whole system as ``make run`` deploys it (ministack, SAM deploy of
template.yaml, the authorizer stub, the API gateway) on free ports, in memory, shared by
the fuzzing and load tests of one session. The crash test starts its own, persistent one.

Two settings of that LOCAL stack are changed for the tests, and only there:
- the sweeper's grace period (SWEEP_GRACE_SECONDS 120 -> 1), so that invoking it finishes
  what is pending now instead of what was pending two minutes ago;
- the notifications queue's visibility timeout (180 -> 5 s), so that an e-mail SES refused
  reaches the DLQ after its 3 receives in ~15 s instead of ~9 min. That is shorter than
  notify's timeout, which AWS refuses for a mapping: the crash test, whose notify workers
  die mid-send, keeps it just above the timeout instead (see test_crash_recovery.py).
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devstack.authorizer_stub import AuthorizerStub
from devstack.config import DevStack
from devstack.identities import Cognito
from devstack.processes import free_port
from devstack.stack import RunningStack, running_stack
from devstack.wallet_client import Http
from tests.reliability import figures
from tests.reliability.aws import LocalAws
from tests.reliability.client import Identities
from tests.reliability.suite_sizes import FULL, SIZES

# The template's 120 s grace and 180 s visibility timeout would make every recovery the
# suite provokes wait minutes; a second's grace lets the sweeper finish what a crash left
# as soon as it is invoked, and 5 s returns a message a dead worker held to the queue soon.
SWEEPER_GRACE_SECONDS = 1
VISIBILITY_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Deployed:
    running: RunningStack
    aws: LocalAws
    http: Http
    identities: Identities

    @property
    def authorizer(self) -> AuthorizerStub:
        return self.running.authorizer

    @property
    def ministack_pid(self) -> int:
        pid = self.running.ministack.pid
        assert pid is not None
        return pid


def tune_for_tests(aws: LocalAws, visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS) -> None:
    aws.set_sweeper_grace(SWEEPER_GRACE_SECONDS)
    aws.set_notifications_visibility_timeout(visibility_timeout_seconds)


def new_config(name: str) -> DevStack:
    """Free ports, and a stack name of this run only."""
    return DevStack(
        endpoint_port=free_port(),
        api_port=free_port(),
        authorizer_port=free_port(),
        stack_name=f"{name}-{uuid.uuid4().hex[:6]}",
        throttle_routes=False,  # its clients send more than a route allows, on purpose
    )


@pytest.fixture(scope="session")
def deployed() -> Iterator[Deployed]:
    config = new_config("wallet-reliability")
    with running_stack(config, None, print) as running:
        aws = LocalAws(config.endpoint, config.stack_name, running.outputs)
        tune_for_tests(aws)
        identities = Identities(Cognito.of_local_stack(config.endpoint, running.outputs))
        yield Deployed(running, aws, Http(running.api_url), identities)


def pytest_report_header() -> str:
    hint = "" if SIZES is FULL else " (WALLET_RELIABILITY=full or `make reliability` for the full one)"
    return f"wallet reliability suite: {SIZES.name} form{hint}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    if not figures.FIGURES:
        return
    path = figures.write(complete=exitstatus == pytest.ExitCode.OK)
    terminalreporter.section(f"reliability figures ({SIZES.name} form, also in {path})")
    for line in figures.lines():
        terminalreporter.write_line(line)
