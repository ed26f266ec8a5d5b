"""Statements, the read side: a customer pages its own statement.

The entries are written by the TransactionCreated handler (``on_transaction_created``).
"""

from wallet.service.ports import Profiles, StatementPage, StatementReader
from wallet.service.queries import own_customer

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class StatementQueries:
    def __init__(self, profiles: Profiles, statements: StatementReader) -> None:
        self._profiles = profiles
        self._statements = statements

    def page(
        self, caller: str, customer_id: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> StatementPage:
        """The caller's own statement, newest first; raises CustomerNotFound (another
        customer's id included), or InvalidCursor for a cursor not ours."""
        own_customer(self._profiles, caller, customer_id)
        return self._statements.page(customer_id, limit, cursor)
