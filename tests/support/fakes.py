"""In-memory fakes of the service layer's ports (``wallet.service.ports``), for unit tests.

Each fake keeps the contract of the adapter it stands for, as ``wallet.service.ports`` states
it: the same conditions, in the same order of precedence, and the same errors. On top of that,
a test can stage what only a real engine under load does: a concurrent writer whose write lands
just before ours (``FakeLedger.concurrently``), or a write that committed but whose answer was
lost, so that the retry meets the write itself (``FakeLedger.answers_to_lose``).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from wallet.domain.customers import Customer, CustomerStatus, CustomerType
from wallet.domain.errors import CustomerAlreadyExists, CustomerNotFound, WalletError
from wallet.domain.ledger import Account, Transaction, debit_refusal
from wallet.domain.statements import StatementEntry
from wallet.events import CustomerRegistered, TransactionCreated
from wallet.service.ports import DuplicateTransaction, EntryKey, InvalidCursor, NoAccount, StatementPage

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class FakePendingEvent:
    """An item still waiting for the consumer, as the sweeper reads it."""

    event_id: str
    pending_since: str | None
    payload: CustomerRegistered | TransactionCreated

    def event(self) -> CustomerRegistered | TransactionCreated:
        return self.payload


def _pending(
    events: Mapping[str, FakePendingEvent], older_than: datetime, limit: int, since: str | None
) -> list[FakePendingEvent]:
    """What a ``pending`` index query returns: oldest first, from ``since`` on, at most ``limit``."""
    found = [
        item
        for item in events.values()
        if item.pending_since is not None
        and item.pending_since < older_than.isoformat()
        and (since is None or item.pending_since >= since)
    ]
    return sorted(found, key=lambda item: item.pending_since or "")[:limit]


@dataclass
class FakeLedger:
    """The ledger table: accounts, and transactions that carry their event until it is processed."""

    accounts: dict[str, Account] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    pending: dict[str, FakePendingEvent] = field(default_factory=dict)  # by transaction id
    # Runs once, just before the next conditional write is decided: another request's write.
    concurrently: Callable[[], object] | None = None
    # How many committed writes will lose their answer; their retry meets the write itself.
    answers_to_lose: int = 0
    writes_committed: int = 0
    # Transaction ids whose event the store refuses to mark processed.
    unmarkable: set[str] = field(default_factory=set)

    def open(self, customer_id: str, balance: int = 0, type: CustomerType = CustomerType.INDIVIDUAL) -> None:
        self.accounts[customer_id] = Account(customer_id, type, balance)

    def balance(self, customer_id: str) -> int:
        return self.accounts[customer_id].balance

    # ------------------------------------------------------------ the ports
    def account(self, customer_id: str) -> Account | None:
        return self.accounts.get(customer_id)

    def transaction(self, transaction_id: str) -> Transaction | None:
        return self.transactions.get(transaction_id)

    def open_account(self, customer_id: str, customer_type: CustomerType, now: datetime) -> bool:
        if customer_id in self.accounts:
            return False
        self.open(customer_id, 0, customer_type)
        return True

    def record(self, transaction: Transaction, event: TransactionCreated) -> None:
        if self.concurrently is not None:
            other_request, self.concurrently = self.concurrently, None
            other_request()
        self._commit(transaction, event)
        if self.answers_to_lose > 0:
            self.answers_to_lose -= 1
            self._commit(transaction, event)  # the retry, which the committed write cancels

    def mark_event_processed(self, event: TransactionCreated, now: datetime) -> None:
        if event.transaction_id in self.unmarkable:
            raise RuntimeError(f"the store refused to mark {event.transaction_id}")
        if event.transaction_id not in self.transactions:
            raise LookupError(f"no transaction {event.transaction_id}")
        self.pending.pop(event.transaction_id, None)

    def pending_events(
        self, older_than: datetime, limit: int = 100, since: str | None = None
    ) -> list[FakePendingEvent]:
        return _pending(self.pending, older_than, limit, since)

    # ------------------------------------------------------------ the conditional write
    def _commit(self, transaction: Transaction, event: TransactionCreated) -> None:
        """The store's conditions, and its precedence when several fail: the transaction's,
        then the debit's, then the credit's."""
        if transaction.id in self.transactions:
            raise DuplicateTransaction(transaction.id)
        amount, payer_id = transaction.amount, transaction.payer_id
        payer = self.accounts.get(payer_id) if payer_id is not None else None
        if payer_id is not None:
            if payer is None:
                raise NoAccount(payer_id)
            refusal = debit_refusal(payer, amount)
            if refusal is not None:
                raise refusal
        payee = self.accounts.get(transaction.payee_id)
        if payee is None:
            raise NoAccount(transaction.payee_id)
        if payer is not None:
            self.accounts[payer.customer_id] = replace(payer, balance=payer.balance - amount)
        self.accounts[payee.customer_id] = replace(payee, balance=payee.balance + amount)
        self.transactions[transaction.id] = transaction
        self.pending[transaction.id] = FakePendingEvent(event.event_id, event.occurred_at.isoformat(), event)
        self.writes_committed += 1


@dataclass
class FakeCustomers:
    """The customers table: profiles, their uniqueness, the CustomerRegistered outbox."""

    profiles: dict[str, Customer] = field(default_factory=dict)
    outbox: dict[str, FakePendingEvent] = field(default_factory=dict)  # by event id, while pending
    processed: set[str] = field(default_factory=set)  # event ids
    # Raised by the next activations, one each: a crash (or a throttled request) on that step.
    activation_failures: list[Exception] = field(default_factory=list)

    def register(self, customer_id: str, type: CustomerType = CustomerType.INDIVIDUAL) -> Customer:
        """A customer as registration leaves it: pending, its event in the outbox."""
        customer = Customer(
            id=customer_id,
            name="Ana Souza",
            email=f"{customer_id}@example.com",
            document=f"doc-{customer_id}",
            type=type,
            status=CustomerStatus.PENDING,
            created_at=NOW,
        )
        self.add(
            customer,
            CustomerRegistered(
                event_id=f"event-{customer_id}", occurred_at=NOW, customer_id=customer_id, type=type
            ),
        )
        return customer

    # ------------------------------------------------------------ the ports
    def get(self, customer_id: str) -> Customer | None:
        return self.profiles.get(customer_id)

    def add(self, customer: Customer, event: CustomerRegistered) -> None:
        taken = {
            name
            for other in self.profiles.values()
            for name, mine, theirs in (
                ("email", customer.email, other.email),
                ("document", customer.document, other.document),
            )
            if mine == theirs
        }
        if customer.id in self.profiles:
            if self.profiles[customer.id] == customer:
                return  # this registration's own write, its answer lost and then retried
            raise CustomerAlreadyExists("you are already registered as a customer")
        if taken:
            raise CustomerAlreadyExists(f"a customer with this {' and '.join(sorted(taken))} already exists")
        self.profiles[customer.id] = customer
        self.outbox[event.event_id] = FakePendingEvent(event.event_id, event.occurred_at.isoformat(), event)

    def activate(self, event: CustomerRegistered, now: datetime) -> bool:
        if self.activation_failures:
            raise self.activation_failures.pop(0)
        customer = self.profiles.get(event.customer_id)
        if customer is None:
            raise CustomerNotFound(f"customer {event.customer_id} does not exist")
        if event.event_id in self.processed:
            return False
        self.profiles[customer.id] = replace(customer, status=CustomerStatus.ACTIVE)
        self.processed.add(event.event_id)
        self.outbox.pop(event.event_id, None)
        return True

    def pending_events(
        self, older_than: datetime, limit: int = 100, since: str | None = None
    ) -> list[FakePendingEvent]:
        return _pending(self.outbox, older_than, limit, since)


@dataclass
class FakeStatements:
    """Statement entries, one per (customer, transaction); the profiles are the customers'."""

    customers: FakeCustomers = field(default_factory=FakeCustomers)
    entries: dict[tuple[str, str], StatementEntry] = field(default_factory=dict)
    writes: int = 0
    reads: int = 0
    # Transaction ids whose keys the store refuses: a read or a write holding one fails whole.
    refused: set[str] = field(default_factory=set)
    # Raised by the next writes, one each (a throttled store: StoreBusy).
    write_failures: list[Exception] = field(default_factory=list)

    def of(self, customer_id: str) -> list[StatementEntry]:
        return self.page(customer_id, 100, None).entries

    # ------------------------------------------------------------ the ports
    def record(self, entries: Sequence[StatementEntry], now: datetime) -> None:
        self.writes += 1
        if self.write_failures:
            raise self.write_failures.pop(0)
        if any(entry.transaction_id in self.refused for entry in entries):
            raise ValueError("the store refused an item of this write")
        for entry in entries:
            self.entries[entry.customer_id, entry.transaction_id] = entry

    def page(self, customer_id: str, limit: int, cursor: str | None) -> StatementPage:
        mine = sorted(
            (entry for (owner, _), entry in self.entries.items() if owner == customer_id),
            key=lambda entry: (entry.occurred_at, entry.transaction_id),
            reverse=True,
        )
        start = 0
        if cursor is not None:
            owner, _, position = cursor.partition(":")
            if owner != customer_id or not position.isdigit():
                raise InvalidCursor("cursor does not belong to this statement")
            start = int(position)
        end = start + limit
        return StatementPage(mine[start:end], f"{customer_id}:{end}" if end < len(mine) else None)

    def entries_with_profiles(
        self, entry_keys: Sequence[EntryKey], profile_ids: Sequence[str]
    ) -> tuple[list[StatementEntry], dict[str, Customer]]:
        self.reads += 1
        if any(key.transaction_id in self.refused for key in entry_keys):
            raise ValueError("the store refused a key of this read")
        found = [
            entry
            for key in entry_keys
            if (entry := self.entries.get((key.customer_id, key.transaction_id))) is not None
            and entry.occurred_at == key.occurred_at
        ]
        profiles = {id: profile for id in profile_ids if (profile := self.customers.get(id)) is not None}
        return found, profiles


@dataclass
class FakeEmailBus:
    """Every message published, in order; ``failures`` are raised by the next requests, one each."""

    published: list[tuple[str, Mapping[str, str]]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    requests: int = 0

    def publish(self, messages: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        self.requests += 1
        if self.failures:
            raise self.failures.pop(0)
        self.published.extend(messages)


@dataclass
class FakeAuthorizer:
    """Allows, unless told to refuse with ``refusal``; counts the questions."""

    refusal: WalletError | None = None
    asked: int = 0

    def authorize(self) -> None:
        self.asked += 1
        if self.refusal is not None:
            raise self.refusal
