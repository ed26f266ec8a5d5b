"""Where TransactionCreated events go: both parties' statements, their notifications, done.

Step by step: write the statement entries, publish their notifications, mark each event
processed in the ledger. The events of one stream batch (or one sweeper page) share the
first two steps: their entries go 25 to a BatchWriteItem and their notifications 10 to a
PublishBatch, since a request costs about the same whatever it carries. An event stays
pending until its own mark, so a stream retry or the sweeper starts over after a crash at
any point, and every step may be repeated: an entry written again is the same entry, a
notification is e-mailed once (``wallet.service.notifications``).
"""

from collections.abc import Callable, Sequence
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


def apply_transactions_created(
    events: Sequence[TransactionCreated],
    ledger: ProcessedTransactions,
    statements: StatementWriter,
    bus: EmailBus,
    now: Callable[[], datetime] = utc_now,
) -> list[TransactionCreated]:
    """All three steps for these events; each is marked processed last. The events whose
    mark failed are returned (logged here); a failed write or publish raises, leaving every
    one of them pending.

    A replay writes and publishes the same again: the entries are keyed by transaction,
    notify deduplicates."""
    entries = [entry for event in events for entry in entries_of(event)]
    statements.record(entries, now())
    publish_notifications(entries, bus)
    unmarked = [event for event in events if not _marked(event, ledger, now())]
    logger.info(
        "transactions created applied",
        extra={"transactions": len(events), "notifications": len(entries), "unmarked": len(unmarked)},
    )
    return unmarked


def _marked(event: TransactionCreated, ledger: ProcessedTransactions, now: datetime) -> bool:
    try:
        ledger.mark_event_processed(event, now)
    except Exception:
        # Published but still pending: the retry (or the sweeper) publishes again, notify sends once.
        logger.exception("could not mark the event processed", extra={"event_id": event.event_id})
        return False
    return True
