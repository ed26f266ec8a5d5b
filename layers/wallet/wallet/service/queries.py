"""Read models: customers from the customers table, balances and transactions from the ledger.

Each answers only to whom the data belongs. Another customer's id is answered exactly as an
id that does not exist (404), before anything is read: no existence oracle.
"""

from dataclasses import dataclass

from wallet.domain.customers import Customer
from wallet.domain.errors import CustomerNotFound, TransactionNotFound
from wallet.domain.ledger import Transaction
from wallet.service.ports import LedgerReads, Profiles


def own_customer(profiles: Profiles, caller: str, customer_id: str) -> Customer:
    """The caller's own registered customer. Another customer's id is not even read: it is
    answered exactly as an id that does not exist."""
    customer = profiles.get(customer_id) if customer_id == caller else None
    if customer is None:
        raise _not_found(customer_id)
    return customer


def _not_found(customer_id: str) -> CustomerNotFound:
    return CustomerNotFound(f"customer {customer_id} does not exist")


@dataclass(frozen=True)
class Balance:
    customer_id: str
    balance: int


class Queries:
    def __init__(self, customers: Profiles, ledger: LedgerReads) -> None:
        self._customers = customers
        self._ledger = ledger

    def customer(self, caller: str, customer_id: str) -> Customer:
        return own_customer(self._customers, caller, customer_id)

    def balance(self, caller: str, customer_id: str) -> Balance:
        """The ledger's balance; a customer whose account is not open yet has nothing."""
        if customer_id != caller:
            raise _not_found(customer_id)
        account = self._ledger.account(customer_id)
        if account is None:
            own_customer(self._customers, caller, customer_id)
            return Balance(customer_id, 0)
        return Balance(customer_id, account.balance)

    def transaction(self, caller: str, transaction_id: str) -> Transaction:
        """A transaction the caller paid or received."""
        transaction = self._ledger.transaction(transaction_id)
        if transaction is None or caller not in (transaction.payer_id, transaction.payee_id):
            raise TransactionNotFound(f"transaction {transaction_id} does not exist")
        return transaction
