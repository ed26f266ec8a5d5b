"""The safety net of the outbox: finish, on a schedule, every event still pending.

The stream consumer (``functions/sync``) applies the events as they are written; the sweeper
finishes whatever is still pending after a grace period (stream retries exhausted, a crash
between two steps, records older than the stream's 24 h retention), a page at a time,
through the very same ``EventDispatcher`` and its idempotent handlers.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wallet.events import Event
from wallet.observability import MetricUnit, logger, metrics
from wallet.service.clock import utc_now
from wallet.service.event_dispatcher import EventDispatcher
from wallet.service.ports import PendingEvent, PendingEvents

# Long enough that the stream consumer normally gets there first (it takes ~1 s).
DEFAULT_GRACE = timedelta(minutes=2)
# Pending items read per table per page: each page is one query per shard of the index.
SWEEP_PAGE_SIZE = 100


@dataclass(frozen=True)
class SweepReport:
    events_applied: int
    events_failed: int
    oldest_pending_outbox_age_seconds: float


class OutboxSweeper:
    def __init__(
        self,
        dispatcher: EventDispatcher,
        backlogs: Sequence[PendingEvents],
        *,
        now: Callable[[], datetime] = utc_now,
        page_size: int = SWEEP_PAGE_SIZE,
    ) -> None:
        """``backlogs``: each table's pending events (the customers', the ledger's), swept in order."""
        self._dispatcher = dispatcher
        self._backlogs = backlogs
        self._now = now
        self._page_size = page_size

    def sweep(
        self, grace: timedelta = DEFAULT_GRACE, has_time: Callable[[], bool] = lambda: True
    ) -> SweepReport:
        """Finish what waited longer than ``grace``; one failure never stops the others.

        Reads each backlog page after page, oldest first, while ``has_time()``: a backlog
        left by an outage clears in one run, and items that keep failing are read past,
        never blocking the ones behind them.
        """
        older_than = self._now() - grace
        outbox = [self._drain(backlog, older_than, has_time) for backlog in self._backlogs]
        now = self._now()
        report = SweepReport(
            events_applied=sum(done for done, _ in outbox),
            events_failed=sum(failed for _, failed in outbox),
            oldest_pending_outbox_age_seconds=_age(self._oldest_pending_event(now), now),
        )
        self._record_metrics(report)
        return report

    def _drain(
        self, backlog: PendingEvents, older_than: datetime, has_time: Callable[[], bool]
    ) -> tuple[int, int]:
        """Attempt each pending event once, page after page: (applied, failed)."""
        outcomes: dict[str, bool] = {}
        since: str | None = None
        while True:
            page = backlog.pending_events(older_than, self._page_size, since)
            fresh = [item for item in page if item.event_id not in outcomes]
            outcomes.update(self._attempt(fresh))
            # A short page was the last; a page with nothing new (all seen, or read from the
            # head again with only failures in it) would come back the same.
            if len(page) < self._page_size or not fresh or not has_time():
                break
            since = page[-1].pending_since
        applied = sum(outcomes.values())
        return applied, len(outcomes) - applied

    def _attempt(self, items: Sequence[PendingEvent]) -> dict[str, bool]:
        """Apply the items' events together, once each: whether each was applied, by event id.

        One that fails is left pending: the next sweep retries, and the age alarm tells an
        operator (the dispatcher logs why)."""
        events: dict[str, Event] = {}
        for item in items:
            try:
                events[item.event_id] = item.event()
            except Exception:
                logger.exception("sweep could not read event", extra={"event_id": item.event_id})
        left = {event.event_id for event in self._dispatcher.apply_all(list(events.values()))}
        outcomes = dict.fromkeys((item.event_id for item in items), False)  # unreadable: failed
        for item_id, event in events.items():
            outcomes[item_id] = event.event_id not in left
        return outcomes

    def _oldest_pending_event(self, now: datetime) -> datetime | None:
        # Each list is oldest first (the index's sort key), so its head is its oldest.
        heads = [
            datetime.fromisoformat(items[0].pending_since)
            for items in (backlog.pending_events(now, limit=1) for backlog in self._backlogs)
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
        metrics.add_metric(name="SweepEventsApplied", unit=MetricUnit.Count, value=report.events_applied)
        metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=report.events_failed)


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
