"""``item_writes_per_transfer``, ``kb_written_per_transfer`` and the on-demand write cost.

Measured, not assumed: every item write of every table the app writes is read back from
the tables' DynamoDB streams. The ledger and customers tables have streams (the outbox
consumer reads them); the idempotency table of ``notify`` has none, so the benchmark turns
one on in its own throw-away stack (``UpdateTable``) before the transfers. Each stream
record (INSERT, MODIFY, REMOVE) written while N transfers went through the whole pipeline
is one item write; its size is computed from its images with DynamoDB's sizing rules.

Billing as DynamoDB on-demand does it: a standard write costs 1 write request unit per
1 KB (rounded up) of the larger of the item before and after; a write inside
TransactWriteItems costs 2. A write that adds, changes or removes an entry of a global
secondary index costs that index 1 unit per KB more (2 when the entry moves), always at
the standard rate. The stream cannot say which writes were transactional: that comes from
the code's write paths (``WRITE_PATHS``), and a record that matches none is reported.

ministack reports ``SizeBytes`` 0 in its stream records, so sizes are computed here; it
never emits a record for an update that changes nothing (neither does DynamoDB) and
conditional writes that fail leave no record (DynamoDB bills them all the same): the
figures are the happy path's.
"""

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Result, aws_client, wait_until
from benchmarks.cost import PRICES
from benchmarks.wallet_api import WalletApi
from devstack.progress import Progress
from devstack.template import template_document
from devstack.wallet_client import Customer

# The prices, with the date they were read, are cost's one table.
PRICE_PER_MILLION_WRU_USD = PRICES["dynamodb_write_units"].usd * 1_000_000
PRICE_PER_GB_MONTH_USD = PRICES["dynamodb_storage_gb_month"].usd
KB = 1024
# Every transfer writes the same items, so a few dozen give the per-transfer write units
# exactly; more would only lengthen the stream read.
TRANSFERS = 30
# DynamoDB bills 100 bytes of overhead per stored item on top of its attributes.
ITEM_STORAGE_OVERHEAD_BYTES = 100
# Stack output -> short name; the template logical id gives the table's indexes.
TABLES = {
    "ledger": ("LedgerTableName", "LedgerTable"),
    "customers": ("CustomersTableName", "CustomersTable"),
    "idempotency": ("IdempotencyTableName", "IdempotencyTable"),
}


@dataclass(frozen=True)
class WritePath:
    transactional: bool
    what: str


# (table, entity, event) -> how the code writes it. "*" matches any entity.
WRITE_PATHS: Mapping[tuple[str, str, str], WritePath] = {
    ("ledger", "account", "MODIFY"): WritePath(True, "debit / credit (the transfer's TransactWriteItems)"),
    ("ledger", "transaction", "INSERT"): WritePath(
        True, "the transaction, carrying its TransactionCreated (same TransactWriteItems)"
    ),
    ("ledger", "transaction", "MODIFY"): WritePath(False, "sync marks the event processed (UpdateItem)"),
    ("customers", "statement_entry", "INSERT"): WritePath(
        False, "both statement entries (one BatchWriteItem)"
    ),
    ("idempotency", "*", "INSERT"): WritePath(False, "notify: Powertools INPROGRESS record (PutItem)"),
    ("idempotency", "*", "MODIFY"): WritePath(False, "notify: Powertools COMPLETED record (UpdateItem)"),
}


# ---------------------------------------------------------------------------- item size


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """DynamoDB's size of one attribute value (the documented rules)."""
    kind, content = next(iter(value.items()))
    sizer = _SIZERS.get(kind)
    if sizer is None:
        raise ValueError(f"unknown attribute type {kind}")
    return sizer(content)


_SIZERS: dict[str, Callable[[Any], int]] = {
    "S": lambda content: len(str(content).encode()),
    "N": lambda content: _number_size(str(content)),
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "SS": lambda content: sum(len(str(item).encode()) for item in content),
    "NS": lambda content: sum(_number_size(str(item)) for item in content),
    "BS": lambda content: sum(len(item) for item in content),
    "L": lambda content: 3 + sum(1 + value_size(item) for item in content),
    "M": lambda content: 3 + sum(1 + len(name.encode()) + value_size(item) for name, item in content.items()),
}


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _units(size: int) -> int:
    return max(1, math.ceil(size / KB))


# ---------------------------------------------------------------------------- streams


