"""TransactionConflict, which no local engine ever returns, injected where DynamoDB would decide it.

moto runs in-process; for the first N TransactWriteItems its backend cancels the whole
transaction with a ``TransactionConflict`` reason, exactly as DynamoDB does when another
transaction holds one of the items. The error then travels the real way: moto's wire
response, botocore's parser, PynamoDB's ``TransactWriteError``, the store's retry.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend
from pynamodb.connection import Connection
from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.transactions import TransactWrite

from devstack.template import create_table_request
from tests.support.fakes import FakeAuthorizer
from tests.support.identities import RAIL_CLIENT_ID
from tests.support.ledger_checks import assert_ledger_consistent, table_items
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.dynamodb import commit_with_retry, connection_for
from wallet.adapters.ledger_store import AccountItem, LedgerStore
from wallet.domain.customers import Customer, CustomerType
from wallet.domain.errors import InsufficientFunds, StoreBusy
from wallet.domain.ledger import Transaction, TransactionKind, new_transaction, transaction_id_for
from wallet.events import CustomerRegistered, TransactionCreated
from wallet.service.money_movement import MoneyMovement

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def retry_settings() -> dict[str, Any]:
    """commit_with_retry's keyword defaults: the stores call it with them."""
    settings = commit_with_retry.__kwdefaults__
    assert settings is not None
    return settings


ATTEMPTS: int = retry_settings()["attempts"]
BASE_DELAY_SECONDS: float = retry_settings()["base_delay_seconds"]


@dataclass(frozen=True)
class MotoTables:
    customers: str = "customers-unit"
    ledger: str = "ledger-unit"
    endpoint: None = None


@dataclass
class Conflicts:
    """How many TransactWriteItems the engine will still cancel, and what the code did meanwhile."""

    remaining: int = 0
    calls: int = 0
    sleeps: list[float] = field(default_factory=list)
    # The transaction that held the items was this one's twin (same key) and it committed.
    twin_commits_first: bool = False


@pytest.fixture
def tables() -> Iterator[MotoTables]:
    # The stores' client is cached per endpoint: one built inside the mock must not outlive it.
    connection_for.cache_clear()
    with mock_aws():
        client = boto3.client("dynamodb")
        names = MotoTables()
        client.create_table(**create_table_request("CustomersTable", names.customers))
        client.create_table(**create_table_request("LedgerTable", names.ledger))
        yield names
    connection_for.cache_clear()


