"""Exactly one e-mail per notification: Powertools idempotency around ``NotificationSender``.

A module of its own because only the notify function sends e-mails: Powertools idempotency
(and, through its DynamoDB persistence layer, boto3) stays out of the functions that only
publish notifications or read statements.
"""

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet.observability import MetricUnit, logger, metrics
from wallet.service.notifications import Email, MailingRecords, Notification, NotificationSender

# Longer than a message can live in the DLQ (14 days), so a re-driven duplicate is still known.
DEDUPLICATION_WINDOW = timedelta(days=15)


class IdempotentNotificationSender:
    """Exactly one e-mail per ``notification_id``, however often the message is delivered.

    Powertools idempotency on a table of its own, keyed by notification id: an INPROGRESS
    record expires with the invocation, a failed send deletes it (the SQS retry sends), a
    completed duplicate is answered from the stored result. Why this rather than a marker
    item, and the one window left (a duplicate, never a loss): docs/architecture.md, "The
    event pipeline".
    """

    def __init__(self, sender: NotificationSender, persistence: BasePersistenceLayer) -> None:
        self._sender = sender
        self._config = IdempotencyConfig(
            event_key_jmespath="notification_id",
            expires_after_seconds=int(DEDUPLICATION_WINDOW.total_seconds()),
            raise_on_no_idempotency_key=True,
        )

        def send_once(notification: dict[str, Any], email: Email) -> dict[str, str]:
            return {"message_id": sender.send(Notification.model_validate(notification), email)}

        self._send_once: Callable[..., dict[str, str]] = idempotent_function(
            data_keyword_argument="notification",
            persistence_store=persistence,
            config=self._config,
            key_prefix="notification",
        )(send_once)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """Lets an INPROGRESS record expire with this invocation, if it dies mid-send."""
        self._config.register_lambda_context(context)

    def read(self, notifications: Sequence[Notification]) -> MailingRecords:
        """What the batch's e-mails are composed from, in one read (``NotificationSender.read``)."""
        return self._sender.read(notifications)

    def send(self, notification: Notification, records: MailingRecords) -> str | None:
        """The e-mail's message id; None, and nothing sent, for a notification no statement entry
        in ``records`` backs. That check comes first, so a forged message leaves no dedup record
        behind."""
        email = self._sender.compose(notification, records)
        if email is None:
            logger.warning(
                "notification not backed by a statement entry: not sent",
                extra={"notification_id": notification.notification_id},
            )
            metrics.add_metric(name="NotificationsUnbacked", unit=MetricUnit.Count, value=1)
            return None
        return self._send_once(notification=notification.model_dump(mode="json"), email=email)["message_id"]
