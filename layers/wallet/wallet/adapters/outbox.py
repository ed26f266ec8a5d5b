"""The transactional outbox, as items in each context's own table.

An outbox item is written in the same TransactWriteItems as the change it announces. It
stays ``pending`` (and visible in the sparse ``pending`` index) until a consumer has
applied it; then it is marked ``processed`` and given a time-to-live, since from then on
it only serves deduplication.

Items enter the sparse ``pending`` index with ``StoredItem.mark_pending`` and leave it with
``left_pending``; the sweeper reads it with ``pending_items``, across every shard.
"""

from datetime import datetime, timedelta
from typing import Self

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.update import Action

from wallet.adapters.stored_item import PENDING_SHARDS, StoredItem
from wallet.events import CustomerRegistered, TransactionCreated, parse_event

OUTBOX_ENTITY = "outbox"
# Items a consumer applies as events: outbox items, and ledger transactions, which carry
# their TransactionCreated themselves (one item write per transfer less).
EVENT_CARRIERS = frozenset({OUTBOX_ENTITY, "transaction"})
PROCESSED_RETENTION = timedelta(days=30)


class OutboxItem(StoredItem):
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    payload = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    processed_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, event_id: str) -> Self:
        return cls(pk=f"EVENT#{event_id}", sk="EVENT")

    @classmethod
    def pending_event(cls, event: CustomerRegistered | TransactionCreated) -> Self:
        item = cls.key(event.event_id)
        item.entity = OUTBOX_ENTITY
        item.event_id = event.event_id
        item.event_type = event.event_type
        item.payload = event.model_dump_json()
        item.status = "pending"
        item.created_at = event.occurred_at
        item.mark_pending(OUTBOX_ENTITY, event.event_id, event.occurred_at)
        return item

    def event(self) -> CustomerRegistered | TransactionCreated:
        return parse_event(self.payload)


def processed_actions(model: type[OutboxItem], now: datetime) -> list[Action]:
    """Mark an outbox item processed and let it expire once it can no longer be redelivered."""
    return [
        model.status.set("processed"),
        model.processed_at.set(now),
        *left_pending(model),
        model.expires_at.set(int((now + PROCESSED_RETENTION).timestamp())),
    ]


def left_pending(model: type[StoredItem]) -> list[Action]:
    """Leave the sparse ``pending`` index: nothing waits for a consumer any more."""
    return [model.pending_kind.remove(), model.pending_since.remove()]


def pending_items[Item: StoredItem](
    model: type[Item], kind: str, older_than: datetime, limit: int = 100, since: str | None = None
) -> list[Item]:
    """Items of ``kind`` pending since before ``older_than`` (and at or after ``since``, a
    ``pending_since`` of a page read before), oldest first, across every shard."""
    condition = (
        model.pending_since.between(since, older_than.isoformat())
        if since is not None
        else model.pending_since < older_than.isoformat()
    )
    found = [
        item
        for shard in range(PENDING_SHARDS)
        for item in model.pending.query(f"{kind}#{shard}", condition, limit=limit)
        if isinstance(item, model)
    ]
    return sorted(found, key=lambda item: item.pending_since or "")[:limit]
