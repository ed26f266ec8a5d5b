"""MoneyMovement's branches on in-memory ports: replays, races and lost answers, in milliseconds.

The ledger is ``FakeLedger``, which keeps the store's conditions and errors; the engines
themselves are tested in tests/integration (the same cases end to end) and
tests/unit/test_lost_answers.py (a lost answer on the wire).
"""

from dataclasses import dataclass, field

import pytest

from tests.support.fakes import NOW, FakeAuthorizer, FakeCustomers, FakeLedger
from tests.support.identities import RAIL_CLIENT_ID
from wallet.domain.customers import CustomerType
from wallet.domain.errors import (
    CustomerNotActive,
    CustomerNotFound,
    IdempotencyKeyReused,
    InsufficientFunds,
    MerchantCannotSend,
    TransferNotAuthorized,
)
from wallet.domain.ledger import Transaction, TransactionKind, transaction_id_for
from wallet.service.money_movement import ACCOUNT_OPENING_RETRY_AFTER_SECONDS, MoneyMovement, Movement
from wallet.service.ports import DuplicateTransaction

ANA, BIA, CAIO = "ana", "bia", "caio"


@dataclass
class World:
    """ANA (R$ 10,00) and BIA (nothing), both active; CAIO registered, his account not open yet."""

    ledger: FakeLedger = field(default_factory=FakeLedger)
    customers: FakeCustomers = field(default_factory=FakeCustomers)
    authorizer: FakeAuthorizer = field(default_factory=FakeAuthorizer)

    def __post_init__(self) -> None:
        for customer_id, balance in ((ANA, 1_000), (BIA, 0)):
            self.customers.register(customer_id)
            self.ledger.open(customer_id, balance)
        self.customers.register(CAIO)
        self.money = MoneyMovement(self.ledger, self.customers, self.authorizer, now=lambda: NOW)

    def balances(self) -> tuple[int, int]:
        return self.ledger.balance(ANA), self.ledger.balance(BIA)

    def twin(self, amount: int, key: str) -> None:
        """Another request from ANA under ``key`` (its own instance: another container)."""
        MoneyMovement(self.ledger, self.customers, FakeAuthorizer(), now=lambda: NOW).transfer(
            ANA, BIA, amount, key
        )


@pytest.fixture
def world() -> World:
    return World()


def test_a_first_transfer_moves_the_money_once(world: World) -> None:
    movement = world.money.transfer(ANA, BIA, 300, "k1")

    assert not movement.replayed
    assert world.balances() == (700, 300)
    assert world.ledger.transactions == {movement.transaction.id: movement.transaction}
    assert world.authorizer.asked == 1


# ------------------------------------------------------------------- replays


def test_a_replay_answers_the_original_and_moves_nothing(world: World) -> None:
    first = world.money.transfer(ANA, BIA, 300, "k1")

    again = world.money.transfer(ANA, BIA, 300, "k1")

    assert again == Movement(first.transaction, replayed=True)
    assert world.balances() == (700, 300)
    assert world.ledger.writes_committed == 1


def test_a_replay_with_another_body_is_refused_and_moves_nothing(world: World) -> None:
    world.money.transfer(ANA, BIA, 300, "k1")

    with pytest.raises(IdempotencyKeyReused):
        world.money.transfer(ANA, BIA, 301, "k1")

    assert world.balances() == (700, 300)


def test_a_replayed_deposit_answers_the_original(world: World) -> None:
    first = world.money.deposit(RAIL_CLIENT_ID, BIA, 500, "pix-1")

    again = world.money.deposit(RAIL_CLIENT_ID, BIA, 500, "pix-1")

    assert again == Movement(first.transaction, replayed=True)
    assert world.ledger.balance(BIA) == 500
    assert world.authorizer.asked == 0  # deposits are never sent to the authorizer


def test_a_replay_answers_as_the_original_did_whatever_the_balance_says_now(world: World) -> None:
    first = world.money.transfer(ANA, BIA, 1_000, "all-of-it")
    assert world.balances() == (0, 1_000)  # the same write today would be refused

    again = world.money.transfer(ANA, BIA, 1_000, "all-of-it")

    assert again == Movement(first.transaction, replayed=True)
    assert world.balances() == (0, 1_000)


def test_a_replay_answers_as_the_original_did_whatever_the_authorizer_says_now(world: World) -> None:
    first = world.money.transfer(ANA, BIA, 300, "k1")
    world.authorizer.refusal = TransferNotAuthorized("the authorizer refused")

    again = world.money.transfer(ANA, BIA, 300, "k1")

    assert again == Movement(first.transaction, replayed=True)
    assert world.balances() == (700, 300)


