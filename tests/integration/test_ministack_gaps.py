"""The gaps devstack/ministack_gaps.py closes, shown on a real ministack (docs/local-stack.md).

Each test is the minimal reproduction of its gap: without the fix it fails.
"""

import io
import json
import time
import uuid
import zipfile
from collections import Counter
from typing import Any

import boto3

from tests.support.servers import Server

# Reports every record whose key starts with "poison" as failed, and says which it saw.
HANDLER = """
import os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    failures = []
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        sqs.send_message(QueueUrl=os.environ["SEEN_QUEUE"], MessageBody=key)
        if key.startswith("poison"):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
"""


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _drain(sqs: Any, queue_url: str, until: int, timeout_seconds: float = 60) -> list[str]:
    bodies: list[str] = []
    deadline = time.monotonic() + timeout_seconds
    while len(bodies) < until and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_a_reported_stream_failure_is_retried_then_sent_to_the_on_failure_destination(
    ministack: Server,
) -> None:
    def client(service: str) -> Any:
        return boto3.session.Session().client(service, endpoint_url=ministack.url)  # type: ignore[call-overload]

    dynamodb, sqs, lambda_ = client("dynamodb"), client("sqs"), client("lambda")
    suffix = uuid.uuid4().hex[:8]
    table = dynamodb.create_table(
        TableName=f"gap-{suffix}",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    seen = sqs.create_queue(QueueName=f"seen-{suffix}")["QueueUrl"]
    failures = sqs.create_queue(QueueName=f"failures-{suffix}")["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    function = lambda_.create_function(
        FunctionName=f"gap-{suffix}",
        Runtime="python3.13",
        Handler="app.handler",
        Role="arn:aws:iam::000000000000:role/gap",
        Code={"ZipFile": _zip(HANDLER)},
        Environment={"Variables": {"SEEN_QUEUE": seen}},
    )
    lambda_.create_event_source_mapping(
        FunctionName=function["FunctionName"],
        EventSourceArn=table["LatestStreamArn"],
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )

    for key in ("ok-1", "poison-1", "ok-2"):
        dynamodb.put_item(TableName=table["TableName"], Item={"pk": {"S": key}})
    on_failure = _drain(sqs, failures, until=1)
    dynamodb.put_item(TableName=table["TableName"], Item={"pk": {"S": "after"}})
    deliveries = Counter(_drain(sqs, seen, until=100, timeout_seconds=15))

    assert len(on_failure) == 1
    assert json.loads(on_failure[0])["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert deliveries["poison-1"] == 3  # the first delivery and MaximumRetryAttempts=2 retries
    assert deliveries["ok-1"] >= 1
    assert deliveries["ok-2"] >= 1
    assert deliveries["after"] == 1  # the shard moved on
