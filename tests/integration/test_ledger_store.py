"""The ledger table on both engines: the ONE conditional TransactWriteItems every movement is."""

import uuid
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import Stores
from tests.support.ledger_checks import assert_ledger_consistent, read_ledger
from wallet.adapters.dynamodb import AtomicWrite, TransactionCancelled, connection_for
from wallet.adapters.ledger_store import AccountItem, TransactionItem
from wallet.domain.customers import CustomerType
from wallet.domain.errors import CustomerNotFound, InsufficientFunds
from wallet.domain.ledger import Transaction, TransactionKind, new_transaction
from wallet.events import TransactionCreated
from wallet.service.ports import DuplicateTransaction

NOW = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def movement(payer_id: str | None, payee_id: str, amount: int) -> tuple[Transaction, TransactionCreated]:
    kind = TransactionKind.DEPOSIT if payer_id is None else TransactionKind.TRANSFER
    transaction = new_transaction(
        id=str(uuid.uuid4()), kind=kind, payer_id=payer_id, payee_id=payee_id, amount=amount, now=NOW
    )
    event = TransactionCreated(
        event_id=str(uuid.uuid4()),
        occurred_at=NOW,
        transaction_id=transaction.id,
        kind=kind,
        payer_id=payer_id,
        payee_id=payee_id,
        amount=amount,
    )
    return transaction, event


def opened(stores: Stores, balance: int = 0, type: CustomerType = CustomerType.INDIVIDUAL) -> str:
    """An account straight in the ledger (the customers table plays no part in these tests)."""
    customer_id = str(uuid.uuid4())
    assert stores.ledger.open_account(customer_id, type, NOW)
    if balance:
        stores.ledger.record(*movement(None, customer_id, balance))
    return customer_id


def test_an_account_opens_once_with_a_zero_balance(stores: Stores) -> None:
    customer_id = str(uuid.uuid4())

    assert stores.ledger.open_account(customer_id, CustomerType.MERCHANT, NOW) is True
    assert stores.ledger.open_account(customer_id, CustomerType.INDIVIDUAL, NOW) is False

    account = stores.ledger.account(customer_id)
    assert account is not None
    assert (account.customer_id, account.customer_type, account.balance) == (
        customer_id,
        CustomerType.MERCHANT,
        0,
    )


def test_reopening_an_account_keeps_its_balance(stores: Stores) -> None:
    customer_id = opened(stores, balance=4_200)

    assert stores.ledger.open_account(customer_id, CustomerType.INDIVIDUAL, NOW) is False

    assert stores.balance(customer_id) == 4_200


def test_unknown_ids_read_as_none(stores: Stores) -> None:
    assert stores.ledger.account("nobody") is None
    assert stores.ledger.transaction("nothing") is None


def test_a_deposit_credits_and_records_the_transaction_and_its_event(stores: Stores) -> None:
    customer_id = opened(stores)
    transaction, event = movement(None, customer_id, 10_050)

    stores.ledger.record(transaction, event)

    assert stores.balance(customer_id) == 10_050
    assert stores.ledger.transaction(transaction.id) == transaction
    ledger = assert_ledger_consistent(stores.tables)
    assert ledger.events_of(transaction.id) == [event]


def test_a_transfer_moves_exact_centavos(stores: Stores) -> None:
    payer, payee = opened(stores, balance=10_000), opened(stores, balance=1)

    stores.ledger.record(*movement(payer, payee, 9_999))

    assert (stores.balance(payer), stores.balance(payee)) == (1, 10_000)
    assert_ledger_consistent(stores.tables)


def test_a_transfer_of_the_whole_balance_leaves_zero(stores: Stores) -> None:
    payer, payee = opened(stores, balance=500), opened(stores)

    stores.ledger.record(*movement(payer, payee, 500))

    assert (stores.balance(payer), stores.balance(payee)) == (0, 500)


def test_the_transaction_carries_its_event_pending_until_marked_processed(stores: Stores) -> None:
    customer_id = opened(stores)
    transaction, event = movement(None, customer_id, 300)
    stores.ledger.record(transaction, event)

    assert [item.event() for item in stores.ledger.pending_events(older_than=FAR_FUTURE)] == [event]

    stores.ledger.mark_event_processed(event, NOW)
    stores.ledger.mark_event_processed(event, NOW)

    assert stores.ledger.pending_events(older_than=FAR_FUTURE) == []
    item = stores.ledger_items()[(f"TRANSACTION#{transaction.id}", "TRANSACTION")]
    # Kept for good, as every transaction is: only its place in the pending index goes.
    assert ("pending_kind" in item, "expires_at" in item, item["event_id"]) == (False, False, event.event_id)
    assert stores.ledger.transaction(transaction.id) == transaction


