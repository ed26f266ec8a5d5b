"""devstack.xray_daemon counts each AWS call a traced function makes, once.

A fresh interpreter plays a function inside Lambda (``LAMBDA_TASK_ROOT`` and a sampled
``_X_AMZN_TRACE_ID``), traced by Powertools' Tracer as the app's handlers are, and makes
AWS calls to a closed port: the X-Ray SDK reports them all the same.
"""

import os
import subprocess
import sys
import time

from devstack.xray_daemon import ADDRESS_VARIABLE, XRayCounter

_FUNCTION = """
import boto3
from aws_lambda_powertools import Tracer

tracer = Tracer(service="xray-daemon-test")


@tracer.capture_lambda_handler
def handler(event, context):
    dynamodb = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    sns = boto3.client("sns", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")
    for call in (
        lambda: dynamodb.get_item(TableName="t", Key={"pk": {"S": "x"}}),
        lambda: dynamodb.get_item(TableName="t", Key={"pk": {"S": "y"}}),
        lambda: sns.publish(TopicArn="arn:aws:sns:us-east-1:000000000000:t", Message="m"),
    ):
        try:
            call()
        except Exception:
            pass  # nothing listens: the call still leaves its subsegment


class Context:
    function_name = "f"
    function_version = "$LATEST"
    aws_request_id = "r"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f"


handler({}, Context())
"""


def test_each_aws_call_of_a_traced_function_is_counted_once() -> None:
    with XRayCounter() as counter:
        environment = {
            **os.environ,
            ADDRESS_VARIABLE: counter.address,
            "POWERTOOLS_TRACE_DISABLED": "0",  # the suite turns tracing off for everything else
            "LAMBDA_TASK_ROOT": "/tmp",  # noqa: S108 - only a marker of "inside Lambda"
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_MAX_ATTEMPTS": "1",
        }
        started = time.time()
        subprocess.run([sys.executable, "-c", _FUNCTION], env=environment, check=True, timeout=60)
        deadline = time.monotonic() + 5
        while sum(counter.calls_between(started, time.time()).values()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)

        assert counter.calls_between(started, time.time()) == {"dynamodb.GetItem": 2, "sns.Publish": 1}
        assert not counter.calls_between(0, started)
