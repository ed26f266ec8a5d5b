"""PynamoDB plumbing shared by the stores: binding models to tables, atomic writes, and
batch reads and writes (``read_together``, ``write_together``), whose throttling is
``StoreBusy`` like a transaction's.

``AtomicWrite`` wraps PynamoDB's ``TransactWrite`` to give every action a label, so that a
cancellation can say *which* condition failed. PynamoDB sends the actions grouped by kind
(condition checks, deletes, puts, updates), not in the order they were added, and
DynamoDB's ``CancellationReasons`` follow the order sent: the labels are kept in that same
grouping, never in call order.
"""

import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import cache
from typing import Any, Final

from botocore.exceptions import ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from wallet.domain.errors import StoreBusy

# The order in which PynamoDB's TransactWrite._commit sends its action groups.
_SENT_ORDER: Final = ("condition_check", "delete", "put", "update")
_CONDITION_FAILED = "ConditionalCheckFailed"
# An item in DynamoDB's wire format, as a cancellation reason carries it.
RawItem = dict[str, dict[str, Any]]
# Reasons that say "not now" rather than "no": the same write may succeed a moment later.
_TRANSIENT = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# Retries of what DynamoDB refuses for a moment (a transactional conflict, throttling; botocore
# retries neither a cancelled transaction nor a BatchGetItem's unprocessed keys): 4 attempts,
# the last one ~0.2 s after the first at most, well inside an API call's budget.
_ATTEMPTS = 4
_BASE_DELAY_SECONDS = 0.025
# BatchGetItem's limit on the keys of one request.
_KEYS_PER_BATCH_GET = 100
# DynamoDB's limits on a key's values, in UTF-8 bytes: no item has a longer one.
_MAX_PARTITION_KEY_BYTES = 2048
_MAX_SORT_KEY_BYTES = 1024
# What botocore raises once its own retries of a throttled request are spent.
_THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


def _backoff_seconds(attempt: int, base_delay_seconds: float = _BASE_DELAY_SECONDS) -> float:
    """The pause before retry ``attempt``: "full jitter", random up to base x 2^attempt."""
    return random.uniform(0, base_delay_seconds * 2**attempt)


class TransactionCancelled(Exception):
    """DynamoDB cancelled the transaction because of the conditions named in ``failed``.

    ``old_items`` holds, for the failed actions that asked for it, the item as it was when its
    condition failed (DynamoDB's ``ReturnValuesOnConditionCheckFailure``; absent if there was
    no item): the reason a write was refused, without reading anything again.
    """

    def __init__(self, failed: frozenset[str], old_items: dict[str, RawItem] | None = None) -> None:
        super().__init__(f"conditions failed: {sorted(failed)}")
        self.failed = failed
        self.old_items = old_items or {}


class AtomicWrite:
    """The actions of one TransactWriteItems, each with a label."""

    def __init__(self) -> None:
        self._actions: dict[str, list[tuple[str, Callable[[TransactWrite], None]]]] = {
            kind: [] for kind in _SENT_ORDER
        }

    def put(self, label: str, item: Model, condition: Condition | None = None) -> None:
        self._actions["put"].append((label, lambda tx: tx.save(item, condition=condition)))

    def update(
        self,
        label: str,
        item: Model,
        actions: Sequence[Action],
        condition: Condition | None = None,
        *,
        old_item_on_failure: bool = False,
    ) -> None:
        """``old_item_on_failure``: a failed condition brings back the item as it was."""
        return_values = "ALL_OLD" if old_item_on_failure else None
        self._actions["update"].append(
            (
                label,
                lambda tx: tx.update(
                    item, actions=list(actions), condition=condition, return_values=return_values
                ),
            )
        )

    def commit(self, connection: Connection) -> None:
        """Send the actions in ONE TransactWriteItems; map a cancellation back to labels.

        The botocore client retries a request whose answer was lost (a timeout, a 5xx), and
        resends it as it was, token included: DynamoDB then answers the retry with the first
        attempt's success instead of cancelling it on its own, already written, items. A
        fresh token per commit keeps two different writes from ever sharing one.
        """
        token = str(uuid.uuid4())
        try:
            with TransactWrite(connection=connection, client_request_token=token) as transaction:
                for _, apply in self._ordered():
                    apply(transaction)
        except TransactWriteError as error:
            translated = self._translate(error)
            if translated is error:
                # Re-raised as it came: "from error" would make it its own cause and hide its
                # context, DynamoDB's answer (an AccessDenied, say), from the logged traceback.
                raise
            raise translated from error

    def _ordered(self) -> Iterable[tuple[str, Callable[[TransactWrite], None]]]:
        for kind in _SENT_ORDER:
            yield from self._actions[kind]

    def _translate(self, error: TransactWriteError) -> Exception:
        if error.cause_response_code != "TransactionCanceledException":
            return error
        labels = [label for label, _ in self._ordered()]
        reasons = error.cancellation_reasons
        codes = [reason.code if reason else None for reason in reasons]
        if _TRANSIENT.intersection(codes):
            return TransientCancellation()
        failed = {
            label: reason
            for label, reason in zip(labels, reasons, strict=True)
            if reason is not None and reason.code == _CONDITION_FAILED
        }
        if not failed:
            return error
        old_items = {label: reason.raw_item for label, reason in failed.items() if reason.raw_item}
        return TransactionCancelled(frozenset(failed), old_items)


