"""E-mails: SQS messages from the email bus -> one SES e-mail per notification.

Delivery is at-least-once (SNS, SQS, the sweeper's republishing); ``OncePerNotification``
(Powertools idempotency on its own table, keyed by notification id) makes it exactly one
e-mail. A failed send is reported for that message only; after 3 receives it goes to the DLQ.
"""

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.email_bus import SesMailer
from wallet.observability import logger, metrics, tracer
from wallet.service.notifications import Notification, NotificationSender, OncePerNotification
from wallet.settings import NotificationSettings, TableSettings

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class IdempotencySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3)


@cache
def sender() -> OncePerNotification:
    mailer = SesMailer(NotificationSettings.from_environment().sender_email)
    profiles = CustomersStore(TableSettings.from_environment().customers_table)
    persistence = DynamoDBPersistenceLayer(table_name=IdempotencySettings.model_validate(os.environ).table)
    return OncePerNotification(NotificationSender(profiles, mailer), persistence)


def record_handler(record: SQSRecord) -> None:
    sender().send(Notification.model_validate_json(record.body))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sender().register_lambda_context(context)
    return dict(process_partial_response(event, record_handler, processor, context))