def test_a_request_refused_under_a_key_may_succeed_later_under_it(world: World) -> None:
    world.authorizer.refusal = TransferNotAuthorized("the authorizer refused")
    with pytest.raises(TransferNotAuthorized):
        world.money.transfer(ANA, BIA, 300, "k1")
    assert world.ledger.transactions == {}

    world.authorizer.refusal = None
    assert not world.money.transfer(ANA, BIA, 300, "k1").replayed
    assert world.balances() == (700, 300)


# --------------------------------------------------------------------- races


def test_a_twin_that_wins_the_race_is_answered_as_a_replay(world: World) -> None:
    world.ledger.concurrently = lambda: world.twin(300, "k1")

    movement = world.money.transfer(ANA, BIA, 300, "k1")

    assert movement.replayed
    assert movement.transaction == world.ledger.transaction(movement.transaction.id)
    assert world.balances() == (700, 300)  # moved once, by the twin
    assert world.ledger.writes_committed == 1


def test_a_twin_with_another_body_that_wins_the_race_makes_the_key_reused(world: World) -> None:
    world.ledger.concurrently = lambda: world.twin(200, "k1")

    with pytest.raises(IdempotencyKeyReused):
        world.money.transfer(ANA, BIA, 300, "k1")

    assert world.balances() == (800, 200)  # the twin's transfer only


@pytest.mark.parametrize("key", [None, "k1"], ids=["without a key", "with a key"])
def test_a_concurrent_transfer_that_empties_the_account_first_leaves_this_one_refused(
    world: World, key: str | None
) -> None:
    world.ledger.concurrently = lambda: world.twin(900, "the-other-one")

    with pytest.raises(InsufficientFunds):
        world.money.transfer(ANA, BIA, 300, key)

    assert world.balances() == (100, 900)
    assert world.ledger.writes_committed == 1


class ForgetfulLedger(FakeLedger):
    """Refuses a write as a duplicate, then reads nothing back: no engine does this."""

    def transaction(self, transaction_id: str) -> Transaction | None:
        return None


def test_a_duplicate_that_cannot_be_read_back_is_not_guessed_at() -> None:
    ledger = ForgetfulLedger()
    ledger.open(ANA, 1_000)
    ledger.open(BIA)
    ledger.answers_to_lose = 1
    money = MoneyMovement(ledger, FakeCustomers(), FakeAuthorizer(), now=lambda: NOW)

    with pytest.raises(DuplicateTransaction):
        money.transfer(ANA, BIA, 100, None)


# -------------------------------------------------------------- lost answers


def test_a_write_whose_answer_was_lost_is_this_requests_own_and_counts_as_committed(world: World) -> None:
    world.ledger.answers_to_lose = 1

    movement = world.money.transfer(ANA, BIA, 300, None)

    assert world.ledger.answers_to_lose == 0  # the answer really was lost
    assert not movement.replayed
    assert movement.transaction == world.ledger.transaction(movement.transaction.id)
    assert world.balances() == (700, 300)
    assert world.ledger.writes_committed == 1


def test_a_keyed_write_whose_answer_was_lost_answers_its_own_transaction_once(world: World) -> None:
    world.ledger.answers_to_lose = 1

    movement = world.money.transfer(ANA, BIA, 300, "k1")

    assert movement.transaction == world.ledger.transaction(
        transaction_id_for(TransactionKind.TRANSFER, ANA, "k1")
    )
    assert world.balances() == (700, 300)
    assert world.ledger.writes_committed == 1


def test_a_deposit_whose_answer_was_lost_credits_once(world: World) -> None:
    world.ledger.answers_to_lose = 1

    movement = world.money.deposit(RAIL_CLIENT_ID, BIA, 500, "pix-1")

    assert movement.transaction.amount == 500
    assert world.ledger.balance(BIA) == 500
    assert world.ledger.writes_committed == 1


# ------------------------------------------------------------ refusals named


def test_a_payee_without_an_account_is_not_found_or_not_active_yet(world: World) -> None:
    with pytest.raises(CustomerNotFound):
        world.money.transfer(ANA, "nobody", 100, None)
    with pytest.raises(CustomerNotActive) as pending:
        world.money.transfer(ANA, CAIO, 100, None)

    assert pending.value.retry_after_seconds == ACCOUNT_OPENING_RETRY_AFTER_SECONDS
    assert world.balances() == (1_000, 0)


def test_a_merchant_cannot_send(world: World) -> None:
    world.ledger.open("shop", 5_000, CustomerType.MERCHANT)

    with pytest.raises(MerchantCannotSend):
        world.money.transfer("shop", BIA, 100, None)

    assert world.ledger.balance("shop") == 5_000
