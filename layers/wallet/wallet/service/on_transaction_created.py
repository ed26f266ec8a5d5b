"""Where a TransactionCreated goes: both parties' statements, their notifications, done.

Step by step: write the statement entries (one request), publish their notifications (one
request), mark the event processed in the ledger. The event stays pending until the last
step, so a stream retry or the sweeper starts over after a crash at any point, and every
step may be repeated: an entry written again is the same entry, a notification is e-mailed
once (``wallet.service.notifications``).
"""

from collections.abc import Callable
from datetime import datetime

from wallet.domain.statements import StatementEntry, statement_entries
from wallet.events import TransactionCreated
from wallet.observability import logger
from wallet.service.clock import utc_now
from wallet.service.notifications import publish_notifications
from wallet.service.ports import EmailBus, ProcessedTransactions, StatementWriter


def entries_of(event: TransactionCreated) -> list[StatementEntry]:
    return statement_entries(
        transaction_id=event.transaction_id,
        kind=event.kind,
        payer_id=event.payer_id,
        payee_id=event.payee_id,
        amount=event.amount,
        occurred_at=event.occurred_at,
    )


def apply_transaction_created(
    event: TransactionCreated,
    ledger: ProcessedTransactions,
    statements: StatementWriter,
    bus: EmailBus,
    now: Callable[[], datetime] = utc_now,
) -> None:
    """All three steps for one TransactionCreated; the event is marked processed last.

    Both parties' entries, then their notifications (a replay writes and publishes the same
    again: the entries are keyed by transaction, notify deduplicates), then the mark."""
    entries = entries_of(event)
    statements.record(entries, now())
    published = publish_notifications(entries, bus)
    ledger.mark_event_processed(event, now())
    logger.info(
        "transaction created applied",
        extra={"transaction_id": event.transaction_id, "published": published},
    )
