"""Read the real tables with plain boto3 scans, and check the ledger's invariants (tests only).

Scans are consistent reads of the whole table: fine for the small tables a test makes,
and independent of the PynamoDB models under test.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from devstack.wallet_client import plain_items
from wallet.events import TransactionCreated, parse_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

type Item = dict[str, Any]
type ItemKey = tuple[str, str]


class HasLedger(Protocol):
    """Anything that names an endpoint (None: moto) and a ledger table, such as ``tests.conftest.Tables``."""

    @property
    def endpoint(self) -> str | None: ...

    @property
    def ledger(self) -> str: ...


@cache
def _client(endpoint: str | None) -> "DynamoDBClient":
    return boto3.client("dynamodb", endpoint_url=endpoint)


def table_items(endpoint: str | None, table_name: str) -> dict[ItemKey, Item]:
    """Every item of the table, by (pk, sk): compare two of these to prove nothing was written.

    ``endpoint`` None is the default AWS endpoint, which is what moto intercepts in-process.
    """
    return {(item["pk"], item["sk"]): item for item in plain_items(_client(endpoint), table_name)}


@dataclass(frozen=True)
class LedgerSnapshot:
    balances: dict[str, int]
    transactions: dict[str, Item]
    events: list[TransactionCreated]

    def events_of(self, transaction_id: str) -> list[TransactionCreated]:
        return [event for event in self.events if event.transaction_id == transaction_id]

    @property
    def total(self) -> int:
        return sum(self.balances.values())

    @property
    def deposited(self) -> int:
        return sum(_int(item["amount"]) for item in self.transactions.values() if item["kind"] == "deposit")


def read_ledger(tables: HasLedger) -> LedgerSnapshot:
    balances: dict[str, int] = {}
    transactions: dict[str, Item] = {}
    events: list[TransactionCreated] = []
    for (pk, _), item in table_items(tables.endpoint, tables.ledger).items():
        if item["entity"] == "account":
            balances[pk.removeprefix("ACCOUNT#")] = _int(item["balance"])
        elif item["entity"] == "transaction":
            transactions[pk.removeprefix("TRANSACTION#")] = item
            assert "payload" in item, f"a transaction without its event: {pk}"
            event = parse_event(item["payload"])
            assert isinstance(event, TransactionCreated), f"unexpected event in the ledger: {event!r}"
            events.append(event)
    return LedgerSnapshot(balances, transactions, events)


def assert_ledger_consistent(tables: HasLedger) -> LedgerSnapshot:
    """No negative balance; money is only created by deposits; each transaction's event says
    what the transaction says."""
    ledger = read_ledger(tables)
    negative = {customer: balance for customer, balance in ledger.balances.items() if balance < 0}
    assert not negative, f"negative balances: {negative}"
    assert ledger.total == ledger.deposited, f"balances {ledger.total} != deposits {ledger.deposited}"
    for event in ledger.events:
        item = ledger.transactions[event.transaction_id]
        recorded = (item["kind"], item.get("payer_id"), item["payee_id"], _int(item["amount"]))
        assert recorded == (event.kind.value, event.payer_id, event.payee_id, event.amount), event
    return ledger


def _int(value: object) -> int:
    assert isinstance(value, Decimal) and value == int(value), f"not a whole number of centavos: {value!r}"
    return int(value)