class Streams:
    def __init__(self, endpoint: str, tables: Mapping[str, str]) -> None:
        self._dynamodb = aws_client("dynamodb", endpoint)
        self._streams = aws_client("dynamodbstreams", endpoint)
        self.tables = dict(tables)

    def ensure_stream(self, short_name: str) -> bool:
        """Turn on a NEW_AND_OLD_IMAGES stream if the table has none; True if it did."""
        table = self.tables[short_name]
        description = self._dynamodb.describe_table(TableName=table)["Table"]
        if description.get("StreamSpecification", {}).get("StreamEnabled"):
            return False
        self._dynamodb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        wait_until(lambda: True if self._stream_arn(table) else None, 30)  # enabled in about a second
        return True

    def _stream_arn(self, table: str) -> str | None:
        arn: str | None = self._dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
        return arn

    def records(self, short_name: str) -> list[dict[str, Any]]:
        """Every record the table's stream still holds, oldest first."""
        arn = self._stream_arn(self.tables[short_name])
        if arn is None:
            return []
        records: list[dict[str, Any]] = []
        for shard in self._shards(arn):
            iterator = self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                records.extend(page["Records"])
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return sorted(records, key=lambda record: int(record["dynamodb"]["SequenceNumber"]))

    def _shards(self, arn: str) -> list[str]:
        shards: list[str] = []
        start: dict[str, str] = {}
        while True:
            description = self._streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
            shards.extend(shard["ShardId"] for shard in description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            start = {"ExclusiveStartShardId": last}

    def high_water_marks(self) -> dict[str, int]:
        return {
            name: max((int(r["dynamodb"]["SequenceNumber"]) for r in self.records(name)), default=0)
            for name in self.tables
        }

    def since(self, marks: Mapping[str, int]) -> dict[str, list[dict[str, Any]]]:
        return {
            name: [r for r in self.records(name) if int(r["dynamodb"]["SequenceNumber"]) > marks[name]]
            for name in self.tables
        }


# ---------------------------------------------------------------------------- analysis


def _index_keys(logical_id: str) -> list[tuple[str, list[str]]]:
    properties = template_document()["Resources"][logical_id]["Properties"]
    return [
        (index["IndexName"], [key["AttributeName"] for key in index["KeySchema"]])
        for index in properties.get("GlobalSecondaryIndexes", [])
    ]


def _index_units(keys: Sequence[str], old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> int:
    """Write units one GSI (projection ALL) costs for this item write."""
    was = old is not None and all(key in old for key in keys)
    now = new is not None and all(key in new for key in keys)
    if not was and not now:
        return 0
    if not was:
        return _units(item_size(new))
    if not now:
        return _units(item_size(old))
    assert old is not None
    assert new is not None
    if any(old[key] != new[key] for key in keys):
        return _units(item_size(old)) + _units(item_size(new))
    return 0 if old == new else max(_units(item_size(old)), _units(item_size(new)))


def _entity(record: Mapping[str, Any]) -> str:
    images = record["dynamodb"]
    image = images.get("NewImage") or images.get("OldImage") or {}
    entity = image.get("entity", {}).get("S")
    if entity:
        return str(entity)
    keys: dict[str, dict[str, Any]] = images.get("Keys", {})
    first = next(iter(keys.values()), None)
    key = str(first.get("S", "")) if first else ""
    return key.split("#", 1)[0].lower() if "#" in key else "*"


def analyse(records: Mapping[str, Sequence[Mapping[str, Any]]], transfers: int) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"writes": 0, "bytes": 0, "wru": 0, "gsi_wru": 0, "transactional": False, "what": ""}
    )
    unclassified: list[str] = []
    for table, table_records in records.items():
        indexes = _index_keys(TABLES[table][1])
        for record in table_records:
            event, entity = record["eventName"], _entity(record)
            path = WRITE_PATHS.get((table, entity, event)) or WRITE_PATHS.get((table, "*", event))
            if path is None:
                unclassified.append(f"{table} {entity} {event}")
                path = WritePath(False, "not a known write path (billed as a standard write)")
            old, new = record["dynamodb"].get("OldImage"), record["dynamodb"].get("NewImage")
            size = max(item_size(old), item_size(new))
            kind = kinds[f"{table} {entity} {event}"]
            kind["writes"] += 1
            kind["bytes"] += size
            kind["wru"] += _units(size) * (2 if path.transactional else 1)
            kind["gsi_wru"] += sum(_index_units(keys, old, new) for _, keys in indexes)
            kind["transactional"], kind["what"] = path.transactional, path.what
    writes = sum(kind["writes"] for kind in kinds.values())
    written = sum(kind["bytes"] for kind in kinds.values())
    wru = sum(kind["wru"] + kind["gsi_wru"] for kind in kinds.values())
    per_kind = {
        name: {
            "per_transfer": round(kind["writes"] / transfers, 3),
            "avg_bytes": round(kind["bytes"] / kind["writes"]),
            "wru_per_transfer": round((kind["wru"] + kind["gsi_wru"]) / transfers, 3),
            "gsi_wru_per_transfer": round(kind["gsi_wru"] / transfers, 3),
            "transactional": kind["transactional"],
            "what": kind["what"],
        }
        for name, kind in sorted(kinds.items())
    }
    return {
        "item_writes_per_transfer": round(writes / transfers, 3),
        "kb_written_per_transfer": round(written / KB / transfers, 3),
        "wru_per_transfer": round(wru / transfers, 3),
        "per_kind": per_kind,
        "unclassified": sorted(set(unclassified)),
    }


