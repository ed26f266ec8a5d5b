"""E-mails: SQS messages from the email bus -> one SES e-mail per notification.

Delivery is at-least-once (SNS, SQS, the sweeper's republishing); ``IdempotentNotificationSender``
(Powertools idempotency on its own table, keyed by notification id) makes it exactly one
e-mail. What the batch's e-mails are composed from is read once for the whole batch. A failed
send is reported for that message only; after 3 receives it goes to the DLQ.
"""

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet import bootstrap
from wallet.domain.errors import StoreBusy
from wallet.observability import logger, metrics, tracer
from wallet.service.notifications import MailingRecords, Notification

if TYPE_CHECKING:  # bootstrap builds it on the first request: Powertools idempotency loads then
    from wallet.service.idempotent_sender import IdempotentNotificationSender

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _parsed(event: dict[str, Any]) -> dict[str, Notification]:
    """The batch's notifications that parse, by message id (one that does not fails alone, below)."""
    parsed: dict[str, Notification] = {}
    for record in event["Records"]:
        with suppress(Exception):  # parsed again in record_handler, and failed for its message alone
            parsed[record["messageId"]] = Notification.model_validate_json(record["body"])
    return parsed


def _read(sender: "IdempotentNotificationSender", notifications: list[Notification]) -> MailingRecords | None:
    """One read for the batch. None if the store refused it for a reason a message can carry
    (an invalid key): then each notification reads its own, and only that message fails. A
    busy store fails the whole batch instead: reading each alone would only add to its load."""
    try:
        return sender.read(notifications)
    except StoreBusy:
        raise
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
    records = _read(sender, list(notifications.values()))

    def record_handler(record: SQSRecord) -> None:
        try:
            notification = notifications.get(record.message_id)
            if notification is None:
                notification = Notification.model_validate_json(record.body)
            sender.send(notification, records if records is not None else sender.read([notification]))
        except Exception:
            # Reported in batchItemFailures; logged here, or the reason would be lost.
            logger.exception("notification failed", extra={"message_id": record.message_id})
            raise

    return dict(process_partial_response(event, record_handler, processor, context))
