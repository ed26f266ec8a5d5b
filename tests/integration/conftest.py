"""Both stores on fresh tables of a real engine, and helpers that go through the real code paths.

A customer is opened the way production opens one: ``register_customer`` writes it
``pending`` with its CustomerRegistered outbox item, ``apply_customer_registered`` (what
the sync runs) opens the account and activates it, and money arrives by a deposit through
``MoneyMovement``. Only the external authorizer is a fake: its HTTP client has its own tests.
"""

import uuid
from dataclasses import dataclass

import pytest

from devstack.documents import new_cnpj, new_cpf
from tests.conftest import Tables
from tests.support.fakes import FakeAuthorizer
from tests.support.identities import RAIL_CLIENT_ID, Person
from tests.support.ledger_checks import Item, ItemKey, table_items
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.domain.customers import Customer, CustomerType
from wallet.events import CustomerRegistered, parse_event
from wallet.service.money_movement import MoneyMovement
from wallet.service.on_customer_registered import apply_customer_registered
from wallet.service.ports import Authorizer
from wallet.service.registration import register_customer


@dataclass
class Stores:
    tables: Tables
    ledger: LedgerStore
    customers: CustomersStore
    authorizer: FakeAuthorizer
    money: MoneyMovement

    def money_with(self, authorizer: Authorizer) -> MoneyMovement:
        return MoneyMovement(self.ledger, self.customers, authorizer)

    def register(
        self,
        type: CustomerType = CustomerType.INDIVIDUAL,
        *,
        email: str | None = None,
        document: str | None = None,
        person: Person | None = None,
    ) -> Customer:
        """A new customer, still ``pending``: the sync has not applied its event yet.

        Registered by ``person`` (a new one, with ``email``, unless given): the customer's id
        is the identity's, its e-mail the token's.
        """
        number = new_cpf() if type is CustomerType.INDIVIDUAL else new_cnpj()
        registrant = person or Person.new(email=email or f"customer-{number}@example.com")
        return register_customer(
            self.customers, registrant, name=f"Customer {number}", document=document or number, type=type
        )

    def registration_event(self, customer_id: str) -> CustomerRegistered:
        """The customer's CustomerRegistered event, read back from its outbox item."""
        for item in self.customers_items().values():
            if item["entity"] == "outbox":
                event = parse_event(item["payload"])
                if isinstance(event, CustomerRegistered) and event.customer_id == customer_id:
                    return event
        raise AssertionError(f"no CustomerRegistered event for {customer_id}")

    def open(self, type: CustomerType = CustomerType.INDIVIDUAL) -> Customer:
        """A registered customer whose event the sync has applied: account open, active."""
        customer = self.register(type)
        apply_customer_registered(self.registration_event(customer.id), self.ledger, self.customers)
        return customer

    def funded(self, centavos: int, type: CustomerType = CustomerType.INDIVIDUAL) -> Customer:
        customer = self.open(type)
        self.deposit(customer.id, centavos)
        return customer

    def deposit(self, customer_id: str, centavos: int) -> None:
        """Money from the payment rail, under a reference of its own."""
        self.money.deposit(RAIL_CLIENT_ID, customer_id, centavos, str(uuid.uuid4()))

    def balance(self, customer_id: str) -> int:
        account = self.ledger.account(customer_id)
        assert account is not None, f"{customer_id} has no account"
        return account.balance

    def ledger_items(self) -> dict[ItemKey, Item]:
        return table_items(self.tables.endpoint, self.tables.ledger)

    def customers_items(self) -> dict[ItemKey, Item]:
        return table_items(self.tables.endpoint, self.tables.customers)


@pytest.fixture
def stores(engine_tables: Tables) -> Stores:
    """Constructed per test: the stores bind PynamoDB models to these tables globally."""
    ledger = LedgerStore(engine_tables.ledger, host=engine_tables.endpoint)
    customers = CustomersStore(engine_tables.customers, host=engine_tables.endpoint)
    authorizer = FakeAuthorizer()
    return Stores(engine_tables, ledger, customers, authorizer, MoneyMovement(ledger, customers, authorizer))
