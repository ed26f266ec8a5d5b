"""Statements: apply a TransactionCreated to both parties' statements, and read them back.

``apply_transaction_created`` is the seed's background worker for one event, step by step:
write the statement entries (one request), publish their notifications (one request), mark
the event processed in the ledger. The event stays pending until the last step, so a stream
retry or the sweeper starts over after a crash at any point, and every step may be
repeated: an entry written again is the same entry, a notification is e-mailed once.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from wallet.adapters.statement_store import StatementPage
from wallet.domain.statements import StatementEntry, statement_entries
from wallet.events import TransactionCreated
from wallet.observability import logger
from wallet.service.clock import utc_now
from wallet.service.notifications import EmailBus, Profiles, publish_notifications
from wallet.service.queries import own_customer

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Statements(Protocol):
    def record(self, entries: Sequence[StatementEntry], now: datetime) -> None: ...


class EventLog(Protocol):
    def mark_event_processed(self, event: TransactionCreated, now: datetime) -> None: ...


def entries_of(event: TransactionCreated) -> list[StatementEntry]:
    return statement_entries(
        transaction_id=event.transaction_id,
        kind=event.kind,
        payer_id=event.payer_id,
        payee_id=event.payee_id,
        amount=event.amount,
        occurred_at=event.occurred_at,
    )


def record_statement(
    event: TransactionCreated, statements: Statements, now: Callable[[], datetime] = utc_now
) -> None:
    """Step 1: both parties' entries; a replay writes the same entries again."""
    statements.record(entries_of(event), now())


def apply_transaction_created(
    event: TransactionCreated,
    ledger: EventLog,
    statements: Statements,
    bus: EmailBus,
    now: Callable[[], datetime] = utc_now,
) -> None:
    """The seed's steps for one TransactionCreated; the event is marked processed last."""
    record_statement(event, statements, now)
    published = publish_notifications(entries_of(event), bus)
    ledger.mark_event_processed(event, now())
    logger.info(
        "transaction created applied",
        extra={"transaction_id": event.transaction_id, "published": published},
    )


class StatementReader(Protocol):
    def page(self, customer_id: str, limit: int, cursor: str | None) -> StatementPage: ...


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
