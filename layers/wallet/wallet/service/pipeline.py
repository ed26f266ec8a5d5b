"""The outbox consumer's entry points: apply one event, and sweep what is stuck.

The stream consumer (``sync``) applies each outbox event as it is written; the sweeper,
on a schedule, finishes whatever is still pending after a grace period (stream retries
exhausted, a crash between two steps, records older than the stream's 24 h retention),
through the very same idempotent use cases.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.adapters.outbox import OutboxItem
from wallet.adapters.statement_store import StatementStore
from wallet.domain.statements import StatementEntry
from wallet.events import CustomerRegistered, TransactionCreated
from wallet.observability import MetricUnit, logger, metrics
from wallet.service.clock import utc_now
from wallet.service.notifications import EmailBus, publish_pending
from wallet.service.statements import apply_transaction_created
from wallet.service.sync import apply_customer_registered

# Long enough that the stream consumer normally gets there first (it takes ~1 s).
DEFAULT_GRACE = timedelta(minutes=2)
# Pending items read per table per page: each page is one query per shard of the index.
SWEEP_PAGE_SIZE = 100


@dataclass(frozen=True)
class SweepReport:
    events_applied: int
    events_failed: int
    notifications_published: int
    notifications_failed: int
    oldest_pending_outbox_age_seconds: float
    oldest_pending_notification_age_seconds: float


class Pipeline:
    def __init__(
        self,
        ledger: LedgerStore,
        customers: CustomersStore,
        statements: StatementStore,
        bus: EmailBus,
        *,
        now: Callable[[], datetime] = utc_now,
        page_size: int = SWEEP_PAGE_SIZE,
    ) -> None:
        self._ledger = ledger
        self._customers = customers
        self._statements = statements
        self._bus = bus
        self._now = now
        self._page_size = page_size

    def apply(self, event: CustomerRegistered | TransactionCreated) -> None:
        match event:
            case CustomerRegistered():
                apply_customer_registered(event, self._ledger, self._customers, self._now)
            case TransactionCreated():
                apply_transaction_created(event, self._ledger, self._statements, self._bus, self._now)

    def sweep(
        self, grace: timedelta = DEFAULT_GRACE, has_time: Callable[[], bool] = lambda: True
    ) -> SweepReport:
        """Finish what waited longer than ``grace``; one failure never stops the others.

        Works page after page while pages come back full, something was finished and
        ``has_time()``: a backlog (after an outage) clears in one run, not one page per run.
        """
        older_than = self._now() - grace
        applied, failed = self._drain(self._pending_event_pages(older_than), self._apply_one, has_time)
        published, unpublished = self._drain(
            self._pending_notification_pages(older_than), self._publish_one, has_time
        )
        now = self._now()
        report = SweepReport(
            events_applied=applied,
            events_failed=failed,
            notifications_published=published,
            notifications_failed=unpublished,
            oldest_pending_outbox_age_seconds=_age(self._oldest_pending_event(now), now),
            oldest_pending_notification_age_seconds=_age(self._statements.oldest_pending_since(), now),
        )
        self._record_metrics(report)
        return report

    def _pending_event_pages(self, older_than: datetime) -> Callable[[], list[list[OutboxItem]]]:
        return lambda: [
            list(self._customers.pending_events(older_than, self._page_size)),
            list(self._ledger.pending_events(older_than, self._page_size)),
        ]

    def _pending_notification_pages(self, older_than: datetime) -> Callable[[], list[list[StatementEntry]]]:
        return lambda: [self._statements.pending_notifications(older_than, self._page_size)]

    def _apply_one(self, item: OutboxItem) -> tuple[str, bool]:
        try:
            self.apply(item.event())
        except Exception:
            # Left pending: the next sweep retries, and the age alarm tells an operator.
            logger.exception("sweep could not apply event", extra={"event_id": item.event_id})
            return item.event_id, False
        return item.event_id, True

    def _publish_one(self, entry: StatementEntry) -> tuple[str, bool]:
        try:
            publish_pending([entry], self._statements, self._bus, self._now)
        except Exception:
            logger.exception("sweep could not publish", extra={"notification_id": entry.notification_id})
            return entry.notification_id, False
        return entry.notification_id, True

    def _drain[Pending](
        self,
        pages: Callable[[], list[list[Pending]]],
        finish: Callable[[Pending], tuple[str, bool]],
        has_time: Callable[[], bool],
    ) -> tuple[int, int]:
        """Finish every pending thing, page after page; (finished, still failing), each counted once."""
        finished: dict[str, bool] = {}
        while True:
            fetched = pages()
            progressed = False
            for pending in (item for page in fetched for item in page):
                key, done = finish(pending)
                finished[key] = done
                progressed |= done
            # A full page of only failures would come back the same: stop rather than spin.
            if not (progressed and any(len(page) == self._page_size for page in fetched) and has_time()):
                break
        done_count = sum(finished.values())
        return done_count, len(finished) - done_count

    def _oldest_pending_event(self, now: datetime) -> datetime | None:
        # Each list is oldest first (the index's sort key), so its head is its oldest.
        heads = [
            datetime.fromisoformat(items[0].pending_since)
            for items in (
                self._customers.pending_events(now, limit=1),
                self._ledger.pending_events(now, limit=1),
            )
            if items and items[0].pending_since is not None
        ]
        return min(heads, default=None)

    @staticmethod
    def _record_metrics(report: SweepReport) -> None:
        metrics.add_metric(
            name="OldestPendingOutboxAgeSeconds",
            unit=MetricUnit.Seconds,
            value=report.oldest_pending_outbox_age_seconds,
        )
        metrics.add_metric(
            name="OldestPendingNotificationAgeSeconds",
            unit=MetricUnit.Seconds,
            value=report.oldest_pending_notification_age_seconds,
        )
        metrics.add_metric(name="SweepEventsApplied", unit=MetricUnit.Count, value=report.events_applied)
        failures = report.events_failed + report.notifications_failed
        metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=failures)


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
