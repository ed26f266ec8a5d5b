"""What the use cases need from the outside world, as Protocols, and the errors those ports raise.

The use cases in ``wallet.service`` depend on these alone, never on a store: the adapters in
``wallet.adapters`` fulfil them (DynamoDB, SNS, SES, the external authorizer) and raise the
errors named here, and the unit tests fulfil them in memory (``tests/support/fakes.py``). Each
Protocol is as narrow as the use cases that take it: a use case asks for what it calls.

Which adapter fulfils which port: ``LedgerStore`` the ledger's (``LedgerRecords``,
``LedgerReads``, ``AccountOpener``, ``ProcessedTransactions``, ``PendingEvents``),
``CustomersStore`` the customers' (``Profiles``, ``CustomerRegistry``, ``Activations``,
``PendingEvents``), ``StatementStore`` the statements' (``StatementWriter``,
``StatementReader``, ``NotificationRecords``), ``SnsEmailBus`` ``EmailBus``, ``SesMailer``
``Mailer``, ``HttpAuthorizer`` ``Authorizer``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from wallet.domain.customers import Customer, CustomerType
from wallet.domain.errors import CustomerNotFound
from wallet.domain.ledger import Account, Transaction
from wallet.domain.statements import StatementEntry
from wallet.events import CustomerRegistered, TransactionCreated

# ------------------------------------------------------------------ customers


class Profiles(Protocol):
    """Customers by id (money movement, queries, statements)."""

    def get(self, customer_id: str) -> Customer | None: ...


class CustomerRegistry(Protocol):
    """Registration: the customer and its event, written together."""

    def add(self, customer: Customer, event: CustomerRegistered) -> None:
        """Raises CustomerAlreadyExists if the customer, its e-mail or its document is taken.
        A retry of this very registration whose first answer was lost returns quietly."""
        ...


class Activations(Protocol):
    """On CustomerRegistered: activate the customer and mark its event processed, together."""

    def activate(self, event: CustomerRegistered, now: datetime) -> bool:
        """False if the event was processed already (a replay); CustomerNotFound if no customer."""
        ...


# --------------------------------------------------------------------- ledger


class DuplicateTransaction(Exception):
    """A transaction with this id already exists: a replay, a twin that won the race, or this
    request's own write whose answer was lost."""


class NoAccount(CustomerNotFound):
    """No account for this customer in the ledger: not a customer, or one whose account the
    sync has not opened yet (only the customers context can tell which)."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} has no account")
        self.customer_id = customer_id


class LedgerRecords(Protocol):
    """Money movement: ONE conditional write, and the transaction read back when it is refused."""

    def record(self, transaction: Transaction, event: TransactionCreated) -> None:
        """Move the money, record the transaction and its event: all or nothing.

        Raises DuplicateTransaction if the id exists, NoAccount for a missing account, or the
        rule the payer's account broke (InsufficientFunds, MerchantCannotSend).
        """
        ...

    def transaction(self, transaction_id: str) -> Transaction | None: ...


class LedgerReads(Protocol):
    """Queries: balances and transactions."""

    def account(self, customer_id: str) -> Account | None: ...

    def transaction(self, transaction_id: str) -> Transaction | None: ...


class AccountOpener(Protocol):
    """On CustomerRegistered: open the account."""

    def open_account(self, customer_id: str, customer_type: CustomerType, now: datetime) -> bool:
        """False if it was open already (a replay)."""
        ...


class ProcessedTransactions(Protocol):
    """On TransactionCreated: the last step, after which the event is no longer pending."""

    def mark_event_processed(self, event: TransactionCreated, now: datetime) -> None: ...


class LedgerOfEvents(AccountOpener, ProcessedTransactions, Protocol):
    """What the event handlers do to the ledger: open accounts, mark transactions' events processed."""


# ------------------------------------------------------------ the outbox's backlog


class PendingEvent(Protocol):
    """What the sweeper reads of an item still waiting for the consumer (an outbox item, or
    a ledger transaction, which carries its own event)."""

    @property
    def event_id(self) -> str: ...

    @property
    def pending_since(self) -> str | None: ...

    def event(self) -> CustomerRegistered | TransactionCreated: ...


class PendingEvents(Protocol):
    """One table's events not applied yet, oldest first."""

    def pending_events(
        self, older_than: datetime, limit: int = 100, since: str | None = None
    ) -> Sequence[PendingEvent]:
        """Pending since before ``older_than`` (and at or after ``since``, a ``pending_since``
        of a page read before), at most ``limit``."""
        ...


# ----------------------------------------------------------------- statements


@dataclass(frozen=True)
class StatementPage:
    entries: list[StatementEntry]
    next_cursor: str | None


class InvalidCursor(ValueError):
    """The cursor was not produced by this API for this customer."""


# A page's next_cursor, as every statement reader writes it: opaque to clients, base64url
# without its padding, so the API refuses any other shape before a reader sees it. A
# statement's key (pk and sk, a few dozen characters each) encodes to under 200 characters;
# 1,024 leaves room for a longer key and still refuses what no reader wrote.
MAX_CURSOR_LENGTH = 1024
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}$"


class StatementWriter(Protocol):
    """On TransactionCreated: both parties' entries, in one request; a replay writes the same."""

    def record(self, entries: Sequence[StatementEntry], now: datetime) -> None: ...


class StatementReader(Protocol):
    def page(self, customer_id: str, limit: int, cursor: str | None) -> StatementPage:
        """One page, newest first; InvalidCursor for a cursor not of this statement."""
        ...


class EntryKey(NamedTuple):
    """Which statement entry: a customer's, of one transaction, at its time."""

    customer_id: str
    occurred_at: datetime
    transaction_id: str


class NotificationRecords(Protocol):
    """What a batch of notifications' e-mails is composed from, in one read."""

    def entries_with_profiles(
        self, entry_keys: Sequence[EntryKey], profile_ids: Sequence[str]
    ) -> tuple[list[StatementEntry], dict[str, Customer]]:
        """The entries of ``entry_keys`` and the profiles of ``profile_ids`` that exist (profiles by id)."""
        ...


# ---------------------------------------------------------- the outside world


class Authorizer(Protocol):
    def authorize(self) -> None:
        """Return if the external authorizer allows; raise a WalletError otherwise."""


class EmailBus(Protocol):
    def publish(self, messages: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        """Every (body, attributes) message, in as few requests as the bus allows (one for up to
        ten); raises unless all were accepted."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> str:
        """The mail service's message id."""
        ...