class TransientCancellation(Exception):
    """A concurrent transaction on the same items, or throttling: retrying is safe."""


def commit_with_retry(
    write: AtomicWrite,
    connection: Connection,
    *,
    attempts: int = _ATTEMPTS,
    base_delay_seconds: float = _BASE_DELAY_SECONDS,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Commit, retrying a bounded number of times when DynamoDB cancels for a transient reason.

    The conditions make a retry safe: a debit that already happened is never applied twice.
    """
    for attempt in range(attempts):
        try:
            write.commit(connection)
            return
        except TransientCancellation:
            if attempt + 1 < attempts:
                (sleep or time.sleep)(_backoff_seconds(attempt, base_delay_seconds))
    raise StoreBusy("the store is busy with concurrent changes; retry shortly", retry_after_seconds=1)


def read_together(connection: Connection, table_name: str, keys: Sequence[Model]) -> list[RawItem]:
    """The items of ``keys`` that exist, strongly consistent, in no particular order: ONE
    BatchGetItem per 100 distinct keys (its limit; a key asked twice would be refused). A key
    no item can have (over DynamoDB's size limits) is not asked: it would refuse the request."""
    raw_keys = map(_raw_key, keys)
    distinct = {json.dumps(raw, sort_keys=True): raw for raw in raw_keys if _can_name_an_item(raw)}
    return [
        item
        for chunk in itertools.batched(distinct.values(), _KEYS_PER_BATCH_GET, strict=False)
        for item in _batch_get(connection, table_name, chunk)
    ]


def _batch_get(connection: Connection, table_name: str, keys: Sequence[RawItem]) -> list[RawItem]:
    """One BatchGetItem; keys DynamoDB leaves unprocessed (throttling) are asked again."""
    request = {"Keys": list(keys), "ConsistentRead": True}
    found: list[RawItem] = []
    for attempt in range(_ATTEMPTS):
        if attempt:
            time.sleep(_backoff_seconds(attempt))
        try:
            response = connection.dispatch("BatchGetItem", {"RequestItems": {table_name: request}})
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _THROTTLED:  # after botocore's retries
                raise _store_busy() from error
            raise
        found.extend(response["Responses"].get(table_name, []))
        unprocessed = response.get("UnprocessedKeys", {}).get(table_name)
        if not unprocessed:
            return found
        # Strongly consistent again, whatever the keys came back with: an entry written a
        # moment ago must not read as missing (notify would take it for a forgery).
        request = {**unprocessed, "ConsistentRead": True}
    raise _store_busy()


def write_together(model: type[Model], items: Iterable[Model]) -> None:
    """Put every item, 25 to a BatchWriteItem (PynamoDB splits them and re-sends what
    DynamoDB leaves unprocessed). Plain puts: for items that may be written again as they are."""
    try:
        with model.batch_write() as batch:
            for item in items:
                batch.save(item)
    except PutError as error:
        # Without a cause, PynamoDB gave up on items DynamoDB kept leaving unprocessed: how it
        # answers for a throttled partition, as a throttling code does after botocore's retries.
        if error.cause is None or error.cause_response_code in _THROTTLED:
            raise _store_busy() from error
        raise


def _store_busy() -> StoreBusy:
    return StoreBusy("the store is busy; retry shortly", retry_after_seconds=1)


def _can_name_an_item(raw_key: RawItem) -> bool:
    """Whether DynamoDB would take the key (``_raw_key``'s: partition key first): each string
    value within its limit, in UTF-8."""
    limits = (_MAX_PARTITION_KEY_BYTES, _MAX_SORT_KEY_BYTES)
    try:
        return all(
            len(value.get("S", "").encode()) <= limit
            for value, limit in zip(raw_key.values(), limits, strict=True)
        )
    except UnicodeEncodeError:  # a lone surrogate, from a forged message: not UTF-8
        return False


def _raw_key(item: Model) -> RawItem:
    """The item's key in DynamoDB's wire format: its partition key, then its sort key."""
    serialized: RawItem = item.serialize(null_check=False)
    hash_key, range_key = item._hash_key_attribute(), item._range_key_attribute()
    return {name: serialized[name] for name in (hash_key.attr_name, range_key.attr_name)}


@cache
def connection_for(host: str | None) -> Connection:
    """One connection, hence one botocore client, per endpoint for the whole container.

    Every model and transaction shares it: each client costs ~50 ms to build at cold start.
    """
    return Connection(host=host, connect_timeout_seconds=2, read_timeout_seconds=5)


def bind_models(models: Iterable[type[Model]], table_name: str, host: str | None = None) -> Connection:
    """Point models at a table (and, only in tests, an explicit endpoint); return the connection.

    In Lambda ``host`` stays ``None``: botocore then honours ``AWS_ENDPOINT_URL*``.
    """
    connection = connection_for(host)
    for model in models:
        # A Meta of its own: subclasses otherwise share their base's, and with it its table.
        settings = {name: value for name, value in vars(model.Meta).items() if not name.startswith("__")}
        model.Meta = type("Meta", (), {**settings, "table_name": table_name, "host": host})  # type: ignore[assignment]
        model._connection = None
        # PynamoDB builds the model's table connection (no I/O) with the table's key schema;
        # the shared connection learns that schema, and the model then uses the shared client.
        table = model._get_connection()
        with suppress(ValueError):  # another model of the same table taught it already
            connection.add_meta_table(table.get_meta_table())
        table.connection = connection
    return connection
