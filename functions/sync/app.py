"""The event consumer: DynamoDB stream records of both tables -> the event dispatcher.

The template's FilterCriteria deliver only INSERTs of items that carry an event: outbox
items (customers table) and transactions (ledger table); everything needed is in the item's
``payload``. A batch's events are applied together (``EventDispatcher.apply_all``: one
statement write and one publish for all its transactions) and failures are reported per
record (ReportBatchItemFailures): one poison event never blocks its neighbours. Powertools'
BatchProcessor hands a handler one record at a time, so the partial response is built here.
"""

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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    events: dict[str, Event] = {}  # by the record's sequence number, which names a failure
    failures: list[str] = []
    for record in DynamoDBStreamEvent(event).records:
        # Lambda always sends it: a stream record is where its sequence number comes from.
        sequence_number = record.dynamodb.sequence_number if record.dynamodb is not None else None
        if sequence_number is None:
            logger.warning("a record without a sequence number; skipped", extra={"event_id": record.event_id})
            continue
        try:
            carried = _carried_event(record)
        except Exception:
            logger.exception("unreadable outbox event", extra={"stream_event_id": record.event_id})
            failures.append(sequence_number)
            continue
        if carried is not None:
            events[sequence_number] = carried
    left = {pending.event_id for pending in bootstrap.event_dispatcher().apply_all(list(events.values()))}
    failures += [number for number, carried in events.items() if carried.event_id in left]
    return {"batchItemFailures": [{"itemIdentifier": number} for number in failures]}
