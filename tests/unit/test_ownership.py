"""Who may read or move what, decided by the services before any store is touched.

The stores are autospecced mocks (each call checked against the real signature) or small
in-memory fakes of the Protocols the code takes: no I/O, and every call the service made is
on record, so "refused before anything was read or written" is an exact assertion.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest.mock import MagicMock, create_autospec

import pytest

from tests.support.identities import RAIL_CLIENT_ID, Person
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.domain.customers import Customer, CustomerStatus, CustomerType
from wallet.domain.errors import CustomerNotFound, Forbidden, TransactionNotFound, WalletError
from wallet.domain.ledger import Account, Transaction, TransactionKind, new_transaction, transaction_id_for
from wallet.domain.statements import Direction, StatementEntry
from wallet.service.money_movement import MoneyMovement
from wallet.service.ports import StatementPage
from wallet.service.queries import Balance, Queries
from wallet.service.registration import register_customer
from wallet.service.statements import StatementQueries

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ANA, BRUNO, CARLA = "ana-id", "bruno-id", "carla-id"
UNKNOWN = "unknown-id"


def customer(customer_id: str) -> Customer:
    return Customer(
        id=customer_id,
        name="Ana Souza",
        email=f"{customer_id}@example.com",
        document="52998224725",
        type=CustomerType.INDIVIDUAL,
        status=CustomerStatus.ACTIVE,
        created_at=NOW,
    )


def account(customer_id: str, balance: int = 1_000) -> Account:
    return Account(customer_id=customer_id, customer_type=CustomerType.INDIVIDUAL, balance=balance)


def transfer(payer_id: str | None, payee_id: str, transaction_id: str = "tx-1") -> Transaction:
    kind = TransactionKind.DEPOSIT if payer_id is None else TransactionKind.TRANSFER
    return new_transaction(
        id=transaction_id, kind=kind, payer_id=payer_id, payee_id=payee_id, amount=100, now=NOW
    )


@dataclass
class Stores:
    """Autospecced stores: ANA (R$ 10,00) and BRUNO (R$ 5,00), a transfer and a deposit."""

    customers: MagicMock = field(default_factory=lambda: create_autospec(CustomersStore, instance=True))
    ledger: MagicMock = field(default_factory=lambda: create_autospec(LedgerStore, instance=True))
    authorizer: MagicMock = field(default_factory=MagicMock)

    def __post_init__(self) -> None:
        people = {ANA: customer(ANA), BRUNO: customer(BRUNO)}
        accounts = {ANA: account(ANA), BRUNO: account(BRUNO, 500)}
        transactions = {"tx-1": transfer(ANA, BRUNO), "deposit-1": transfer(None, ANA, "deposit-1")}
        self.customers.get.side_effect = people.get
        self.ledger.account.side_effect = accounts.get
        self.ledger.transaction.side_effect = transactions.get

    def queries(self) -> Queries:
        return Queries(self.customers, self.ledger)

    def money(self) -> MoneyMovement:
        return MoneyMovement(self.ledger, self.customers, self.authorizer, now=lambda: NOW)

    def untouched(self) -> bool:
        return self.customers.mock_calls == self.ledger.mock_calls == self.authorizer.mock_calls == []


@pytest.fixture
def stores() -> Stores:
    return Stores()


def message_shape(error: WalletError, named: str) -> str:
    return error.message.replace(named, "<id>")


# ================================================================== Queries


def test_a_customer_reads_its_own_customer_and_balance(stores: Stores) -> None:
    queries = stores.queries()

    assert queries.customer(ANA, ANA) == customer(ANA)
    assert queries.balance(ANA, ANA) == Balance(ANA, 1_000)


OTHERS_READS: dict[str, Callable[[Queries, str], object]] = {
    "customer": lambda queries, customer_id: queries.customer(ANA, customer_id),
    "balance": lambda queries, customer_id: queries.balance(ANA, customer_id),
}


@pytest.mark.parametrize("read", OTHERS_READS.values(), ids=OTHERS_READS.keys())
def test_another_customers_id_is_not_found_exactly_like_an_unknown_one_and_reads_nothing(
    stores: Stores, read: Callable[[Queries, str], object]
) -> None:
    with pytest.raises(CustomerNotFound) as others:
        read(stores.queries(), BRUNO)
    assert stores.untouched(), "the refusal must not depend on whether the id exists"
    with pytest.raises(CustomerNotFound) as unknown:
        read(stores.queries(), UNKNOWN)

    assert others.value.code == unknown.value.code == "customer_not_found"
    assert message_shape(others.value, BRUNO) == message_shape(unknown.value, UNKNOWN)


def test_a_registered_caller_without_a_customer_has_no_balance(stores: Stores) -> None:
    with pytest.raises(CustomerNotFound):
        stores.queries().balance(UNKNOWN, UNKNOWN)


@pytest.mark.parametrize(
    ("caller", "transaction_id"),
    [
        pytest.param(ANA, "tx-1", id="its payer"),
        pytest.param(BRUNO, "tx-1", id="its payee"),
        pytest.param(ANA, "deposit-1", id="a deposit's payee"),
    ],
)
def test_a_transaction_reads_back_to_its_payer_and_its_payee(
    stores: Stores, caller: str, transaction_id: str
) -> None:
    assert stores.queries().transaction(caller, transaction_id).id == transaction_id


def test_a_third_partys_transaction_is_not_found_exactly_like_an_unknown_one(stores: Stores) -> None:
    with pytest.raises(TransactionNotFound) as third_party:
        stores.queries().transaction(CARLA, "tx-1")
    with pytest.raises(TransactionNotFound) as unknown:
        stores.queries().transaction(CARLA, UNKNOWN)

    assert third_party.value.code == unknown.value.code == "transaction_not_found"
    assert message_shape(third_party.value, "tx-1") == message_shape(unknown.value, UNKNOWN)


# ======================================================== StatementQueries


@dataclass
class FakeProfiles:
    known: set[str]
    asked: list[str] = field(default_factory=list)

    def get(self, customer_id: str) -> Customer | None:
        self.asked.append(customer_id)
        return customer(customer_id) if customer_id in self.known else None


@dataclass
class FakeStatements:
    pages: list[tuple[str, int, str | None]] = field(default_factory=list)

    def page(self, customer_id: str, limit: int, cursor: str | None) -> StatementPage:
        self.pages.append((customer_id, limit, cursor))
        entry = StatementEntry(customer_id, "tx-1", TransactionKind.DEPOSIT, Direction.CREDIT, 100, None, NOW)
        return StatementPage(entries=[entry], next_cursor=None)


def test_a_customer_pages_its_own_statement() -> None:
    profiles, statements = FakeProfiles({ANA, BRUNO}), FakeStatements()

    page = StatementQueries(profiles, statements).page(ANA, ANA, 5, "cursor")

    assert [entry.customer_id for entry in page.entries] == [ANA]
    assert statements.pages == [(ANA, 5, "cursor")]


@pytest.mark.parametrize(
    ("caller", "customer_id", "asked"),
    [
        pytest.param(ANA, BRUNO, [], id="another customer's id: nothing read"),
        pytest.param(ANA, UNKNOWN, [], id="an unknown id: nothing read"),
        pytest.param(UNKNOWN, UNKNOWN, [UNKNOWN], id="its own id, not registered"),
    ],
)
def test_a_statement_not_the_callers_own_is_customer_not_found(
    caller: str, customer_id: str, asked: list[str]
) -> None:
    profiles, statements = FakeProfiles({ANA, BRUNO}), FakeStatements()

    with pytest.raises(CustomerNotFound) as refused:
        StatementQueries(profiles, statements).page(caller, customer_id)

    assert message_shape(refused.value, customer_id) == "customer <id> does not exist"
    assert profiles.asked == asked
    assert statements.pages == []


# ============================================================ MoneyMovement


Transfer = Callable[[MoneyMovement], object]
SOMEONE_ELSES_MONEY: dict[str, Transfer] = {
    "another customer as payer": lambda money: money.transfer(ANA, ANA, 100, None, payer_id=BRUNO),
    "another payer, with a key": lambda money: money.transfer(ANA, CARLA, 100, "k", payer_id=BRUNO),
    "an unknown payer": lambda money: money.transfer(ANA, BRUNO, 100, None, payer_id=UNKNOWN),
    "an empty payer": lambda money: money.transfer(ANA, BRUNO, 100, None, payer_id=""),
}


@pytest.mark.parametrize("move", SOMEONE_ELSES_MONEY.values(), ids=SOMEONE_ELSES_MONEY.keys())
def test_a_payer_other_than_the_caller_is_forbidden_before_anything_is_read_or_written(
    stores: Stores, move: Transfer
) -> None:
    with pytest.raises(Forbidden) as refused:
        move(stores.money())

    assert refused.value.code == "forbidden"
    assert stores.untouched()


def recorded(stores: Stores) -> Transaction:
    [call] = stores.ledger.record.call_args_list
    transaction: Transaction = call.args[0]
    return transaction


@pytest.mark.parametrize("payer", [None, ANA], ids=["payer left out", "payer is the caller"])
def test_the_caller_is_the_payer(stores: Stores, payer: str | None) -> None:
    movement = stores.money().transfer(ANA, BRUNO, 100, "k", payer_id=payer)

    sent = recorded(stores)
    assert (sent.payer_id, sent.payee_id, sent.amount) == (ANA, BRUNO, 100)
    assert sent.id == transaction_id_for(TransactionKind.TRANSFER, ANA, "k")
    assert movement.transaction == sent
    stores.authorizer.authorize.assert_called_once_with()


def test_idempotency_keys_name_transactions_in_the_callers_own_scope(stores: Stores) -> None:
    money = stores.money()

    money.transfer(ANA, BRUNO, 100, "same-key")
    money.transfer(BRUNO, ANA, 100, "same-key")
    money.deposit(RAIL_CLIENT_ID, ANA, 100, "same-key")

    written = [call.args[0].id for call in stores.ledger.record.call_args_list]
    assert written == [
        transaction_id_for(TransactionKind.TRANSFER, ANA, "same-key"),
        transaction_id_for(TransactionKind.TRANSFER, BRUNO, "same-key"),
        transaction_id_for(TransactionKind.DEPOSIT, RAIL_CLIENT_ID, "same-key"),
    ]
    assert len(set(written)) == 3
    assert [call.args[0].payer_id for call in stores.ledger.record.call_args_list] == [ANA, BRUNO, None]


def test_a_deposit_is_the_rails_reference_scoped_to_the_rail(stores: Stores) -> None:
    movement = stores.money().deposit(RAIL_CLIENT_ID, ANA, 250, "pix-e2e-1")

    deposit = recorded(stores)
    assert deposit.id == transaction_id_for(TransactionKind.DEPOSIT, RAIL_CLIENT_ID, "pix-e2e-1")
    assert deposit.id != transaction_id_for(TransactionKind.DEPOSIT, ANA, "pix-e2e-1")
    assert (deposit.payer_id, deposit.payee_id, deposit.amount) == (None, ANA, 250)
    assert not movement.replayed
    stores.authorizer.authorize.assert_not_called()


# ============================================================ registration


def test_registration_takes_the_id_and_the_email_from_the_identity() -> None:
    customers: Any = create_autospec(CustomersStore, instance=True)
    person = Person.new(email="Ana.Souza@Example.com")

    registered = register_customer(
        customers, person, name="Ana Souza", document="529.982.247-25", type=CustomerType.INDIVIDUAL
    )

    assert (registered.id, registered.email) == (person.customer_id, "ana.souza@example.com")
    [call] = customers.add.call_args_list
    assert call.args[0] == registered
    # The event names the customer; the e-mail stays in the customer's own item.
    assert (call.args[1].customer_id, call.args[1].type) == (person.customer_id, CustomerType.INDIVIDUAL)
    assert "ana.souza@example.com" not in call.args[1].model_dump_json()


def test_an_unverified_email_is_forbidden_before_anything_is_written() -> None:
    customers: Any = create_autospec(CustomersStore, instance=True)

    with pytest.raises(Forbidden):
        register_customer(
            customers,
            Person.new(email_verified=False),
            name="Ana Souza",
            document="529.982.247-25",
            type=CustomerType.INDIVIDUAL,
        )

    assert customers.mock_calls == []
