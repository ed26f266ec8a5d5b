"""Transfers and deposits through MoneyMovement, on both engines, customers opened the real way."""

from typing import Any

import pytest

from tests.integration.conftest import Stores
from tests.support.authorizers import denying_authorizer, unavailable_authorizer
from tests.support.identities import RAIL_CLIENT_ID
from tests.support.ledger_checks import assert_ledger_consistent
from wallet.adapters.dynamodb import connection_for
from wallet.domain.customers import CustomerType
from wallet.domain.errors import (
    AuthorizerUnavailable,
    CustomerNotActive,
    CustomerNotFound,
    Forbidden,
    IdempotencyKeyReused,
    InsufficientFunds,
    MerchantCannotSend,
    SameAccount,
    TransferNotAuthorized,
    WalletError,
)
from wallet.domain.ledger import TransactionKind, TransactionStatus
from wallet.service.money_movement import ACCOUNT_OPENING_RETRY_AFTER_SECONDS
from wallet.service.on_customer_registered import apply_customer_registered
from wallet.service.ports import Authorizer


class Unchanged:
    """Both tables, item for item, as they were when made: for "nothing was written"."""

    def __init__(self, stores: Stores) -> None:
        self._stores = stores
        self._ledger = stores.ledger_items()
        self._customers = stores.customers_items()

    def check(self) -> None:
        assert self._stores.ledger_items() == self._ledger
        assert self._stores.customers_items() == self._customers


def test_deposit_then_transfer_moves_exact_centavos(stores: Stores) -> None:
    payer, payee = stores.open(), stores.open()

    deposit = stores.money.deposit(RAIL_CLIENT_ID, payer.id, 10_000, "salary-1")
    transfer = stores.money.transfer(payer.id, payee.id, 1_234, idempotency_key=None)

    assert (stores.balance(payer.id), stores.balance(payee.id)) == (8_766, 1_234)
    assert not deposit.replayed and not transfer.replayed
    recorded = transfer.transaction
    assert (recorded.kind, recorded.payer_id, recorded.payee_id, recorded.amount, recorded.status) == (
        TransactionKind.TRANSFER,
        payer.id,
        payee.id,
        1_234,
        TransactionStatus.COMPLETED,
    )
    assert stores.ledger.transaction(recorded.id) == recorded
    ledger = assert_ledger_consistent(stores.tables)
    assert len(ledger.events_of(recorded.id)) == 1
    assert len(ledger.transactions) == 2


def test_a_merchant_can_receive(stores: Stores) -> None:
    payer, merchant = stores.funded(5_000), stores.open(CustomerType.MERCHANT)

    stores.money.transfer(payer.id, merchant.id, 5_000, idempotency_key=None)

    assert (stores.balance(payer.id), stores.balance(merchant.id)) == (0, 5_000)


def test_the_authorizer_is_asked_once_per_transfer_and_never_for_a_deposit(stores: Stores) -> None:
    payer, payee = stores.open(), stores.open()
    stores.deposit(payer.id, 100)

    stores.money.transfer(payer.id, payee.id, 100, idempotency_key=None)

    assert stores.authorizer.asked == 1


def test_insufficient_funds_is_the_writes_own_answer_and_writes_nothing(stores: Stores) -> None:
    """Nothing is read before the write: the authorizer is asked, then the debit's condition
    refuses (two round trips, as a committed transfer costs)."""
    payer, payee = stores.funded(1_000), stores.open()
    unchanged = Unchanged(stores)

    with pytest.raises(InsufficientFunds):
        stores.money.transfer(payer.id, payee.id, 1_001, idempotency_key="too-much")

    unchanged.check()
    assert stores.authorizer.asked == 1


def test_an_unknown_payee_is_customer_not_found(stores: Stores) -> None:
    payer = stores.funded(1_000)
    unchanged = Unchanged(stores)

    with pytest.raises(CustomerNotFound):
        stores.money.transfer(payer.id, "nobody", 100, idempotency_key=None)

    unchanged.check()


def test_an_unknown_payer_is_customer_not_found(stores: Stores) -> None:
    payee = stores.open()

    with pytest.raises(CustomerNotFound):
        stores.money.transfer("nobody", payee.id, 100, idempotency_key=None)


def test_a_deposit_to_an_unknown_customer_is_customer_not_found(stores: Stores) -> None:
    with pytest.raises(CustomerNotFound):
        stores.money.deposit(RAIL_CLIENT_ID, "nobody", 100, "to-nobody")


