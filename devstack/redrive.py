"""Move messages from a dead-letter queue back to its source queue (receive, send, delete).

On AWS use ``aws sqs start-message-move-task --source-arn <dlq-arn>`` instead; ministack
1.5.33 lacks StartMessageMoveTask (gap G3), so locally this does the same by hand. A
message is deleted from the DLQ only after the source queue accepted it: a crash midway
duplicates at worst, and the consumers are idempotent.

    python -m devstack.redrive <dlq-url> <queue-url> [--max 100]

boto3 reads ``AWS_ENDPOINT_URL`` (e.g. http://127.0.0.1:4566 for the local stack).
"""

import argparse
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

# SQS's maximum for ReceiveMessage and SendMessageBatch.
_BATCH = 10


def redrive(dlq_url: str, queue_url: str, limit: int = 100, client: "SQSClient | None" = None) -> int:
    """Move up to ``limit`` messages; returns how many were moved."""
    sqs = client or boto3.client("sqs")
    moved = 0
    while moved < limit:
        received = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(_BATCH, limit - moved),
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        moved += _move(sqs, received, dlq_url, queue_url)
    return moved


def _move(sqs: "SQSClient", messages: list["MessageTypeDef"], dlq_url: str, queue_url: str) -> int:
    entries: list[SendMessageBatchRequestEntryTypeDef] = [_entry(str(n), m) for n, m in enumerate(messages)]
    sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Successful", [])
    accepted = {int(result["Id"]) for result in sent}
    to_delete = [
        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages) if n in accepted
    ]
    if to_delete:
        sqs.delete_message_batch(QueueUrl=dlq_url, Entries=to_delete)  # type: ignore[arg-type]
    return len(to_delete)


def _entry(entry_id: str, message: "MessageTypeDef") -> "SendMessageBatchRequestEntryTypeDef":
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": message["Body"]}
    if attributes := message.get("MessageAttributes"):
        entry["MessageAttributes"] = attributes
    return entry  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Move messages from a DLQ back to its source queue.")
    parser.add_argument("dlq_url")
    parser.add_argument("queue_url")
    parser.add_argument("--max", type=int, default=100, help="move at most this many messages")
    args = parser.parse_args(argv)
    print(f"moved {redrive(args.dlq_url, args.queue_url, args.max)} message(s)")


if __name__ == "__main__":
    main()
