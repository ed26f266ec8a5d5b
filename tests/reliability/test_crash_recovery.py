"""``kill -9`` of the whole local AWS in the middle of a load run, then a restart on the same state.

What ministack (1.5.33) persists, read in its source (``ministack/core/persistence.py``,
``ministack/app.py``): with PERSIST_STATE=1 every service's state is written to STATE_DIR
in ONE place, the ASGI lifespan *shutdown* (``save_all``), and read back at start-up.
Nothing is saved while it runs. So a ``kill -9`` loses everything since the last graceful
stop, acknowledged writes included, and the restarted stack holds exactly the snapshot
that stop took (or nothing, if it never stopped gracefully). The first test below is the
minimal reproduction.

So the crash test takes a snapshot in the middle of the load: a third of the transfers is
sent, then ministack is stopped gracefully and started again while the pipeline is still
working through them (stream batches, statements, e-mails caught half-way). Then 8 clients
(4 in the short form) send the rest and, half-way through, the whole ministack process group (ministack and its
Lambda workers) gets SIGKILL; it is started again on the same port and state directory,
and the clients retry their calls in flight with the same Idempotency-Key. On what the
restarted stack holds, checked from its own tables and over HTTP:

- no money created or lost: each balance is what the restored transaction items say, the
  balances add up to the restored deposits, every restored transaction is one a client
  sent, every transfer acknowledged before the snapshot is there, each transaction has
  exactly one event;
- the sweeper finishes everything the crash left pending (the DynamoDB stream does not
  redeliver pre-restart records, docs/local-stack.md G7), invoked as its schedule would,
  again while anything is left: afterwards no outbox event is pending,
  every restored transaction has its statement entries, and every notification was
  e-mailed exactly once as far as the restarted stack can tell (before the crash, per the
  idempotency table, or after it, per SES), never twice. (Those e-mailed between the
  snapshot and the kill went out again: the rollback erased their idempotency records.)
"""

import hashlib
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.authorizer_stub import AuthorizerStub
from devstack.config import DevStack
from devstack.deploy import deploy, verify
from devstack.gateway import Gateway
from devstack.identities import Cognito
from devstack.processes import Server
from devstack.stack import start_ministack
from devstack.template import resources
from devstack.wallet_client import Customer, Http, wait_until_active
from tests.conftest import Tables
from tests.reliability import figures
from tests.reliability.aws import Email, LocalAws, wait_for
from tests.reliability.checks import assert_statements_hold_each_committed_transaction_once
from tests.reliability.client import Identities, register_customers
from tests.reliability.conftest import new_config, tune_for_tests
from tests.reliability.crashes import stat_fields
from tests.reliability.figures import Stopwatch
from tests.reliability.load import LoadRun, Movement, Outcome, deposits, run_clients, transfers
from tests.reliability.suite_sizes import SIZES
from tests.support.ledger_checks import LedgerSnapshot, assert_ledger_consistent
from tests.support.servers import start_ministack as start_bare_ministack
from wallet.domain.statements import Role, notification_id
from wallet.service.idempotent_sender import DEDUPLICATION_WINDOW

pytestmark = [pytest.mark.stack, pytest.mark.timeout(SIZES.stack_test_timeout_seconds)]

# R$ 1.000,00 a customer, in centavos: no planned transfer is refused for funds.
INITIAL_DEPOSIT = 100_000
# A notify worker that dies mid-send (the graceful stop kills it) leaves an INPROGRESS
# idempotency record that expires with the invocation's timeout. A redelivery must come
# after that, or each one is refused as "in progress" until the message is dead-lettered:
# why AWS wants a queue's visibility timeout no shorter than its function's timeout.
VISIBILITY_TIMEOUT_SECONDS = int(resources()["NotifyFunction"]["Properties"]["Timeout"]) + 1
# ~0.3 s apart: a client keeps trying for ~30 s, longer than a graceful stop and start takes.
RETRIES_THROUGH_A_RESTART = 100


