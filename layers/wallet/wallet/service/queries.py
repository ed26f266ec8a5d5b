"""Read models: customers from the customers table, balances and transactions from the ledger."""

from dataclasses import dataclass

from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.domain.customers import Customer
from wallet.domain.errors import CustomerNotFound, TransactionNotFound
from wallet.domain.ledger import Transaction


@dataclass(frozen=True)
class Balance:
    customer_id: str
    balance: int


class Queries:
    def __init__(self, customers: CustomersStore, ledger: LedgerStore) -> None:
        self._customers = customers
        self._ledger = ledger

    def customer(self, customer_id: str) -> Customer:
        customer = self._customers.get(customer_id)
        if customer is None:
            raise CustomerNotFound(f"customer {customer_id} does not exist")
        return customer

    def balance(self, customer_id: str) -> Balance:
        """The ledger's balance; a customer whose account is not open yet has nothing."""
        account = self._ledger.account(customer_id)
        if account is None:
            self.customer(customer_id)
            return Balance(customer_id, 0)
        return Balance(customer_id, account.balance)

    def transaction(self, transaction_id: str) -> Transaction:
        transaction = self._ledger.transaction(transaction_id)
        if transaction is None:
            raise TransactionNotFound(f"transaction {transaction_id} does not exist")
        return transaction