@pytest.fixture
def conflicts(monkeypatch: pytest.MonkeyPatch) -> Conflicts:
    state = Conflicts()
    engine = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        state.calls += 1
        if state.remaining > 0:
            state.remaining -= 1
            if state.twin_commits_first:
                engine(backend, transact_items)
            # DynamoDB names the contended item and gives "None" for every other one.
            others: list[tuple[None, None, None]] = [(None, None, None)] * (len(transact_items) - 1)
            raise TransactionCanceledException([("TransactionConflict", CONFLICT_MESSAGE, None), *others])
        engine(backend, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    # The stores pass no sleep: commit_with_retry then pauses with time.sleep.
    monkeypatch.setattr("wallet.adapters.dynamodb.time.sleep", state.sleeps.append)
    return state


@pytest.fixture
def ledger(tables: MotoTables) -> LedgerStore:
    return LedgerStore(tables.ledger)


@pytest.fixture
def money(tables: MotoTables, ledger: LedgerStore) -> MoneyMovement:
    return MoneyMovement(ledger, CustomersStore(tables.customers), FakeAuthorizer())


def open_funded(ledger: LedgerStore, money: MoneyMovement, customer_id: str, centavos: int) -> None:
    """Accounts opened straight in the ledger, funded by a deposit (before any conflict is armed)."""
    ledger.open_account(customer_id, CustomerType.INDIVIDUAL, NOW)
    if centavos:
        money.deposit(RAIL_CLIENT_ID, customer_id, centavos, f"funding-{customer_id}")


def balances(ledger: LedgerStore, *customer_ids: str) -> list[int]:
    accounts = [ledger.account(customer_id) for customer_id in customer_ids]
    return [account.balance for account in accounts if account is not None]


def spend(payer_id: str, payee_id: str, amount: int) -> tuple[Transaction, TransactionCreated]:
    transaction = new_transaction(
        id=str(uuid.uuid4()),
        kind=TransactionKind.TRANSFER,
        payer_id=payer_id,
        payee_id=payee_id,
        amount=amount,
        now=NOW,
    )
    event = TransactionCreated(
        event_id=str(uuid.uuid4()),
        occurred_at=NOW,
        transaction_id=transaction.id,
        kind=transaction.kind,
        payer_id=payer_id,
        payee_id=payee_id,
        amount=amount,
    )
    return transaction, event


def credit_two_accounts() -> None:
    with TransactWrite(connection=Connection()) as write:
        for customer_id in ("first", "second"):
            write.update(AccountItem.key(customer_id), actions=[AccountItem.balance.add(1)])


def test_the_injected_conflict_is_what_pynamodb_gets_from_dynamodb(
    tables: MotoTables, ledger: LedgerStore, conflicts: Conflicts
) -> None:
    conflicts.remaining = 1

    with pytest.raises(TransactWriteError) as failed:
        credit_two_accounts()

    assert failed.value.cause_response_code == "TransactionCanceledException"
    assert isinstance(failed.value.cause, ClientError)
    assert failed.value.cancellation_reasons == [
        CancellationReason("TransactionConflict", CONFLICT_MESSAGE),
        None,
    ]


def test_a_transfer_that_meets_fewer_conflicts_than_attempts_commits_exactly_once(
    tables: MotoTables, ledger: LedgerStore, money: MoneyMovement, conflicts: Conflicts
) -> None:
    open_funded(ledger, money, "payer", 1_000)
    open_funded(ledger, money, "payee", 0)
    conflicts.remaining, conflicts.calls = ATTEMPTS - 1, 0

    moved = money.transfer("payer", "payee", 300, idempotency_key=None)

    assert conflicts.calls == ATTEMPTS
    assert balances(ledger, "payer", "payee") == [700, 300]
    ledger_now = assert_ledger_consistent(tables)
    assert len(ledger_now.events_of(moved.transaction.id)) == 1
    assert len(ledger_now.transactions) == 2


def test_the_retry_waits_a_growing_jittered_delay_between_attempts(
    tables: MotoTables, ledger: LedgerStore, money: MoneyMovement, conflicts: Conflicts
) -> None:
    open_funded(ledger, money, "payer", 1_000)
    open_funded(ledger, money, "payee", 0)
    conflicts.remaining = ATTEMPTS - 1

    money.transfer("payer", "payee", 300, idempotency_key=None)

    assert len(conflicts.sleeps) == ATTEMPTS - 1
    for attempt, delay in enumerate(conflicts.sleeps):
        assert 0 <= delay <= BASE_DELAY_SECONDS * 2**attempt


def test_a_transfer_that_keeps_conflicting_is_store_busy_and_writes_nothing(
    tables: MotoTables, ledger: LedgerStore, money: MoneyMovement, conflicts: Conflicts
) -> None:
    open_funded(ledger, money, "payer", 1_000)
    open_funded(ledger, money, "payee", 0)
    before = table_items(None, tables.ledger)
    conflicts.remaining, conflicts.calls = ATTEMPTS, 0

    with pytest.raises(StoreBusy) as busy:
        money.transfer("payer", "payee", 300, idempotency_key="k")

    assert (busy.value.code, busy.value.retry_after_seconds) == ("store_busy", 1)
    assert conflicts.calls == ATTEMPTS
    assert len(conflicts.sleeps) == ATTEMPTS - 1
    assert table_items(None, tables.ledger) == before
    assert ledger.transaction(transaction_id_for(TransactionKind.TRANSFER, "payer", "k")) is None


def test_the_same_key_after_store_busy_moves_the_money_once(
    tables: MotoTables, ledger: LedgerStore, money: MoneyMovement, conflicts: Conflicts
) -> None:
    open_funded(ledger, money, "payer", 1_000)
    open_funded(ledger, money, "payee", 0)
    conflicts.remaining = ATTEMPTS
    with pytest.raises(StoreBusy):
        money.transfer("payer", "payee", 300, idempotency_key="k")

    moved = money.transfer("payer", "payee", 300, idempotency_key="k")
    again = money.transfer("payer", "payee", 300, idempotency_key="k")

    assert (moved.replayed, again.replayed) == (False, True)
    assert balances(ledger, "payer", "payee") == [700, 300]


def test_a_conflict_with_a_twin_that_committed_is_answered_as_its_replay(
    tables: MotoTables, ledger: LedgerStore, money: MoneyMovement, conflicts: Conflicts
) -> None:
    """Two requests with one key meet in DynamoDB: the loser's retry finds the winner's transaction."""
    open_funded(ledger, money, "payer", 300)
    open_funded(ledger, money, "payee", 0)
    conflicts.remaining, conflicts.twin_commits_first = 1, True

    moved = money.transfer("payer", "payee", 300, idempotency_key="k")

    assert moved.replayed
    assert balances(ledger, "payer", "payee") == [0, 300]
    assert len(assert_ledger_consistent(tables).events_of(moved.transaction.id)) == 1


def test_registration_retries_a_conflict_and_writes_its_four_items_once(
    tables: MotoTables, conflicts: Conflicts
) -> None:
    customers = CustomersStore(tables.customers)
    customer = Customer.register(
        id="c-1",
        name="Ana",
        email="ana@example.com",
        document="52998224725",
        type=CustomerType.INDIVIDUAL,
        now=NOW,
    )
    event = CustomerRegistered(
        event_id="e-1",
        occurred_at=NOW,
        customer_id=customer.id,
        type=customer.type,
    )
    conflicts.remaining = 2

    customers.add(customer, event)

    assert conflicts.calls == 3
    assert len(table_items(None, tables.customers)) == 4
    assert customers.get(customer.id) == customer


def test_a_conflict_then_a_failed_condition_is_the_condition_s_answer(
    tables: MotoTables, ledger: LedgerStore, money: MoneyMovement, conflicts: Conflicts
) -> None:
    open_funded(ledger, money, "payer", 100)
    open_funded(ledger, money, "payee", 0)
    transaction, event = spend("payer", "payee", 101)
    conflicts.remaining, conflicts.calls = 1, 0

    with pytest.raises(InsufficientFunds):
        ledger.record(transaction, event)

    assert conflicts.calls == 2
    assert balances(ledger, "payer", "payee") == [100, 0]
