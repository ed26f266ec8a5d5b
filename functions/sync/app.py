"""The event consumer: DynamoDB stream records of both tables -> the event dispatcher.

The template's FilterCriteria deliver only INSERTs of items that carry an event: outbox
items (customers table) and transactions (ledger table); everything needed is in the item's
``payload``. A batch's events are applied together (``EventDispatcher.apply_all``: the
statement entries of all its transactions written together, their notifications published
together) and failures are reported per record (ReportBatchItemFailures): one poison event
never fails its neighbours. Powertools' BatchProcessor hands a handler one record at a time,
so the partial response is built here.
"""

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
    DynamoDBStreamEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet import bootstrap
from wallet.adapters.outbox import EVENT_CARRIERS
from wallet.events import Event, parse_event
from wallet.observability import logger, metrics, tracer


def _carried_event(record: DynamoDBRecord) -> Event | None:
    """The event the record's item carries; None for a record that carries none."""
    image = record.dynamodb.new_image if record.dynamodb is not None else {}
    if record.event_name is not DynamoDBRecordEventName.INSERT or image.get("entity") not in EVENT_CARRIERS:
        logger.warning("not an event's insert; skipped", extra={"event_id": record.event_id})
        return None
    return parse_event(image["payload"])


def _sequence_number(record: DynamoDBRecord) -> str:
    """What names the record in a partial batch response."""
    number = record.dynamodb.sequence_number if record.dynamodb is not None else None
    if number is None:
        # Not a record Lambda sends: failing the invocation retries (and bisects) the batch.
        raise ValueError(f"stream record {record.event_id} has no sequence number")
    return number


def _events_of(records: Iterable[DynamoDBRecord]) -> tuple[dict[str, Event], list[str]]:
    """The events the records carry, by sequence number, and the records that could not be read."""
    events: dict[str, Event] = {}
    unreadable: list[str] = []
    for record in records:
        sequence_number = _sequence_number(record)
        try:
            carried = _carried_event(record)
        except Exception:
            logger.exception("unreadable outbox event", extra={"stream_event_id": record.event_id})
            unreadable.append(sequence_number)
            continue
        if carried is not None:
            events[sequence_number] = carried
    return events, unreadable


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    events, failures = _events_of(DynamoDBStreamEvent(event).records)
    left = {pending.event_id for pending in bootstrap.event_dispatcher().apply_all(list(events.values()))}
    failures += [number for number, carried in events.items() if carried.event_id in left]
    if failures:
        logger.warning("records reported failed", extra={"sequence_numbers": failures})
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failures]}
