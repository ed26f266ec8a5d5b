"""The safety net of the outbox: finish, on a schedule, every event still pending.

The stream consumer (``functions/sync``) applies each event as it is written; the sweeper
finishes whatever is still pending after a grace period (stream retries exhausted, a crash
between two steps, records older than the stream's 24 h retention), through the very same
``EventDispatcher`` and its idempotent handlers.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

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
        outbox = [
            _drain(self._outbox_backlog(older_than, store.pending_events), self._page_size, has_time)
            for store in self._backlogs
        ]
        now = self._now()
        report = SweepReport(
            events_applied=sum(done for done, _ in outbox),
            events_failed=sum(failed for _, failed in outbox),
            oldest_pending_outbox_age_seconds=_age(self._oldest_pending_event(now), now),
        )
        self._record_metrics(report)
        return report

    def _outbox_backlog(
        self,
        older_than: datetime,
        pending_events: Callable[[datetime, int, str | None], Sequence[PendingEvent]],
    ) -> "_Backlog[PendingEvent]":
        return _Backlog(
            read=lambda since: pending_events(older_than, self._page_size, since),
            key=lambda item: item.event_id,
            since=lambda item: item.pending_since,
            finish=lambda item: self._dispatcher.apply(item.event()),
            # Left pending: the next sweep retries, and the age alarm tells an operator.
            failure="sweep could not apply event",
            key_name="event_id",
        )

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


@dataclass(frozen=True)
class _Backlog[Item]:
    """One kind of pending work, read oldest first, a page at a time."""

    read: Callable[[str | None], Sequence[Item]]  # a page, from the head or from a ``since`` on
    key: Callable[[Item], str]
    since: Callable[[Item], str | None]  # where a page after this item starts (None: the head)
    finish: Callable[[Item], object]  # raises if it could not
    failure: str
    key_name: str

    def attempt(self, item: Item) -> bool:
        try:
            self.finish(item)
        except Exception:
            logger.exception(self.failure, extra={self.key_name: self.key(item)})
            return False
        return True


def _drain[Item](backlog: _Backlog[Item], page_size: int, has_time: Callable[[], bool]) -> tuple[int, int]:
    """Attempt each pending item once, page after page: (finished, failed)."""
    outcomes: dict[str, bool] = {}
    since: str | None = None
    while True:
        page = backlog.read(since)
        fresh = [item for item in page if backlog.key(item) not in outcomes]
        for item in fresh:
            outcomes[backlog.key(item)] = backlog.attempt(item)
        # A short page was the last; a page with nothing new (all seen, or read from the head
        # again with only failures in it) would come back the same.
        if len(page) < page_size or not fresh or not has_time():
            break
        since = backlog.since(page[-1])
    finished = sum(outcomes.values())
    return finished, len(outcomes) - finished


def _age(since: datetime | None, now: datetime) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