def test_recording_the_same_transaction_twice_moves_the_money_once(stores: Stores) -> None:
    payer, payee = opened(stores, balance=1_000), opened(stores)
    transaction, event = movement(payer, payee, 250)
    stores.ledger.record(transaction, event)
    before = stores.ledger_items()

    with pytest.raises(DuplicateTransaction):
        stores.ledger.record(transaction, event)

    assert stores.ledger_items() == before
    assert (stores.balance(payer), stores.balance(payee)) == (750, 250)


def test_a_replay_that_could_no_longer_pay_is_still_a_duplicate(stores: Stores) -> None:
    payer, payee = opened(stores, balance=250), opened(stores)
    transaction, event = movement(payer, payee, 250)
    stores.ledger.record(transaction, event)

    # Both the debit and the transaction's condition fail now: a replay, not a lack of funds.
    with pytest.raises(DuplicateTransaction):
        stores.ledger.record(transaction, event)

    assert (stores.balance(payer), stores.balance(payee)) == (0, 250)


def test_the_debit_condition_failing_is_insufficient_funds_and_writes_nothing(stores: Stores) -> None:
    payer, payee = opened(stores, balance=1_000), opened(stores)
    transaction, event = movement(payer, payee, 1_001)
    before = stores.ledger_items()

    with pytest.raises(InsufficientFunds):
        stores.ledger.record(transaction, event)

    assert stores.ledger_items() == before
    assert stores.ledger.transaction(transaction.id) is None


def test_a_credit_to_a_missing_account_is_customer_not_found_and_writes_nothing(stores: Stores) -> None:
    payer = opened(stores, balance=1_000)
    before = stores.ledger_items()

    with pytest.raises(CustomerNotFound):
        stores.ledger.record(*movement(payer, "nobody", 100))

    assert stores.ledger_items() == before


def test_a_deposit_to_a_missing_account_writes_nothing(stores: Stores) -> None:
    before = stores.ledger_items()

    with pytest.raises(CustomerNotFound):
        stores.ledger.record(*movement(None, "nobody", 100))

    assert stores.ledger_items() == before


def test_cancellation_reasons_map_to_labels_in_the_order_sent(stores: Stores) -> None:
    """Added update-then-put, sent put-then-update: only the failing update's label is named."""
    poor = opened(stores, balance=10)
    write = AtomicWrite()
    write.update(
        "debit",
        AccountItem.key(poor),
        [AccountItem.balance.add(-11)],
        condition=AccountItem.pk.exists() & (AccountItem.balance >= 11),
    )
    fresh = TransactionItem.announced(*movement(None, poor, 11))
    write.put("transaction", fresh, TransactionItem.pk.does_not_exist())

    with pytest.raises(TransactionCancelled) as cancelled:
        write.commit(connection_for(stores.tables.endpoint))

    assert cancelled.value.failed == frozenset({"debit"})


def test_a_failing_put_is_named_even_when_added_last(stores: Stores) -> None:
    rich = opened(stores, balance=1_000)
    recorded, event = movement(None, rich, 1)
    stores.ledger.record(recorded, event)
    write = AtomicWrite()
    write.update("debit", AccountItem.key(rich), [AccountItem.balance.add(-1)], AccountItem.balance >= 1)
    write.put("transaction", TransactionItem.announced(recorded, event), TransactionItem.pk.does_not_exist())

    with pytest.raises(TransactionCancelled) as cancelled:
        write.commit(connection_for(stores.tables.endpoint))

    assert cancelled.value.failed == frozenset({"transaction"})
    assert stores.balance(rich) == 1_001


def test_read_ledger_sees_every_account(stores: Stores) -> None:
    ids = {opened(stores, balance=100 * n) for n in range(1, 4)}

    ledger = read_ledger(stores.tables)

    assert set(ledger.balances) == ids
    assert ledger.total == ledger.deposited == 600