def test_a_pending_payee_is_not_active_yet_with_retry_after(stores: Stores) -> None:
    payer, pending = stores.funded(1_000), stores.register()
    unchanged = Unchanged(stores)

    with pytest.raises(CustomerNotActive) as rejected:
        stores.money.transfer(payer.id, pending.id, 100, idempotency_key=None)

    assert rejected.value.retry_after_seconds == ACCOUNT_OPENING_RETRY_AFTER_SECONDS
    unchanged.check()


def test_a_pending_customer_can_receive_once_the_sync_has_run(stores: Stores) -> None:
    payer, pending = stores.funded(1_000), stores.register()
    with pytest.raises(CustomerNotActive):
        stores.deposit(pending.id, 100)

    apply_customer_registered(stores.registration_event(pending.id), stores.ledger, stores.customers)
    stores.money.transfer(payer.id, pending.id, 100, idempotency_key=None)

    assert stores.balance(pending.id) == 100


def test_a_pending_payer_is_not_active_yet(stores: Stores) -> None:
    pending, payee = stores.register(), stores.open()

    with pytest.raises(CustomerNotActive) as rejected:
        stores.money.transfer(pending.id, payee.id, 100, idempotency_key=None)

    assert rejected.value.retry_after_seconds == ACCOUNT_OPENING_RETRY_AFTER_SECONDS


def test_a_merchant_cannot_send(stores: Stores) -> None:
    merchant, payee = stores.funded(1_000, CustomerType.MERCHANT), stores.open()
    unchanged = Unchanged(stores)

    with pytest.raises(MerchantCannotSend):
        stores.money.transfer(merchant.id, payee.id, 100, idempotency_key=None)

    unchanged.check()


def test_sending_to_oneself_is_same_account(stores: Stores) -> None:
    payer = stores.funded(1_000)
    unchanged = Unchanged(stores)

    with pytest.raises(SameAccount):
        stores.money.transfer(payer.id, payer.id, 100, idempotency_key=None)

    unchanged.check()


@pytest.mark.parametrize(
    ("authorizer", "error"),
    [(denying_authorizer(), TransferNotAuthorized), (unavailable_authorizer(), AuthorizerUnavailable)],
    ids=["denied", "unavailable"],
)
def test_no_authorization_writes_nothing(
    stores: Stores, authorizer: Authorizer, error: type[WalletError]
) -> None:
    payer, payee = stores.funded(1_000), stores.open()
    unchanged = Unchanged(stores)

    with pytest.raises(error):
        stores.money_with(authorizer).transfer(payer.id, payee.id, 100, idempotency_key="k-1")

    unchanged.check()


def test_a_denied_key_can_be_used_again_once_authorized(stores: Stores) -> None:
    payer, payee = stores.funded(1_000), stores.open()
    with pytest.raises(TransferNotAuthorized):
        stores.money_with(denying_authorizer()).transfer(payer.id, payee.id, 100, idempotency_key="k-1")

    moved = stores.money.transfer(payer.id, payee.id, 100, idempotency_key="k-1")

    assert not moved.replayed
    assert stores.balance(payee.id) == 100


def test_the_same_key_and_body_replays_the_original_and_moves_money_once(stores: Stores) -> None:
    payer, payee = stores.funded(1_000), stores.open()
    first = stores.money.transfer(payer.id, payee.id, 300, idempotency_key="pay-rent")
    unchanged = Unchanged(stores)

    again = stores.money.transfer(payer.id, payee.id, 300, idempotency_key="pay-rent")

    assert again.replayed
    assert again.transaction == first.transaction
    unchanged.check()
    assert (stores.balance(payer.id), stores.balance(payee.id)) == (700, 300)
    assert len(assert_ledger_consistent(stores.tables).events_of(first.transaction.id)) == 1


def test_a_replay_does_not_ask_the_authorizer_again(stores: Stores) -> None:
    payer, payee = stores.funded(1_000), stores.open()
    stores.money.transfer(payer.id, payee.id, 300, idempotency_key="pay-rent")

    replayed = stores.money_with(denying_authorizer()).transfer(
        payer.id, payee.id, 300, idempotency_key="pay-rent"
    )

    assert replayed.replayed


