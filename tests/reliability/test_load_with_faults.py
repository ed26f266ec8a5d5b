"""Load runs over HTTP against the deployed stack, with real faults, then the books are checked.

1. 8 clients send transfers (short form 200, full 2,000) while the authorizer stub fails
   10% of its calls (503) and SES refuses ~10% of the e-mails: the SES account is put in
   the sandbox and 90% of the customers' addresses are verified, so SES rejects every
   e-mail to the others (MessageRejected), as AWS does. Those e-mails fail their 3
   deliveries and land in the notifications DLQ. Then SES is made healthy (out of the
   sandbox) and the DLQ re-driven with devstack/redrive.py, as docs/operations.md says.
2. The same while Lambda workers (send_money, sync) are killed with ``kill -9`` mid-load.

After the pipeline drains: balances to the centavo, exactly two statement entries per
committed transfer, exactly one payee e-mail (and one payer receipt) per committed
transfer, nothing at all for a rejected one. Every customer is a person signed in to the
stack's Cognito pool before the load starts; its transfers and reads carry its ID token,
the deposits the payment rail's access token.
"""

import math
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from devstack.authorizer_stub import AuthorizerStub
from devstack.wallet_client import Customer, Http, wait_until_active
from tests.reliability import figures
from tests.reliability.aws import LocalAws, wait_for
from tests.reliability.checks import (
    assert_balances_are_what_clients_were_told,
    assert_one_email_per_notification,
    assert_statements_hold_each_committed_transaction_once,
    expected_emails,
)
from tests.reliability.client import Identities, register_customers
from tests.reliability.conftest import Deployed
from tests.reliability.crashes import WorkerKiller, workers_of
from tests.reliability.figures import Stopwatch
from tests.reliability.load import Books, LoadRun, Movement, deposits, run_clients, transfers
from tests.reliability.suite_sizes import SIZES

pytestmark = [pytest.mark.stack, pytest.mark.timeout(SIZES.stack_test_timeout_seconds)]

# A tenth of the authorizer's calls fail, and SES refuses the addresses of a tenth of the
# customers: hundreds of faults in the full form, while most transfers still go through.
AUTHORIZER_ERROR_RATE = 0.1
SES_REFUSED_SHARE = 0.1
# R$ 1.000,00 each, in centavos: enough that some transfers commit and some are refused.
INITIAL_DEPOSIT = 100_000
# The sync opens an account within a second or two; a minute is a stuck pipeline.
ACTIVATION_TIMEOUT_SECONDS = 60
# A busy worker killed about three times a second: dozens of kills in a short run.
KILL_INTERVAL_SECONDS = 0.3
# Only workers this old are killed: past their start, so each kill lands mid-invocation.
WARM_AFTER_SECONDS = 8.0


class AuthorizerTally:
    """Counts what the in-process authorizer stub answered (its injected 503s included)."""

    def __init__(self, stub: AuthorizerStub) -> None:
        self.answers: Counter[str] = Counter()
        answer = stub._next_answer

        def counted() -> str:
            given = answer()
            self.answers[given] += 1
            return given

        stub._next_answer = counted  # type: ignore[method-assign,assignment]

    @property
    def failure_rate(self) -> float:
        calls = sum(self.answers.values())
        return round(self.answers["injected_error"] / calls, 4) if calls else 0.0


@contextmanager
def authorizer_failing(http: Http, error_rate: float) -> Iterator[None]:
    assert http.call("PUT", "/_local/authorizer", {"mode": "allow", "error_rate": error_rate}).status == 200
    try:
        yield
    finally:
        http.call("PUT", "/_local/authorizer", {"mode": "allow", "error_rate": 0.0})


@contextmanager
def ses_refusing(aws: LocalAws, accepted: list[Customer]) -> Iterator[None]:
    """SES in the sandbox with only ``accepted``'s addresses verified; healthy again on exit."""
    aws.verify_addresses(c.email for c in accepted)
    aws.ses_sandbox(on=True)
    try:
        yield
    finally:
        aws.ses_sandbox(on=False)


