"""The gaps devstack/ministack_gaps.py closes, shown on a real ministack (docs/local-stack.md).

Each test is the minimal reproduction of its gap: without the fix it fails.
"""

import io
import json
import threading
import time
import uuid
import zipfile
from collections import Counter
from pathlib import Path
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


def _client(ministack: Server, service: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=ministack.url)  # type: ignore[call-overload]


def test_a_reported_stream_failure_is_retried_then_sent_to_the_on_failure_destination(
    ministack: Server,
) -> None:
    dynamodb, sqs, lambda_ = (_client(ministack, s) for s in ("dynamodb", "sqs", "lambda"))
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


# Fails at import while FLAGS/broken exists; holds an invocation until FLAGS/release exists.
FRAGILE_HANDLER = """
import os, pathlib, time
FLAGS = pathlib.Path(os.environ["FLAGS"])
if (FLAGS / "broken").exists():
    raise RuntimeError("this execution environment fails to start, on purpose")
def handler(event, context):
    if event.get("hold"):
        (FLAGS / "holding").touch()
        deadline = time.time() + 25
        while not (FLAGS / "release").exists() and time.time() < deadline:
            time.sleep(0.05)
    return {"served": True}
"""


def _wait_for(path: Path, timeout_seconds: float = 60) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"


def test_a_worker_failing_to_start_leaves_the_other_workers_of_its_function_serving(
    ministack: Server, tmp_path: Path
) -> None:
    """G11: without the fix, the second call's failed start kills the worker serving the first."""
    lambda_ = _client(ministack, "lambda")
    name = f"gap-{uuid.uuid4().hex[:8]}"
    lambda_.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Handler="app.handler",
        Role="arn:aws:iam::000000000000:role/gap",
        Code={"ZipFile": _zip(FRAGILE_HANDLER)},
        Timeout=30,
        Environment={"Variables": {"FLAGS": str(tmp_path)}},
    )
    answers: dict[str, Any] = {}

    def held_call() -> None:
        answer = lambda_.invoke(FunctionName=name, Payload=json.dumps({"hold": True}))
        answers["held"] = {
            "error": answer.get("FunctionError"),
            "payload": json.loads(answer["Payload"].read()),
        }

    holder = threading.Thread(target=held_call)
    holder.start()
    _wait_for(tmp_path / "holding")  # one worker is busy with the held call
    (tmp_path / "broken").touch()
    concurrent = lambda_.invoke(FunctionName=name, Payload=b"{}")  # a second worker, which fails to start
    (tmp_path / "release").touch()
    holder.join(timeout=60)

    assert concurrent.get("FunctionError")
    assert answers["held"] == {"error": None, "payload": {"served": True}}