# ====================================================================== the finding, minimal
def test_ministack_keeps_only_what_its_last_graceful_stop_saved(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with start_bare_ministack(state) as first:
        dynamodb = boto3.client("dynamodb", endpoint_url=first.url)
        dynamodb.create_table(
            TableName="crash-probe",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="crash-probe", Item={"pk": {"S": "before the graceful stop"}})
        first.stop()  # SIGTERM: ministack saves every service to STATE_DIR
    with start_bare_ministack(state) as second:
        dynamodb = boto3.client("dynamodb", endpoint_url=second.url)
        dynamodb.put_item(TableName="crash-probe", Item={"pk": {"S": "acknowledged, then kill -9"}})
        kill_process_group(second)
    with start_bare_ministack(state) as third:
        items = boto3.client("dynamodb", endpoint_url=third.url).scan(TableName="crash-probe")["Items"]

    assert [item["pk"]["S"] for item in items] == ["before the graceful stop"]


# ====================================================================== the stack, crashable
def kill_process_group(server: Server) -> None:
    """SIGKILL to ministack's whole process group (ministack and its Lambda workers)."""
    pid = server.pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: _state_of(pid), lambda state: state in {"Z", "X", ""}, 30)
    server.stop()  # reaps it (and closes its log); it is dead, so nothing is signalled


def _state_of(pid: int) -> str:
    fields = stat_fields(pid)
    return fields[0] if fields else ""


@dataclass
class CrashableStack:
    config: DevStack
    state_dir: Path
    ministack: Server
    aws: LocalAws
    http: Http
    identities: Identities
    events: dict[str, float] = field(default_factory=dict)

    def graceful_restart(self) -> None:
        self.events["snapshot_requested"] = time.monotonic()
        self.ministack.stop()
        self.ministack = start_ministack(self.config, self.state_dir)
        self.events["snapshot_restarted"] = time.monotonic()

    def kill_9_and_restart(self) -> None:
        self.events["killed"] = time.monotonic()
        self.events["killed_epoch"] = time.time()
        kill_process_group(self.ministack)
        time.sleep(1)  # whole seconds apart: idempotency records tell before from after by their expiry
        self.ministack = start_ministack(self.config, self.state_dir)
        self.events["restarted"] = time.monotonic()
        self.events["restarted_epoch"] = time.time()
        verify(self.config, print)


@contextmanager
def crashable_stack(config: DevStack, state_dir: Path) -> Iterator[CrashableStack]:
    with AuthorizerStub(port=config.authorizer_port) as authorizer:
        ministack = start_ministack(config, state_dir)
        gateway: Gateway | None = None
        stack: CrashableStack | None = None
        try:
            outputs = deploy(config, print)
            verify(config, print)
            execute_api = f"{config.endpoint}/_aws/execute-api/{outputs['ApiId']}"
            gateway = Gateway(config.api_port, execute_api, authorizer.url).start()
            aws = LocalAws(config.endpoint, config.stack_name, outputs)
            tune_for_tests(aws, VISIBILITY_TIMEOUT_SECONDS)
            identities = Identities(Cognito.of_local_stack(config.endpoint, outputs))
            stack = CrashableStack(config, state_dir, ministack, aws, Http(gateway.url), identities)
            yield stack
        finally:
            if gateway is not None:
                gateway.stop()
            (stack.ministack if stack else ministack).stop()


# ====================================================================== what the stack holds
def restored_ledger(aws: LocalAws) -> LedgerSnapshot:
    """The ledger the restarted stack holds, checked: no negative balance, balances == deposits,
    one event per transaction, alike."""
    tables = Tables(aws.endpoint, aws.outputs["CustomersTableName"], aws.outputs["LedgerTableName"])
    return assert_ledger_consistent(tables)


def assert_balances_follow_the_transaction_items(ledger: LedgerSnapshot) -> None:
    replayed = dict.fromkeys(ledger.balances, 0)
    for item in ledger.transactions.values():
        replayed[item["payee_id"]] += int(item["amount"])
        if item.get("payer_id"):
            replayed[item["payer_id"]] -= int(item["amount"])
    assert ledger.balances == replayed


def idempotency_key(notification: str) -> str:
    """Powertools' record id for ``IdempotentNotificationSender``: key prefix, then md5 of the JSON key."""
    return "notification#" + hashlib.md5(json.dumps(notification).encode()).hexdigest()  # noqa: S324


