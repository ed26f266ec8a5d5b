"""E-mails: SQS messages from the email bus -> one SES e-mail per notification.

Delivery is at-least-once (SNS, SQS, the sweeper's republishing); ``IdempotentNotificationSender``
(Powertools idempotency on its own table, keyed by notification id) makes it exactly one
e-mail. What the batch's e-mails are composed from is read once for the whole batch. A failed
send is reported for that message only; after 3 receives it goes to the DLQ.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from wallet import bootstrap
from wallet.observability import logger, metrics, tracer
from wallet.service.notifications import MailingRecords, Notification

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _parsed(event: dict[str, Any]) -> dict[str, Notification]:
    """The batch's notifications that parse, by message id (one that does not fails alone, below)."""
    parsed: dict[str, Notification] = {}
    for record in event["Records"]:
        try:
            parsed[record["messageId"]] = Notification.model_validate_json(record["body"])
        except ValidationError:
            continue
    return parsed


def _read(notifications: list[Notification]) -> MailingRecords | None:
    """One read for the batch; None if it failed, and then each notification reads alone, so a
    message whose keys the store refuses fails by itself rather than its whole batch."""
    try:
        return bootstrap.notification_sender().read(notifications)
    except Exception:
        logger.exception("reading the batch's records failed: each notification reads its own")
        return None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sender = bootstrap.notification_sender()
    sender.register_lambda_context(context)
    notifications = _parsed(event)
    records = _read(list(notifications.values()))

    def record_handler(record: SQSRecord) -> None:
        try:
            notification = notifications.get(record.message_id) or Notification.model_validate_json(
                record.body
            )
            sender.send(notification, records if records is not None else sender.read([notification]))
        except Exception:
            # Reported in batchItemFailures; logged here, or the reason would be lost.
            logger.exception("notification failed", extra={"message_id": record.message_id})
            raise

    return dict(process_partial_response(event, record_handler, processor, context))
