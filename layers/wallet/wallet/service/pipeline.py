"""The outbox consumer's entry points: apply one event, and sweep what is stuck.

The stream consumer (``sync``) applies each outbox event as it is written; the sweeper,
on a schedule, finishes whatever is still pending after a grace period (stream retries
exhausted, a crash between two steps, records older than the stream's 24 h retention),
through the very same idempotent use cases.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.adapters.outbox import OutboxItem
from wallet.adapters.statement_store import StatementStore
from wallet.events import CustomerRegistered, TransactionCreated
from wallet.observability import MetricUnit, logger, metrics
from wallet.service.clock import utc_now
from wallet.service.notifications import EmailBus, publish_pending
from wallet.service.statements import apply_transaction_created
from wallet.service.sync import apply_customer_registered

# Long enough that the stream consumer normally gets there first (it takes ~1 s).
DEFAULT_GRACE = timedelta(minutes=2)


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
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._ledger = ledger
        self._customers = customers
        self._statements = statements
        self._bus = bus
        self._now = now

    def apply(self, event: CustomerRegistered | TransactionCreated) -> None:
        match event:
            case CustomerRegistered():
                apply_customer_registered(event, self._ledger, self._customers, self._now)
            case TransactionCreated():
                apply_transaction_created(event, self._ledger, self._statements, self._bus, self._now)

    def sweep(self, grace: timedelta = DEFAULT_GRACE) -> SweepReport:
        """Finish what waited longer than ``grace``; one failure never stops the others."""
        older_than = self._now() - grace
        applied, failed = self._apply_all(self._pending_events(older_than))
        published, unpublished = self._publish_all(older_than)
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

    def _pending_events(self, older_than: datetime) -> list[OutboxItem]:
        return [*self._customers.pending_events(older_than), *self._ledger.pending_events(older_than)]

    def _apply_all(self, items: Iterable[OutboxItem]) -> tuple[int, int]:
        applied = failed = 0
        for item in items:
            try:
                self.apply(item.event())
                applied += 1
            except Exception:
                # Left pending: the next sweep retries, and the age alarm tells an operator.
                logger.exception("sweep could not apply event", extra={"event_id": item.event_id})
                failed += 1
        return applied, failed

    def _publish_all(self, older_than: datetime) -> tuple[int, int]:
        published = failed = 0
        for entry in self._statements.pending_notifications(older_than):
            try:
                published += publish_pending([entry], self._statements, self._bus, self._now)
            except Exception:
                logger.exception("sweep could not publish", extra={"notification_id": entry.notification_id})
                failed += 1
        return published, failed

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
