"""Statements, in the customers table.

One item per (customer, transaction): ``pk = CUSTOMER#<id>`` next to the profile, and a sort
key that sorts by time then transaction id, so a customer's statement is one Query read
backwards (newest first). The entries of a batch of events are written together, 25 to a
BatchWriteItem; a replayed event writes the same entries again (only ``recorded_at``
moves). An entry keeps no notification state: the ledger's outbox event stays pending until
its notifications are published, so the outbox is what a crash leaves for the sweeper
(docs/architecture.md, "The event pipeline").
"""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Self

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from wallet.adapters.customers_store import PROFILE_SK, CustomerItem
from wallet.adapters.dynamodb import bind_models, read_together, write_together
from wallet.adapters.stored_item import StoredItem
from wallet.domain.customers import Customer
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import Direction, StatementEntry
from wallet.service.ports import EntryKey, InvalidCursor, StatementPage

STATEMENT_ENTITY = "statement_entry"
_ENTRY_PREFIX = "ENTRY#"
_CUSTOMER_PREFIX = "CUSTOMER#"
# Fixed width, always UTC: sort keys must sort as the instants they name.
_SORTABLE_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class StatementEntryItem(StoredItem):
    transaction_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    direction = UnicodeAttribute()
    amount = NumberAttribute()
    counterparty_id = UnicodeAttribute(null=True)
    occurred_at = UTCDateTimeAttribute()
    recorded_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, customer_id: str, occurred_at: datetime, transaction_id: str) -> Self:
        when = occurred_at.astimezone(UTC).strftime(_SORTABLE_TIME)
        return cls(pk=f"{_CUSTOMER_PREFIX}{customer_id}", sk=f"{_ENTRY_PREFIX}{when}#{transaction_id}")

    @classmethod
    def key_of(cls, entry: StatementEntry) -> Self:
        return cls.key(entry.customer_id, entry.occurred_at, entry.transaction_id)

    @classmethod
    def from_domain(cls, entry: StatementEntry, now: datetime) -> Self:
        item = cls.key_of(entry)
        item.entity = STATEMENT_ENTITY
        item.transaction_id = entry.transaction_id
        item.kind = entry.kind.value
        item.direction = entry.direction.value
        item.amount = entry.amount
        item.counterparty_id = entry.counterparty_id
        item.occurred_at = entry.occurred_at
        item.recorded_at = now
        return item

    def to_domain(self) -> StatementEntry:
        return StatementEntry(
            customer_id=self.pk.removeprefix(_CUSTOMER_PREFIX),
            transaction_id=self.transaction_id,
            kind=TransactionKind(self.kind),
            direction=Direction(self.direction),
            amount=int(self.amount),
            counterparty_id=self.counterparty_id,
            occurred_at=self.occurred_at,
        )


STATEMENT_MODELS = (StatementEntryItem,)


class StatementStore:
    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._connection = bind_models(STATEMENT_MODELS, table_name, host)
        self._table_name = table_name

    def record(self, entries: Sequence[StatementEntry], now: datetime) -> None:
        """Write the entries together (``write_together``: 25 to a request; StoreBusy when
        DynamoDB throttles).

        Plain puts, at half the cost of a transaction's: an entry is derived from its event
        alone, so writing it again (a replay) writes the same entry (its ``recorded_at``
        aside), and a crash between two entries is finished by the retry that writes both.
        """
        write_together(StatementEntryItem, (StatementEntryItem.from_domain(entry, now) for entry in entries))

    def entries_with_profiles(
        self, entry_keys: Sequence[EntryKey], profile_ids: Sequence[str]
    ) -> tuple[list[StatementEntry], dict[str, Customer]]:
        """The entries and the profiles that exist (profiles by id): ONE read for up to 100 keys
        (a notify batch of 10 needs at most 30), since they all live in the customers table."""
        keys = [
            *(
                StatementEntryItem.key(key.customer_id, key.occurred_at, key.transaction_id)
                for key in entry_keys
            ),
            *(CustomerItem.key(profile_id) for profile_id in profile_ids),
        ]
        found: list[StatementEntry] = []
        profiles: dict[str, Customer] = {}
        for raw in read_together(self._connection, self._table_name, keys):
            if raw["sk"]["S"] == PROFILE_SK:
                customer = CustomerItem.from_raw_data(raw).to_domain()
                profiles[customer.id] = customer
            else:
                found.append(StatementEntryItem.from_raw_data(raw).to_domain())
        return found, profiles

    def page(self, customer_id: str, limit: int, cursor: str | None) -> StatementPage:
        """One page of a customer's statement, newest first."""
        pk = f"{_CUSTOMER_PREFIX}{customer_id}"
        start = decode_cursor(cursor, pk) if cursor is not None else None
        query = StatementEntryItem.query(
            pk,
            StatementEntryItem.sk.startswith(_ENTRY_PREFIX),
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        entries = [item.to_domain() for item in query]
        last_key = query.last_evaluated_key
        return StatementPage(entries, encode_cursor(last_key) if last_key else None)


def encode_cursor(last_evaluated_key: dict[str, Any]) -> str:
    """Opaque to clients: base64url of the LastEvaluatedKey's JSON."""
    text = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, pk: str) -> dict[str, Any]:
    """The LastEvaluatedKey back; only one of this customer's statement keys is accepted."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        key = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor("cursor is not valid") from error
    if not isinstance(key, dict) or set(key) != {"pk", "sk"}:
        raise InvalidCursor("cursor is not valid")
    if key["pk"] != {"S": pk} or not _is_entry_key(key["sk"]):
        raise InvalidCursor("cursor does not belong to this statement")
    return key


def _is_entry_key(value: object) -> bool:
    if not isinstance(value, dict) or set(value) != {"S"}:
        return False
    sk = value["S"]
    return isinstance(sk, str) and sk.startswith(_ENTRY_PREFIX) and len(sk) < 256
