"""E-mails: SQS messages from the email bus -> one SES e-mail per notification.

Delivery is at-least-once (SNS, SQS, the sweeper's republishing); ``IdempotentNotificationSender``
(Powertools idempotency on its own table, keyed by notification id) makes it exactly one
e-mail. A failed send is reported for that message only; after 3 receives it goes to the DLQ.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet import bootstrap
from wallet.observability import logger, metrics, tracer
from wallet.service.notifications import Notification

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    try:
        bootstrap.notification_sender().send(Notification.model_validate_json(record.body))
    except Exception:
        # Reported in batchItemFailures; logged here, or the reason would be lost.
        logger.exception("notification failed", extra={"message_id": record.message_id})
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bootstrap.notification_sender().register_lambda_context(context)
    return dict(process_partial_response(event, record_handler, processor, context))
