"""The base of every item of both tables: generic keys, what entity it is, the ``pending`` index.

Every item is keyed by a generic partition and sort key (``pk``/``sk``, e.g.
``CUSTOMER#<id>``/``PROFILE``), so one table holds several entities (the tables' layout:
docs/architecture.md, "Bounded contexts and tables"). An item still waiting for a consumer (an
outbox event, a transaction whose event is not applied yet) is in the sparse ``pending``
index, whose partition key is spread over PENDING_SHARDS values (``outbox#3``): with a single
value, every money movement would write the same index partition, and its ~1,000 writes/s
would cap the whole ledger.
"""

import zlib
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

PENDING_INDEX = "pending"
PENDING_SHARDS = 8


class PendingIndex(GlobalSecondaryIndex["StoredItem"]):
    """Sparse: only items still waiting for a consumer carry ``pending_kind``."""

    class Meta:
        index_name = PENDING_INDEX
        projection = AllProjection()

    pending_kind = UnicodeAttribute(hash_key=True)
    pending_since = UnicodeAttribute(range_key=True)


class StoredItem(Model):
    """Every item of both tables: a generic partition and sort key, and what entity it is."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute()
    pending_kind = UnicodeAttribute(null=True)
    pending_since = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    pending = PendingIndex()

    def mark_pending(self, kind: str, item_id: str, since: datetime) -> None:
        """Enter the sparse ``pending`` index, in the shard ``item_id`` falls in."""
        self.pending_kind = f"{kind}#{zlib.crc32(item_id.encode()) % PENDING_SHARDS}"
        self.pending_since = since.isoformat()
