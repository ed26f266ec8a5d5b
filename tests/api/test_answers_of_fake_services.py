"""The routes' answers to what only a store under load produces, with the use cases on fakes.

The real handlers, their resolvers' ``dependency_overrides`` (Powertools' ``Depends``)
swapping the use case ``bootstrap`` would build for one on the in-memory ports of
``tests/support/fakes.py``: DynamoDB busy beyond the retries (503 ``store_busy``, which no local
engine produces), a write whose answer was lost, a twin request that won the race. Nothing
here touches a table, so these need no engine: the rest of tests/api runs every route on
ministack.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.api.conftest import assert_error
from tests.support.fakes import NOW, FakeAuthorizer, FakeCustomers, FakeLedger, FakeStatements
from tests.support.identities import Person, rail_claims
from tests.support.lambda_events import ApiResponse, deposit_event, http_event, invoke, resolver
from wallet import bootstrap
from wallet.domain.errors import StoreBusy
from wallet.domain.ledger import Transaction
from wallet.events import TransactionCreated
from wallet.service.money_movement import MoneyMovement
from wallet.service.statements import StatementQueries

API_FUNCTIONS = ("deposit", "queries", "register_customer", "send_money")


class BusyLedger(FakeLedger):
    """DynamoDB cancelled every attempt (TransactionConflict, throttling): the store gave up."""

    def record(self, transaction: Transaction, event: TransactionCreated) -> None:
        raise StoreBusy("the ledger is busy; retry")


class World:
    """A payer and a payee, both active, the payer with R$ 10,00; the use cases on fakes."""

    def __init__(self, ledger: FakeLedger | None = None) -> None:
        self.payer, self.payee = Person.new(), Person.new()
        self.ledger = ledger or FakeLedger()
        self.customers = FakeCustomers()
        for person, balance in ((self.payer, 1_000), (self.payee, 0)):
            self.customers.register(person.customer_id)
            self.ledger.open(person.customer_id, balance)
        self.money = MoneyMovement(self.ledger, self.customers, FakeAuthorizer(), now=lambda: NOW)

    def transfer(self, value: str, idempotency_key: str | None = None) -> ApiResponse:
        event = http_event(
            "send_money",
            body={"payee": self.payee.customer_id, "value": value},
            headers={"idempotency-key": idempotency_key},
            claims=self.payer.claims,
        )
        return invoke("send_money", event)

    def deposit(self, amount: str, reference: str) -> ApiResponse:
        return invoke(
            "deposit", deposit_event(self.payee.customer_id, {"amount": amount}, reference, rail_claims())
        )

    def balances(self) -> tuple[int, int]:
        return self.ledger.balance(self.payer.customer_id), self.ledger.balance(self.payee.customer_id)


Override = Callable[[Callable[..., Any], Callable[[], Any]], None]


@pytest.fixture
def override() -> Iterator[Override]:
    """``override(bootstrap.<factory>, lambda: fake)`` on every API function; undone after the test."""

    def swap(factory: Callable[..., Any], fake: Callable[[], Any]) -> None:
        for function in API_FUNCTIONS:
            resolver(function).dependency_overrides[factory] = fake

    yield swap
    for function in API_FUNCTIONS:
        resolver(function).dependency_overrides.clear()


def test_a_transfer_the_ledger_is_too_busy_to_take_is_503_store_busy_and_moves_nothing(
    override: Override,
) -> None:
    world = World(BusyLedger())
    override(bootstrap.money_movement, lambda: world.money)

    assert_error(world.transfer("1.00"), 503, "store_busy")
    assert_error(world.deposit("1.00", "pix-1"), 503, "store_busy")

    assert world.balances() == (1_000, 0)


def test_a_transfer_whose_write_lost_its_answer_is_201_once_and_not_a_replay(override: Override) -> None:
    world = World()
    world.ledger.answers_to_lose = 1
    override(bootstrap.money_movement, lambda: world.money)

    response = world.transfer("2.50")

    assert response.status == 201, response.body
    assert response.header("idempotent-replayed") is None
    assert response.json()["id"] in world.ledger.transactions
    assert world.balances() == (750, 250)


def test_a_twin_that_won_the_race_is_answered_as_its_replay(override: Override) -> None:
    world = World()
    twin = MoneyMovement(world.ledger, world.customers, FakeAuthorizer(), now=lambda: NOW)
    world.ledger.concurrently = lambda: twin.transfer(
        world.payer.customer_id, world.payee.customer_id, 250, "same-key"
    )
    override(bootstrap.money_movement, lambda: world.money)

    response = world.transfer("2.50", "same-key")

    assert response.status == 201, response.body
    assert response.header("idempotent-replayed") == "true"
    assert response.header("location") == f"/transfers/{response.json()['id']}"
    assert world.balances() == (750, 250)


def test_a_cursor_the_statement_store_refuses_is_422_validation_error(override: Override) -> None:
    world = World()
    statements = StatementQueries(world.customers, FakeStatements(world.customers))
    override(bootstrap.statement_queries, lambda: statements)
    customer_id = world.payer.customer_id
    event = http_event(
        "get_customer",
        path=f"/customers/{customer_id}/transactions",
        path_parameters={"customer_id": customer_id},
        query={"cursor": "someone-elses"},
        claims=world.payer.claims,
    )
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /customers/{customer_id}/transactions"

    body = assert_error(invoke("queries", event), 422, "validation_error")

    assert body["details"][0]["location"] == ["query", "cursor"]
