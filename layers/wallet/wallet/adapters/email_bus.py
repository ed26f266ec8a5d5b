"""The email bus (an SNS topic) and the mail service (SES v2), at the edge.

No endpoint is configured here: boto3 reads ``AWS_ENDPOINT_URL`` itself, so the same code
talks to AWS and to the local stack.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient


# SNS takes at most 10 messages per PublishBatch.
_PUBLISH_BATCH_LIMIT = 10


class EmailBusRefused(Exception):
    """SNS accepted the request but not every message in it."""


class SnsEmailBus:
    """Publishes messages in batches; attributes let subscribers filter (kind, role)."""

    def __init__(self, topic_arn: str, client: "SNSClient | None" = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def publish(self, messages: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        for start in range(0, len(messages), _PUBLISH_BATCH_LIMIT):
            self._publish_batch(messages[start : start + _PUBLISH_BATCH_LIMIT])

    def _publish_batch(self, messages: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        response = self._client.publish_batch(
            TopicArn=self._topic_arn,
            PublishBatchRequestEntries=[
                {
                    "Id": f"m{position}",
                    "Message": body,
                    "MessageAttributes": {
                        name: {"DataType": "String", "StringValue": value}
                        for name, value in attributes.items()
                    },
                }
                for position, (body, attributes) in enumerate(messages)
            ],
        )
        # Republishing all is safe (the e-mail side deduplicates), so one refusal fails the lot.
        if response.get("Failed"):
            raise EmailBusRefused(f"SNS refused {response['Failed']}")


class SesMailer:
    """Sends plain-text e-mail from the verified sender identity."""

    def __init__(self, sender: str, client: "SESV2Client | None" = None) -> None:
        self._sender = sender
        self._client = client or boto3.client("sesv2")

    def send(self, to: str, subject: str, body: str) -> str:
        response = self._client.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [to]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                }
            },
        )
        return response["MessageId"]