def open_funded_accounts(
    http: Http, identities: Identities, individuals: int, merchants: int
) -> tuple[list[Customer], LoadRun]:
    customers = register_customers(http, identities, individuals, merchants)
    wait_until_active(http, customers, ACTIVATION_TIMEOUT_SECONDS)
    funding = run_clients(http, deposits(customers, INITIAL_DEPOSIT, identities))
    assert all(outcome.committed for outcome in funding.outcomes), funding.statuses()
    return customers, funding


def settled_books(http: Http, customers: list[Customer], *runs: LoadRun) -> Books:
    """The books of the runs, unknown outcomes settled by reading the transaction back, as
    its payer (or, for a deposit, its payee) may."""
    token_of = {customer.id: customer.token for customer in customers}
    books = Books.of(outcome for run in runs for outcome in run.outcomes)
    return books.resolved(
        lambda movement: _exists(http, movement, token_of[movement.payer or movement.payee])
    )


def _exists(http: Http, movement: Movement, token: str) -> bool | None:
    status = http.get(f"/transfers/{movement.transaction_id}", token).status
    return {200: True, 404: False}.get(status)


def assert_rejected_transfers_left_no_transaction(http: Http, rejected: dict[str, Movement]) -> None:
    found = [t for t, m in rejected.items() if http.get(f"/transfers/{t}", m.token).status != 404]
    assert not found, f"rejected transfers that exist anyway: {found[:3]}"


def assert_the_books_hold(deployed: Deployed, customers: list[Customer], books: Books) -> dict[str, int]:
    http = deployed.http
    money = assert_balances_are_what_clients_were_told(
        http, customers, books.balances(customers), books.deposited
    )
    entries = assert_statements_hold_each_committed_transaction_once(http, customers, books.committed)
    emails = assert_one_email_per_notification(
        deployed.aws.emails(), customers, books.committed, books.rejected
    )
    assert_rejected_transfers_left_no_transaction(http, books.transfers(books.rejected))
    return {
        "total_balance_centavos": money.total,
        "deposited_centavos": money.deposited,
        "statement_entries": entries,
        "emails": emails,
    }


def test_load_with_authorizer_and_ses_faults_keeps_the_books_and_emails_once(deployed: Deployed) -> None:
    http, aws, watch = deployed.http, deployed.aws, Stopwatch()
    assert not any(aws.wait_until_idle(SIZES.drain_timeout_seconds).values())
    dlq_before = aws.queue_depth("NotificationsDLQUrl")
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    customers, funding = open_funded_accounts(
        http, deployed.identities, SIZES.load_customers, SIZES.load_merchants
    )
    refused = rng.sample(customers, math.ceil(len(customers) * SES_REFUSED_SHARE))
    accepted = [c for c in customers if c not in refused]
    tally = AuthorizerTally(deployed.authorizer)

    with ses_refusing(aws, accepted):
        # Funding happened before the fault: its e-mails were sent (the refused addresses' ones too).
        assert not any(aws.wait_until_idle(SIZES.drain_timeout_seconds).values())
        sent_before = set(aws.emails())
        watch.lap("setup")
        with authorizer_failing(http, AUTHORIZER_ERROR_RATE):
            load = run_clients(http, transfers(customers, SIZES.load_transfers, rng))
        books = settled_books(http, customers, funding, load)
        watch.lap("load")
        faulty_drain = aws.wait_until_idle(SIZES.drain_timeout_seconds)
        watch.lap("drain_with_ses_refusing")
        assert not any(faulty_drain.values()), faulty_drain
        expected = expected_emails(
            books.transfers(books.committed).values(), {c.id: c.email for c in customers}
        )
        sent_during = Counter(e for e in aws.emails() if e not in sent_before)
        never_sent = set(expected - sent_during)
        dead_lettered = aws.queue_depth("NotificationsDLQUrl") - dlq_before
        # The fault was real: SES refused every e-mail to an unverified address, and each one
        # was dead-lettered after its 3 deliveries. (Anything else missing is re-driven too,
        # and counted below; the exactly-once check at the end covers every e-mail.)
        to_refused = {e for e in expected if e.to in {c.email for c in refused}}
        assert to_refused <= never_sent
        assert dead_lettered >= len(never_sent) > 0

    redriven = aws.redrive_notifications()
    healed = aws.wait_until_idle(SIZES.drain_timeout_seconds)
    assert not any(healed.values()), healed
    sweep = aws.sweep()
    watch.lap("redrive_and_drain")

    assert all(check.held for check in load.replays), [c for c in load.replays if not c.held][:3]
    assert not books.unknown
    held = assert_the_books_hold(deployed, customers, books)
    assert aws.queue_depth("NotificationsDLQUrl") == 0
    watch.lap("checks")
    figures.record(
        "load_with_faults",
        seed=seed,
        clients=8,
        customers=len(customers),
        transfers_sent=len(load.outcomes),
        transfer_answers=load.statuses(),
        committed_transfers=len(books.transfers(books.committed)),
        rejected_transfers=len(books.transfers(books.rejected)),
        replays_checked=dict(Counter(c.kind.value for c in load.replays)),
        calls_without_answer=load.unanswered_calls,
        load_seconds=round(load.seconds, 1),
        transfers_per_second=round(len(load.outcomes) / load.seconds, 1),
        authorizer_answers=dict(tally.answers),
        authorizer_call_failure_rate=tally.failure_rate,
        ses_refused_addresses=f"{len(refused)}/{len(customers)}",
        transfer_emails_expected=sum(expected.values()),
        transfer_emails_refused=len(to_refused),
        transfer_emails_dead_lettered_otherwise=len(never_sent - to_refused),
        ses_refused_rate=round(len(to_refused) / sum(expected.values()), 4),
        dead_lettered=dead_lettered,
        redriven=redriven,
        sweeper_after_drain=sweep,
        seconds=watch.laps,
        **held,
    )