def completed_before(aws: LocalAws, epoch: float) -> set[str]:
    """Record ids of e-mails whose send completed before ``epoch``.

    A COMPLETED record expires (whole seconds) 15 days after the send completed.
    """
    table = aws.resources["IdempotencyTable"]
    horizon = epoch + DEDUPLICATION_WINDOW.total_seconds()
    return {
        str(item["id"])
        for item in aws.scan(table)
        if item.get("status") == "COMPLETED" and float(item["expiration"]) < horizon
    }


def notifications_of(movements: dict[str, Movement], email_of: dict[str, str]) -> dict[str, Email]:
    """Record id -> the e-mail each notification of the movements must produce."""
    expected: dict[str, Email] = {}
    for transaction, movement in movements.items():
        parties = [(Role.PAYEE, movement.payee)]
        if movement.payer is not None:
            parties.append((Role.PAYER, movement.payer))
        for role, customer in parties:
            key = idempotency_key(notification_id(transaction, role))
            expected[key] = Email(email_of[customer], transaction, role.value)
    return expected


# ====================================================================== the crash
@dataclass
class Timeline:
    run: LoadRun
    thread: threading.Thread
    stop: threading.Event

    @property
    def done(self) -> int:
        return self.run.done


def start_load(http: Http, movements: list[Movement]) -> Timeline:
    run, stop = LoadRun(), threading.Event()
    # Clients retry a call that got no answer with the same key, as real ones do, through the restarts.
    kwargs = {
        "stop": stop,
        "run": run,
        "max_attempts": RETRIES_THROUGH_A_RESTART,
        "clients": SIZES.crash_clients,
    }
    thread = threading.Thread(target=run_clients, args=(http, movements), kwargs=kwargs, daemon=True)
    thread.start()
    return Timeline(run, thread, stop)


def wait_for_progress(timeline: Timeline, count: int) -> None:
    wait_for(lambda: timeline.done, lambda done: done >= count, SIZES.stack_test_timeout_seconds / 3)


def acknowledged(
    outcomes: list[Outcome], before: float | None = None, after: float | None = None
) -> set[str]:
    return {
        o.movement.transaction_id
        for o in outcomes
        if o.committed
        and (before is None or o.answered_at < before)
        and (after is None or o.answered_at > after)
    }


@dataclass(frozen=True)
class Crash:
    """A load run on a crashable stack, snapshot mid-way, then killed: what the clients saw."""

    stack: CrashableStack
    seed: int
    customers: list[Customer]
    funding: LoadRun
    before_snapshot: LoadRun
    load: LoadRun
    emails_before_kill: Counter[Email]

    @property
    def outcomes(self) -> list[Outcome]:
        return [*self.funding.outcomes, *self.before_snapshot.outcomes, *self.load.outcomes]

    @property
    def requested(self) -> dict[str, Movement]:
        return {o.movement.transaction_id: o.movement for o in self.outcomes}

    @property
    def acknowledged_before_snapshot(self) -> set[str]:
        return acknowledged(self.funding.outcomes) | acknowledged(self.before_snapshot.outcomes)


