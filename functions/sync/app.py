"""The event consumer: DynamoDB stream records of both tables -> the event dispatcher.

The template's FilterCriteria deliver only INSERTs of items that carry an event: outbox
items (customers table) and transactions (ledger table). Each record is handled on its own
and failures are reported per record (ReportBatchItemFailures), so one poison event never
blocks or replays its neighbours; everything needed is in the item's ``payload``.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet import bootstrap
from wallet.adapters.outbox import EVENT_CARRIERS
from wallet.events import parse_event
from wallet.observability import logger, metrics, tracer

# A batch whose every record failed is reported like any other, record by record.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb is not None else {}
    if record.event_name is not DynamoDBRecordEventName.INSERT or image.get("entity") not in EVENT_CARRIERS:
        logger.warning("not an event's insert; skipped", extra={"event_id": record.event_id})
        return
    try:
        bootstrap.event_dispatcher().apply(parse_event(image["payload"]))
    except Exception:
        # Reported in batchItemFailures; logged here, or the reason would be lost.
        logger.exception("outbox event failed", extra={"stream_event_id": record.event_id})
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event, record_handler, processor, context))
