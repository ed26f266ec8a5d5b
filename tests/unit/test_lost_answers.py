"""A write that DynamoDB committed but whose answer never reached the client.

botocore retries such a request by itself (a timeout, a 5xx). The retry must not turn a
committed transfer or registration into an error, nor move the money twice. The engine here
is moto in-process; the fault is injected where DynamoDB would have it: after the commit.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend

from devstack.documents import new_cpf
from devstack.template import create_table_request
from tests.support.identities import RAIL_CLIENT_ID, Person
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.dynamodb import connection_for
from wallet.adapters.ledger_store import LedgerStore
from wallet.domain.customers import CustomerType
from wallet.service.money_movement import MoneyMovement
from wallet.service.registration import register_customer

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class AnswerLost(JsonRESTError):
    code = 500

    def __init__(self) -> None:
        super().__init__("InternalServerError", "Internal server error")


class Allow:
    def authorize(self) -> None:
        return None


@pytest.fixture
def answers_to_lose(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A one-element list: how many committed TransactWriteItems will lose their answer."""
    connection_for.cache_clear()
    lose = [0]
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(**create_table_request("CustomersTable", "customers-lost"))
        client.create_table(**create_table_request("LedgerTable", "ledger-lost"))
        commit = DynamoDBBackend.transact_write_items

        def commit_then_lose_the_answer(backend: DynamoDBBackend, items: list[dict[str, Any]]) -> None:
            commit(backend, items)
            if lose[0] > 0:
                lose[0] -= 1
                raise AnswerLost()

        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", commit_then_lose_the_answer)
        yield lose
    connection_for.cache_clear()


def _ledger_items(kind: str) -> int:
    items = boto3.client("dynamodb").scan(TableName="ledger-lost")["Items"]
    return sum(1 for item in items if item["entity"]["S"] == kind)


def test_a_transfer_whose_answer_was_lost_is_answered_once_and_moves_the_money_once(
    answers_to_lose: list[int],
) -> None:
    ledger, customers = LedgerStore("ledger-lost"), CustomersStore("customers-lost")
    money = MoneyMovement(ledger, customers, Allow())
    for customer in ("payer", "payee"):
        ledger.open_account(customer, CustomerType.INDIVIDUAL, NOW)
    money.deposit(RAIL_CLIENT_ID, "payer", 1000, "funding")
    answers_to_lose[0] = 1

    movement = money.transfer("payer", "payee", 300, None)

    assert answers_to_lose == [0]  # the answer really was lost
    assert movement.transaction.amount == 300
    payer, payee = ledger.account("payer"), ledger.account("payee")
    assert payer is not None and payee is not None
    assert (payer.balance, payee.balance) == (700, 300)
    assert _ledger_items("transaction") == 2  # the deposit and this transfer (each its event), once


def test_a_registration_whose_answer_was_lost_returns_the_customer_it_wrote(
    answers_to_lose: list[int],
) -> None:
    customers = CustomersStore("customers-lost")
    answers_to_lose[0] = 1

    customer = register_customer(
        customers, Person.new(), name="Ana", document=new_cpf(), type=CustomerType.INDIVIDUAL
    )

    assert answers_to_lose == [0]  # the answer really was lost
    assert customers.get(customer.id) == customer
