"""Many concurrent transfers on both engines: money is conserved and every decision is all or nothing.

The outcome of each transfer depends on how the threads interleave, so the checks are
invariants, never exact numbers: whatever was committed is in the ledger exactly once with
its one event, whatever was rejected left no trace, and the balances reconcile to the cent.
Every transfer carries an Idempotency-Key, which is what lets a rejected one be looked up.
"""

import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tests.integration.conftest import Stores
from tests.support.ledger_checks import LedgerSnapshot, assert_ledger_consistent
from wallet.domain.errors import InsufficientFunds, StoreBusy
from wallet.domain.ledger import Transaction, TransactionKind, new_transaction, transaction_id_for
from wallet.events import TransactionCreated
from wallet.service.money_movement import MoneyMovement, Movement

# 8 threads racing over 10 accounts: most transfers meet another on the same account.
ACCOUNTS = 10
# R$ 100,00 each, against amounts of up to R$ 50,00: balances run out within a few
# transfers, so the race to overdraw (balance >= amount) happens many times.
INITIAL_CENTAVOS = 10_000
THREADS = 8
# 800 transfers in all: a few seconds on either engine, and many insufficient_funds races.
TRANSFERS_PER_THREAD = 100
MAX_AMOUNT = 5_000


@dataclass
class Outcomes:
    committed: list[Movement] = field(default_factory=list)
    insufficient: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)

    def merge(self, other: "Outcomes") -> None:
        self.committed += other.committed
        self.insufficient += other.insufficient
        self.busy += other.busy


def run_together(workers: list[Callable[[], Outcomes]]) -> Outcomes:
    """Start every worker at once (a barrier), wait for all, merge what they saw."""
    start = threading.Barrier(len(workers))

    def after_barrier(work: Callable[[], Outcomes]) -> Outcomes:
        start.wait()
        return work()

    total = Outcomes()
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        for outcomes in pool.map(after_barrier, workers):
            total.merge(outcomes)
    return total


def random_transfers(stores: Stores, customer_ids: list[str], thread: int) -> Callable[[], Outcomes]:
    def work() -> Outcomes:
        rng = random.Random(thread)
        outcomes = Outcomes()
        for n in range(TRANSFERS_PER_THREAD):
            payer, payee = rng.sample(customer_ids, 2)
            key = f"thread-{thread}-transfer-{n}"
            try:
                outcomes.committed.append(
                    stores.money.transfer(payer, payee, rng.randint(1, MAX_AMOUNT), idempotency_key=key)
                )
            except InsufficientFunds:
                outcomes.insufficient.append(transaction_id_for(TransactionKind.TRANSFER, payer, key))
            except StoreBusy:
                outcomes.busy.append(transaction_id_for(TransactionKind.TRANSFER, payer, key))
        return outcomes

    return work


def expected_balances(customer_ids: list[str], committed: list[Movement]) -> dict[str, int]:
    balances = dict.fromkeys(customer_ids, INITIAL_CENTAVOS)
    for movement in committed:
        transfer = movement.transaction
        assert transfer.payer_id is not None
        balances[transfer.payer_id] -= transfer.amount
        balances[transfer.payee_id] += transfer.amount
    return balances


def assert_left_no_trace(ledger: LedgerSnapshot, transaction_ids: list[str]) -> None:
    traces = [tid for tid in transaction_ids if tid in ledger.transactions or ledger.events_of(tid)]
    assert traces == [], f"rejected transfers that left items behind: {traces}"


def test_concurrent_random_transfers_conserve_money_and_are_all_or_nothing(
    stores: Stores, record_property: Callable[[str, object], None]
) -> None:
    customer_ids = [stores.funded(INITIAL_CENTAVOS).id for _ in range(ACCOUNTS)]

    outcomes = run_together([random_transfers(stores, customer_ids, thread) for thread in range(THREADS)])

    # Which engine said what, for the report (StoreBusy would mean the engine returned TransactionConflict).
    for name in ("committed", "insufficient", "busy"):
        record_property(name, len(getattr(outcomes, name)))

    assert len(outcomes.committed) + len(outcomes.insufficient) + len(outcomes.busy) == (
        THREADS * TRANSFERS_PER_THREAD
    )
    assert outcomes.committed, "no transfer committed: the test proves nothing"
    assert outcomes.insufficient, "no transfer was short of funds: the test proves nothing"
    assert not any(movement.replayed for movement in outcomes.committed)
    ledger = assert_ledger_consistent(stores.tables)
    assert ledger.total == ACCOUNTS * INITIAL_CENTAVOS
    assert len(ledger.transactions) == len(outcomes.committed) + ACCOUNTS
    for movement in outcomes.committed:
        transfer = movement.transaction
        assert [(e.payer_id, e.payee_id, e.amount) for e in ledger.events_of(transfer.id)] == [
            (transfer.payer_id, transfer.payee_id, transfer.amount)
        ]
        item = ledger.transactions[transfer.id]
        assert (item["payer_id"], item["payee_id"], item["amount"]) == (
            transfer.payer_id,
            transfer.payee_id,
            transfer.amount,
        )
    assert_left_no_trace(ledger, outcomes.insufficient + outcomes.busy)
    assert ledger.balances == expected_balances(customer_ids, outcomes.committed)