def test_killing_lambda_workers_mid_load_loses_nothing(deployed: Deployed) -> None:
    """``kill -9`` of send_money and sync workers while 8 clients send; unanswered calls are retried
    with the same Idempotency-Key, stuck outbox events are finished by the sweeper.

    notify's workers are spared on purpose: a crash after SES accepted an e-mail and before
    the idempotency record says COMPLETED sends it again (the one window IdempotentNotificationSender
    documents), so killing them could only show that documented duplicate.
    """
    http, aws, watch = deployed.http, deployed.aws, Stopwatch()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    customers, funding = open_funded_accounts(
        http, deployed.identities, SIZES.load_customers // 2, SIZES.load_merchants // 2
    )
    victims = [aws.resources["SendMoneyFunction"], aws.resources["SyncFunction"]]
    # Warm workers first: the killer only kills workers that finished starting (see WorkerKiller).
    warm_up = run_clients(http, transfers(customers, 16, rng))
    send_money = aws.resources["SendMoneyFunction"]
    wait_for(lambda: workers_of(deployed.ministack_pid, send_money, WARM_AFTER_SECONDS), bool, 30)
    watch.lap("setup")

    killer = WorkerKiller(deployed.ministack_pid, victims, KILL_INTERVAL_SECONDS, rng, WARM_AFTER_SECONDS)
    with killer:
        load = run_clients(http, transfers(customers, SIZES.worker_kill_transfers, rng))
    books = settled_books(http, customers, funding, warm_up, load)
    watch.lap("load")
    # Stream retries may have given up on a batch: whatever stays pending is the sweeper's.
    settled = wait_for(aws.backlog, lambda b: b["queued_emails"] == 0, SIZES.drain_timeout_seconds)
    sweep = aws.sweep()
    drained = aws.wait_until_idle(SIZES.drain_timeout_seconds)
    assert not any(drained.values()), drained
    watch.lap("drain")

    assert all(check.held for check in load.replays), [c for c in load.replays if not c.held][:3]
    held = assert_the_books_hold(deployed, customers, books)
    figures.record(
        "worker_kill",
        seed=seed,
        transfers_sent=len(load.outcomes),
        transfer_answers=load.statuses(),
        workers_killed={name.split("-")[-2]: n for name, n in killer.kills.items()},
        calls_without_answer=load.unanswered_calls,
        retried_transfers=sum(1 for o in load.outcomes if o.attempts > 1),
        committed_transfers=len(books.transfers(books.committed)),
        backlog_before_sweep=settled,
        sweeper=sweep,
        seconds=watch.laps,
        **held,
    )
    assert sum(killer.kills.values()) > 0