def _stored_bytes_per_transfer(records: Mapping[str, Sequence[Mapping[str, Any]]], transfers: int) -> float:
    """Bytes each transfer adds to storage: the last image of every item it created, with
    DynamoDB's per-item overhead, before any time-to-live removes it."""
    created: dict[tuple[str, str], int] = {}
    for table, table_records in records.items():
        for record in table_records:
            key = (table, repr(sorted(record["dynamodb"].get("Keys", {}).items())))
            if record["eventName"] == "INSERT" or key in created:
                new = record["dynamodb"].get("NewImage")
                created[key] = item_size(new) + ITEM_STORAGE_OVERHEAD_BYTES if new else 0
    return sum(created.values()) / transfers


def run(
    api: WalletApi,
    endpoint: str,
    outputs: Mapping[str, str],
    *,
    payers: Sequence[Customer],
    payees: Sequence[Customer],
    progress: Progress,
    transfers: int = TRANSFERS,
) -> Result:
    streams = Streams(endpoint, {name: outputs[output] for name, (output, _) in TABLES.items()})
    turned_on = [name for name in streams.tables if streams.ensure_stream(name)]
    progress(f"  streams turned on for this run: {', '.join(turned_on) or 'none needed'}")
    api.drain()
    marks = streams.high_water_marks()
    started_at = time.time()
    for number in range(transfers):
        reply = api.transfer(payers[number % len(payers)], payees[number % len(payees)].id, "2.50")
        if reply.status != 201:
            raise RuntimeError(f"transfer answered {reply.status}: {reply.body}")
    api.drain()

    def settled() -> dict[str, list[dict[str, Any]]] | None:
        # notify writes its COMPLETED record after the e-mail: wait until nothing new arrives.
        first = streams.since(marks)
        time.sleep(1.5)  # longer than the pipeline's steps take here: a quiet 1.5 s means done
        second = streams.since(marks)
        return second if sum(map(len, first.values())) == sum(map(len, second.values())) else None

    records = wait_until(
        settled, 60, pause_seconds=0
    )  # settled() pauses itself; a minute is a stuck pipeline
    ended_at = time.time()
    analysed = analyse(records, transfers)
    stored = _stored_bytes_per_transfer(records, transfers)
    wru = analysed["wru_per_transfer"]
    result = Result()
    result.figures["item_writes_per_transfer"] = analysed["item_writes_per_transfer"]
    result.figures["kb_written_per_transfer"] = analysed["kb_written_per_transfer"]
    result.figures["wru_per_transfer"] = wru
    result.figures["write_cost_usd_per_million_transfers"] = round(wru * PRICE_PER_MILLION_WRU_USD, 2)
    result.raw = {
        **analysed,
        "transfers": transfers,
        # When the first transfer was sent and when everything it caused was done (epoch s).
        "window": {"started_at": round(started_at, 3), "ended_at": round(ended_at, 3)},
        "records_per_table": {name: len(table_records) for name, table_records in records.items()},
        "stored_bytes_per_transfer": round(stored),
        "storage_usd_per_million_transfers_per_month": round(
            stored * 1_000_000 / 1024**3 * PRICE_PER_GB_MONTH_USD, 3
        ),
        "price_per_million_wru_usd": PRICE_PER_MILLION_WRU_USD,
        "price_per_gb_month_usd": PRICE_PER_GB_MONTH_USD,
    }
    for name, kind in analysed["per_kind"].items():
        progress(
            f"  {name}: {kind['per_transfer']} per transfer, {kind['avg_bytes']} B, {kind['wru_per_transfer']} WRU"
        )
    return result