def test_one_key_sent_by_many_threads_at_once_moves_money_once(stores: Stores) -> None:
    payer, payee = stores.funded(100_000), stores.open()

    def send() -> Outcomes:
        return Outcomes(committed=[stores.money.transfer(payer.id, payee.id, 600, idempotency_key="once")])

    outcomes = run_together([send] * THREADS)

    assert len(outcomes.committed) == THREADS
    assert len({movement.transaction for movement in outcomes.committed}) == 1
    assert [movement.replayed for movement in outcomes.committed].count(False) == 1
    assert (stores.balance(payer.id), stores.balance(payee.id)) == (99_400, 600)
    assert_ledger_consistent(stores.tables)


def test_concurrent_debits_of_one_account_never_overdraw_it(stores: Stores) -> None:
    """Straight to the store, past the early balance check: only the write's condition decides."""
    payer, payee = stores.funded(10_000), stores.open()
    amount = 300  # 33 fit in R$ 100,00, with 100 centavos left over

    def debits(thread: int) -> Callable[[], Outcomes]:
        def work() -> Outcomes:
            outcomes = Outcomes()
            for n in range(10):
                transaction, event = transfer_of(payer.id, payee.id, amount, key=f"{thread}-{n}")
                try:
                    stores.ledger.record(transaction, event)
                    outcomes.committed.append(Movement(transaction, replayed=False))
                except InsufficientFunds:
                    outcomes.insufficient.append(transaction.id)
            return outcomes

        return work

    outcomes = run_together([debits(thread) for thread in range(THREADS)])

    assert (len(outcomes.committed), len(outcomes.insufficient)) == (33, THREADS * 10 - 33)
    assert (stores.balance(payer.id), stores.balance(payee.id)) == (100, 9_900)
    assert_left_no_trace(assert_ledger_consistent(stores.tables), outcomes.insufficient)


def transfer_of(
    payer_id: str, payee_id: str, amount: int, key: str
) -> tuple[Transaction, TransactionCreated]:
    transaction = new_transaction(
        id=transaction_id_for(TransactionKind.TRANSFER, payer_id, key),
        kind=TransactionKind.TRANSFER,
        payer_id=payer_id,
        payee_id=payee_id,
        amount=amount,
        now=datetime.now(UTC),
    )
    event = TransactionCreated(
        event_id=str(uuid.uuid4()),
        occurred_at=transaction.created_at,
        transaction_id=transaction.id,
        kind=transaction.kind,
        payer_id=payer_id,
        payee_id=payee_id,
        amount=amount,
    )
    return transaction, event


def test_a_retry_that_loses_the_race_to_its_original_is_a_replay(stores: Stores) -> None:
    """The interleaving of two requests with one key, forced instead of hoped for.

    While the retry waits for the authorizer, the original commits, spending the whole
    balance; only then does the retry write. Everything runs on the real engine: the
    authorizer below only decides WHEN the original runs.
    """
    payer, payee = stores.funded(600), stores.open()
    original = stores.money

    class OriginalCommitsMeanwhile:
        raced = False

        def authorize(self) -> None:
            if not self.raced:
                self.raced = True
                original.transfer(payer.id, payee.id, 600, idempotency_key="once")

    retry = MoneyMovement(stores.ledger, stores.customers, OriginalCommitsMeanwhile())

    replayed = retry.transfer(payer.id, payee.id, 600, idempotency_key="once")

    assert replayed.replayed
    assert (stores.balance(payer.id), stores.balance(payee.id)) == (0, 600)