def crash_mid_load(stack: CrashableStack) -> Crash:
    """Fund, send a third of the transfers, snapshot (graceful stop and start) while the pipeline
    still works through them, send the rest (8 clients; 4 in the short form) and ``kill -9``
    half-way through."""
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    customers = register_customers(stack.http, stack.identities, SIZES.crash_customers, 0)
    wait_until_active(stack.http, customers, 60)
    funding = run_clients(
        stack.http, deposits(customers, INITIAL_DEPOSIT, stack.identities), clients=SIZES.crash_clients
    )
    assert all(o.committed for o in funding.outcomes), funding.statuses()
    movements = transfers(customers, SIZES.crash_transfers, rng)
    first, rest = movements[: len(movements) // 3], movements[len(movements) // 3 :]
    before_snapshot = run_clients(stack.http, first, clients=SIZES.crash_clients)
    stack.graceful_restart()
    load = start_load(stack.http, rest)
    wait_for_progress(load, len(rest) // 2)
    emails_before_kill = Counter(stack.aws.emails())
    load.stop.set()  # the clients' calls in flight die with the stack
    stack.kill_9_and_restart()
    load.thread.join()
    return Crash(stack, seed, customers, funding, before_snapshot, load.run, emails_before_kill)


def test_kill_9_of_the_whole_stack_mid_load_loses_no_money_and_the_sweeper_finishes(tmp_path: Path) -> None:
    watch = Stopwatch()
    with crashable_stack(new_config("wallet-crash"), tmp_path / "ministack-state") as stack:
        watch.lap("deploy")
        crash = crash_mid_load(stack)
        watch.lap("load_snapshot_kill_restart")
        ledger = restored_ledger(stack.aws)
        backlog_after_restart = stack.aws.backlog()
        sweeps = stack.aws.sweep_until_no_event_is_pending()
        assert all(s["events_failed"] == 0 for s in sweeps), sweeps
        idle = stack.aws.wait_until_idle(SIZES.drain_timeout_seconds)
        watch.lap("sweep_and_drain")

        # No money created: every restored transaction is one a client asked for, and the books balance.
        assert set(ledger.transactions) <= set(crash.requested)
        assert_balances_follow_the_transaction_items(ledger)
        # No money lost: what was acknowledged before the snapshot survived the kill -9.
        assert crash.acknowledged_before_snapshot <= set(ledger.transactions)
        # The sweeper finished every event (its notifications included) the crash left pending.
        assert not any(idle.values()), idle
        restored = {t: crash.requested[t] for t in ledger.transactions}
        assert_statements_hold_each_committed_transaction_once(stack.http, crash.customers, restored)
        assert_each_notification_emailed_exactly_once(crash, restored)
        watch.lap("checks")
        record_figures(crash, ledger, backlog_after_restart, sweeps)
        figures.record("crash", seconds=watch.laps)


def assert_each_notification_emailed_exactly_once(crash: Crash, restored: dict[str, Movement]) -> None:
    """Sent before the crash (its idempotency record survived) or after the restart, never both."""
    expected = notifications_of(restored, {c.id: c.email for c in crash.customers})
    sent_before = completed_before(crash.stack.aws, crash.stack.events["killed_epoch"])
    sent_after = Counter(crash.stack.aws.emails())
    wrong = {
        email: (key in sent_before, sent_after[email])
        for key, email in expected.items()
        if (key in sent_before) + sent_after[email] != 1
    }
    assert not wrong, f"{len(wrong)} notifications not e-mailed exactly once: {list(wrong.items())[:5]}"


def record_figures(
    crash: Crash, ledger: LedgerSnapshot, backlog_after_restart: dict[str, int], sweeps: list[dict[str, Any]]
) -> None:
    events, outcomes, kept = crash.stack.events, crash.load.outcomes, set(ledger.transactions)
    between = acknowledged(outcomes, before=events["killed"])
    figures.record(
        "crash",
        seed=crash.seed,
        transfers_sent=len(crash.before_snapshot.outcomes) + len(outcomes),
        answers_before_snapshot=crash.before_snapshot.statuses(),
        answers_after_snapshot=crash.load.statuses(),
        acknowledged_before_snapshot=len(crash.acknowledged_before_snapshot),
        acknowledged_between_snapshot_and_kill=len(between),
        of_which_in_the_restarted_ledger=len(between & kept),
        acknowledged_after_the_restart=len(acknowledged(outcomes, after=events["restarted"])),
        calls_without_answer=crash.load.unanswered_calls,
        unknown_outcomes=sum(1 for o in outcomes if not o.answered),
        restored_transactions=len(kept),
        restored_total_centavos=ledger.total,
        restored_deposited_centavos=ledger.deposited,
        backlog_after_restart=backlog_after_restart,
        sweeper_runs=len(sweeps),
        sweeper_events_applied=[s["events_applied"] for s in sweeps],
        emails_sent_between_snapshot_and_kill=sum(crash.emails_before_kill.values()),
        emails_sent_again_after_the_rollback=sum(
            1 for e in set(crash.stack.aws.emails()) if e in crash.emails_before_kill
        ),
        snapshot_restart_seconds=round(events["snapshot_restarted"] - events["snapshot_requested"], 1),
        kill_to_ready_seconds=round(events["restarted"] - events["killed"], 1),
    )