def test_a_replay_is_answered_even_when_the_balance_no_longer_covers_it(stores: Stores) -> None:
    payer, payee = stores.funded(300), stores.open()
    first = stores.money.transfer(payer.id, payee.id, 300, idempotency_key="all-in")

    again = stores.money.transfer(payer.id, payee.id, 300, idempotency_key="all-in")

    assert again.replayed and again.transaction == first.transaction


@pytest.mark.parametrize(
    ("change", "error"),
    [("amount", IdempotencyKeyReused), ("payee", IdempotencyKeyReused), ("payer", Forbidden)],
)
def test_the_same_key_with_another_body_is_rejected_and_writes_nothing(
    stores: Stores, change: str, error: type[WalletError]
) -> None:
    """A payer other than the caller is refused outright, whatever the key already names."""
    payer, payee, other = stores.funded(1_000), stores.open(), stores.funded(1_000)
    stores.money.transfer(payer.id, payee.id, 300, idempotency_key="pay-rent")
    unchanged = Unchanged(stores)
    payer_id, payee_id, amount = {
        "amount": (payer.id, payee.id, 301),
        "payee": (payer.id, other.id, 300),
        "payer": (other.id, payee.id, 300),
    }[change]

    with pytest.raises(error):
        stores.money.transfer(payer.id, payee_id, amount, idempotency_key="pay-rent", payer_id=payer_id)

    unchanged.check()


def test_the_same_key_from_another_customer_is_an_unrelated_transfer(stores: Stores) -> None:
    ana, bruno, payee = stores.funded(1_000), stores.funded(1_000), stores.open()
    anas = stores.money.transfer(ana.id, payee.id, 300, idempotency_key="pay-rent")

    brunos = stores.money.transfer(bruno.id, payee.id, 450, idempotency_key="pay-rent")
    anas_replay = stores.money.transfer(ana.id, payee.id, 300, idempotency_key="pay-rent")

    assert not brunos.replayed
    assert brunos.transaction.id != anas.transaction.id
    assert (brunos.transaction.payer_id, brunos.transaction.amount) == (bruno.id, 450)
    assert anas_replay.replayed and anas_replay.transaction == anas.transaction
    assert [stores.balance(c.id) for c in (ana, bruno, payee)] == [700, 550, 750]
    assert_ledger_consistent(stores.tables)


def test_a_deposit_key_replays_and_credits_once(stores: Stores) -> None:
    customer = stores.open()

    first = stores.money.deposit(RAIL_CLIENT_ID, customer.id, 5_000, "salary")
    again = stores.money.deposit(RAIL_CLIENT_ID, customer.id, 5_000, "salary")

    assert again.replayed and again.transaction == first.transaction
    assert stores.balance(customer.id) == 5_000
    with pytest.raises(IdempotencyKeyReused):
        stores.money.deposit(RAIL_CLIENT_ID, customer.id, 5_001, "salary")


def test_a_key_used_for_a_deposit_is_free_for_a_transfer(stores: Stores) -> None:
    payer, payee = stores.open(), stores.open()
    deposit = stores.money.deposit(RAIL_CLIENT_ID, payer.id, 1_000, "same-key")

    transfer = stores.money.transfer(payer.id, payee.id, 400, idempotency_key="same-key")

    assert not transfer.replayed and transfer.transaction.id != deposit.transaction.id
    assert (stores.balance(payer.id), stores.balance(payee.id)) == (600, 400)
    assert_ledger_consistent(stores.tables)


@pytest.mark.parametrize("key", [None, "once"], ids=["no key", "with a key"])
def test_a_committed_transfer_is_two_round_trips_the_authorizer_then_one_write(
    stores: Stores, key: str | None
) -> None:
    """Counted on the wire (botocore's before-send hook), not assumed."""
    payer, payee = stores.funded(1_000), stores.open()
    calls_before = stores.authorizer.asked
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        target = request.headers["X-Amz-Target"]
        operation = target.decode() if isinstance(target, bytes) else str(target)
        sent.append(operation.removeprefix("DynamoDB_20120810."))

    events = connection_for(stores.tables.endpoint).client.meta.events
    events.register("before-send.dynamodb", record)
    try:
        stores.money.transfer(payer.id, payee.id, 100, idempotency_key=key)
    finally:
        events.unregister("before-send.dynamodb", record)

    assert (stores.authorizer.asked - calls_before, sent) == (1, ["TransactWriteItems"])
