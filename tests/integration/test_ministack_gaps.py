"""The gaps devstack/ministack_gaps.py closes, shown on a real ministack (docs/local-stack.md).

Each test is the minimal reproduction of its gap: without the fix it fails. Its docstring
names the gap and, in parentheses, its section of docs/local-stack.md (G1 .. G23), which
also names the fix in devstack/ministack_gaps.py. The gaps that show only with IAM
enforced (SES authorization, mappings acting as the role, topic policies, resource-based
policies, PublishBatch: G12-G15, G22) run on a ministack of their own with AUTH=true.
"""

import io
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.servers import Server, start_ministack

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


# ministack without IAM runs a function whatever role it names.
GAP_ROLE = "arn:aws:iam::000000000000:role/gap"


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _create_function(lambda_: Any, name: str, source: str, *, role: str = GAP_ROLE, **settings: Any) -> Any:
    """A python3.13 function whose app.py is ``source``."""
    return lambda_.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Handler="app.handler",
        Role=role,
        Code={"ZipFile": _zip(source)},
        **settings,
    )


def _create_stack(cloudformation: Any, name: str, template: dict[str, Any]) -> dict[str, str]:
    """The stack, created and complete: logical id -> physical id of every resource."""
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    described = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in described}


def _drain(sqs: Any, queue_url: str, until: int, timeout_seconds: float = 60) -> list[str]:
    """The bodies of up to ``until`` messages, deleted as read. A delivery takes seconds here;
    a minute only covers a busy machine.
    A shorter timeout is a wait for what must NOT arrive: long enough for a delivery to have
    happened had it been allowed."""
    bodies: list[str] = []
    deadline = time.monotonic() + timeout_seconds
    while len(bodies) < until and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _streamed_table(dynamodb: Any, name: str) -> dict[str, Any]:
    """A table keyed by ``pk`` whose stream carries new images; its description."""
    description: dict[str, Any] = dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    return description


def _client(ministack: Server, service: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=ministack.url)  # type: ignore[call-overload]


def test_a_reported_stream_failure_is_retried_then_sent_to_the_on_failure_destination(
    ministack: Server,
) -> None:
    """Stream mappings ignored batchItemFailures and MaximumRetryAttempts (G1/G2). Without the fix,
    the failed record is delivered once and nothing reaches the destination."""
    dynamodb, sqs, lambda_ = (_client(ministack, s) for s in ("dynamodb", "sqs", "lambda"))
    suffix = uuid.uuid4().hex[:8]
    table = _streamed_table(dynamodb, f"gap-{suffix}")
    seen = sqs.create_queue(QueueName=f"seen-{suffix}")["QueueUrl"]
    failures = sqs.create_queue(QueueName=f"failures-{suffix}")["QueueUrl"]
    failures_arn = sqs.get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    function = _create_function(
        lambda_, f"gap-{suffix}", HANDLER, Environment={"Variables": {"SEEN_QUEUE": seen}}
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
    # Nothing stops at 100 deliveries: 15 s for every retry (MaximumRetryAttempts 2) to arrive.
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
        deadline = time.time() + 25  # released by the test within seconds; 25 s is a test gone wrong
        while not (FLAGS / "release").exists() and time.time() < deadline:
            time.sleep(0.05)
    return {"served": True}
"""


def _wait_for(path: Path, timeout_seconds: float = 60) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # a flag file: cheap to look for, and the test waits on it
    assert path.exists(), f"{path} never appeared"


def test_a_worker_failing_to_start_leaves_the_other_workers_of_its_function_serving(
    ministack: Server, tmp_path: Path
) -> None:
    """One worker failing to start killed every worker of its function (G11). Without the fix, the
    second call's failed start kills the worker serving the first."""
    lambda_ = _client(ministack, "lambda")
    name = f"gap-{uuid.uuid4().hex[:8]}"
    _create_function(
        lambda_, name, FRAGILE_HANDLER, Timeout=30, Environment={"Variables": {"FLAGS": str(tmp_path)}}
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


# ====================================================================== with IAM enforced
ACCOUNT = "000000000000"
REGION = "us-east-1"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
STREAM_READ = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


@pytest.fixture(scope="module")
def ministack_with_iam() -> Iterator[Server]:
    with start_ministack(auth=True) as server:
        yield server


def _allow(actions: list[str], resource: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


def _as_new_user(ministack: Server, service: str, policy: str | None = None) -> Any:
    """A ``service`` client signed by a new IAM user of the account, with ``policy`` alone."""
    iam = _client(ministack, "iam")
    user = f"gap-user-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    if policy is not None:
        iam.put_user_policy(UserName=user, PolicyName="only", PolicyDocument=policy)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    session = boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    )
    return session.client(service, endpoint_url=ministack.url)  # type: ignore[call-overload]


def test_ses_authorizes_a_send_on_the_identity_it_sends_from(ministack_with_iam: Server) -> None:
    """SES SendEmail was authorized on resource * (G12). AWS authorizes ses:SendEmail on the sending
    identity's ARN; ministack on ``*``."""
    ses = _client(ministack_with_iam, "sesv2")
    suffix = uuid.uuid4().hex[:8]
    sender, other = f"sender-{suffix}@example.com", f"other-{suffix}@example.com"
    for identity in (sender, other):
        ses.create_email_identity(EmailIdentity=identity)
    identity_arn = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}"
    as_user = _as_new_user(ministack_with_iam, "sesv2", _allow(["ses:SendEmail"], identity_arn))

    def send_from(address: str) -> str:
        sent = as_user.send_email(
            FromEmailAddress=address,
            Destination={"ToAddresses": ["someone@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )
        message_id: str = sent["MessageId"]
        return message_id

    message_id = send_from(sender)
    with pytest.raises(ClientError, match="AccessDenied"):
        send_from(other)

    assert message_id


# Sends the key of each record (a stream record's pk, a queue message's body) to SEEN_QUEUE;
# fails the whole batch when FAIL is set.
SEEING_HANDLER = """
import os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"] if "dynamodb" in record else record["body"]
        sqs.send_message(QueueUrl=os.environ["SEEN_QUEUE"], MessageBody=key)
    if os.environ.get("FAIL"):
        raise RuntimeError("this batch fails, on purpose")
"""


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _function_seeing_into(
    ministack: Server, name: str, seen_arn: str, seen_url: str, fail: bool = False
) -> str:
    """A function whose role may only send to the ``seen`` queue; the role's name."""
    iam, lambda_ = _client(ministack, "iam"), _client(ministack, "lambda")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="see", PolicyDocument=_allow(["sqs:SendMessage"], seen_arn))
    variables = {"SEEN_QUEUE": seen_url, **({"FAIL": "1"} if fail else {})}
    _create_function(lambda_, name, SEEING_HANDLER, role=role["Arn"], Environment={"Variables": variables})
    return name


@pytest.mark.parametrize("source", ["dynamodb", "sqs"])
def test_a_mapping_reads_its_source_only_as_far_as_the_functions_role_may(
    ministack_with_iam: Server, source: str
) -> None:
    """Event source mappings did not act as the function's role (G13). Without the fix, the record
    is delivered although the role may not read the source."""
    dynamodb, sqs, lambda_, iam = (
        _client(ministack_with_iam, s) for s in ("dynamodb", "sqs", "lambda", "iam")
    )
    name = f"gap-{source}-{uuid.uuid4().hex[:8]}"
    seen, seen_arn = _queue(sqs, f"{name}-seen")
    role = _function_seeing_into(ministack_with_iam, name, seen_arn, seen)
    if source == "dynamodb":
        table = _streamed_table(dynamodb, name)
        source_arn, read = table["LatestStreamArn"], STREAM_READ

        def put(key: str) -> None:
            dynamodb.put_item(TableName=name, Item={"pk": {"S": key}})
    else:
        queue, source_arn = _queue(sqs, f"{name}-source")
        read = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]

        def put(key: str) -> None:
            sqs.send_message(QueueUrl=queue, MessageBody=key)

    mapping = lambda_.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=source_arn,
        BatchSize=10,
        **({"StartingPosition": "TRIM_HORIZON"} if source == "dynamodb" else {}),
    )["UUID"]

    put("first")
    unseen = _drain(sqs, seen, until=1, timeout_seconds=8)
    problem = lambda_.get_event_source_mapping(UUID=mapping).get("LastProcessingResult", "")
    iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=_allow(read, source_arn))
    seen_once_allowed = _drain(sqs, seen, until=1, timeout_seconds=60)

    assert unseen == []
    assert problem.startswith("PROBLEM") and "is not authorized to perform" in problem
    assert seen_once_allowed == ["first"]


def test_a_failed_batch_reaches_the_on_failure_destination_only_if_the_role_may_send_there(
    ministack_with_iam: Server,
) -> None:
    """Event source mappings did not act as the function's role (G13). Without the fix, the failure
    record is sent although the role may not send it."""
    dynamodb, sqs, lambda_, iam = (
        _client(ministack_with_iam, s) for s in ("dynamodb", "sqs", "lambda", "iam")
    )
    name = f"gap-dest-{uuid.uuid4().hex[:8]}"
    seen, seen_arn = _queue(sqs, f"{name}-seen")
    failures, failures_arn = _queue(sqs, f"{name}-failures")
    role = _function_seeing_into(ministack_with_iam, name, seen_arn, seen, fail=True)
    table = _streamed_table(dynamodb, name)
    iam.put_role_policy(
        RoleName=role, PolicyName="read", PolicyDocument=_allow(STREAM_READ, table["LatestStreamArn"])
    )
    lambda_.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=table["LatestStreamArn"],
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )

    dynamodb.put_item(TableName=name, Item={"pk": {"S": "refused"}})
    attempted = _drain(sqs, seen, until=1, timeout_seconds=60)
    not_sent = _drain(sqs, failures, until=1, timeout_seconds=5)
    iam.put_role_policy(
        RoleName=role, PolicyName="fail", PolicyDocument=_allow(["sqs:SendMessage"], failures_arn)
    )
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "allowed"}})
    sent = _drain(sqs, failures, until=1, timeout_seconds=60)

    assert attempted == ["refused"]
    assert not_sent == []
    assert len(sent) == 1
    assert json.loads(sent[0])["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_topic_a_stack_creates_lets_no_one_publish_whom_iam_does_not_allow(
    ministack_with_iam: Server,
) -> None:
    """A stack's topic let anyone publish (G14). A topic from CreateTopic refuses a user no policy
    lets publish; without the fix, the same topic created by a CloudFormation stack takes the user's
    message."""
    cloudformation, sns = _client(ministack_with_iam, "cloudformation"), _client(ministack_with_iam, "sns")
    stack = f"gap-topic-{uuid.uuid4().hex[:8]}"
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    of_the_stack = _create_stack(cloudformation, stack, template)["Topic"]
    topics = [
        sns.create_topic(Name=f"{stack}-api")["TopicArn"],
        of_the_stack,
    ]
    as_user = _as_new_user(ministack_with_iam, "sns")

    for topic in topics:
        with pytest.raises(ClientError, match=r"AuthorizationError|AccessDenied"):
            as_user.publish(TopicArn=topic, Message="from someone no policy allows")


def test_a_publish_batch_is_authorized_as_sns_publish(ministack_with_iam: Server) -> None:
    """A PublishBatch was authorized as an action IAM does not define (G22). A user whose policy
    allows sns:Publish on a topic (IAM defines no other action for PublishBatch) publishes a batch
    to it, and no other topic."""
    sns = _client(ministack_with_iam, "sns")
    allowed, other = (sns.create_topic(Name=f"gap-batch-{uuid.uuid4().hex[:8]}")["TopicArn"] for _ in "ab")
    as_user = _as_new_user(ministack_with_iam, "sns", _allow(["sns:Publish"], allowed))
    batch = [{"Id": "m0", "Message": "one"}, {"Id": "m1", "Message": "two"}]

    published = as_user.publish_batch(TopicArn=allowed, PublishBatchRequestEntries=batch)
    with pytest.raises(ClientError, match=r"AuthorizationError|AccessDenied"):
        as_user.publish_batch(TopicArn=other, PublishBatchRequestEntries=batch)

    assert [entry["Id"] for entry in published["Successful"]] == ["m0", "m1"]


# ============================================== what a stack declares, and what it stores
DECLARED = {
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": GAP_ROLE,
                "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"},
                "ReservedConcurrentExecutions": 3,
            },
        },
    }
}


@pytest.fixture(scope="module")
def declared(ministack: Server) -> dict[str, str]:
    """The DECLARED stack, created by CloudFormation: logical id -> physical id."""
    return _create_stack(
        _client(ministack, "cloudformation"), f"gap-declared-{uuid.uuid4().hex[:8]}", DECLARED
    )


def test_a_stacks_function_gets_the_concurrency_it_reserves(
    ministack: Server, declared: dict[str, str]
) -> None:
    """A stack's reserved concurrency was ignored, and any reservation accepted (G16). Without the
    fix, get-function-concurrency answers {}."""
    answer = _client(ministack, "lambda").get_function_concurrency(FunctionName=declared["Function"])

    assert answer.get("ReservedConcurrentExecutions") == 3


def test_a_reservation_must_leave_the_account_a_hundred_unreserved_executions(ministack: Server) -> None:
    """A stack's reserved concurrency was ignored, and any reservation accepted (G16). Without the
    fix, a reservation leaving fewer than 100 unreserved is stored."""
    lambda_ = _client(ministack, "lambda")
    name = f"gap-{uuid.uuid4().hex[:8]}"
    _create_function(lambda_, name, "def handler(event, context):\n    return 1\n")
    unreserved = lambda_.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]

    with pytest.raises(ClientError, match=r"InvalidParameterValue.*minimum value of \[100\]"):
        lambda_.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=unreserved - 99)
    lambda_.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=unreserved - 100)
    try:
        assert lambda_.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    finally:  # the module's other tests share this ministack and its account
        lambda_.delete_function_concurrency(FunctionName=name)


def test_a_stacks_topic_keeps_its_key(ministack: Server, declared: dict[str, str]) -> None:
    """A stack's topic lost its KmsMasterKeyId (G19). Without the fix, get-topic-attributes has no
    KmsMasterKeyId."""
    attributes = _client(ministack, "sns").get_topic_attributes(TopicArn=declared["Topic"])["Attributes"]

    assert attributes.get("KmsMasterKeyId") == declared["Key"]


def test_a_stacks_table_recovers_to_a_point_in_time(ministack: Server, declared: dict[str, str]) -> None:
    """A stack's tables ignored PointInTimeRecoverySpecification (G20). Without the fix,
    describe-continuous-backups answers DISABLED."""
    described = _client(ministack, "dynamodb").describe_continuous_backups(TableName=declared["Table"])
    recovery = described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]

    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


# ================================================================= an HTTP API's stage
THROTTLED = {
    "Resources": {
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": GAP_ROLE,
                "Code": {"ZipFile": "def handler(event, context):\n    return {'statusCode': 200}\n"},
            },
        },
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "gap", "ProtocolType": "HTTP"}},
        "Integration": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": "Api"},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::GetAtt": ["Function", "Arn"]},
                "PayloadFormatVersion": "2.0",
            },
        },
        "Route": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "ApiId": {"Ref": "Api"},
                "RouteKey": "GET /ping",
                "Target": {"Fn::Join": ["/", ["integrations", {"Ref": "Integration"}]]},
            },
        },
        "AccessLogs": {"Type": "AWS::Logs::LogGroup"},
        "Stage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "DependsOn": ["Route"],
            "Properties": {
                "ApiId": {"Ref": "Api"},
                "StageName": "$default",
                "AutoDeploy": True,
                "DefaultRouteSettings": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50},
                "RouteSettings": {"GET /ping": {"ThrottlingBurstLimit": 3, "ThrottlingRateLimit": 0.5}},
                "AccessLogSettings": {
                    "DestinationArn": {"Fn::GetAtt": ["AccessLogs", "Arn"]},
                    "Format": '{"requestId":"$context.requestId","routeKey":"$context.routeKey",'
                    '"status":"$context.status","sub":"$context.authorizer.claims.sub"}',
                },
            },
        },
    }
}


@pytest.fixture(scope="module")
def throttled(ministack: Server) -> dict[str, str]:
    """The THROTTLED stack, created by CloudFormation: logical id -> physical id."""
    return _create_stack(_client(ministack, "cloudformation"), f"gap-stage-{uuid.uuid4().hex[:8]}", THROTTLED)


def _get(url: str) -> tuple[int, bytes, str]:
    """Status, body and apigw-requestid header of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), response.headers.get("apigw-requestid", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("apigw-requestid", "")


def test_a_stage_reads_back_its_route_settings_in_the_apis_casing(
    ministack: Server, throttled: dict[str, str]
) -> None:
    """An HTTP API stage's throttles were not applied (G17). Without the fix, get-stage through an
    SDK reads the route settings back empty."""
    stage = _client(ministack, "apigatewayv2").get_stage(ApiId=throttled["Api"], StageName="$default")

    assert stage["RouteSettings"] == {"GET /ping": {"ThrottlingBurstLimit": 3, "ThrottlingRateLimit": 0.5}}
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0}


def test_a_route_answers_429_once_its_burst_is_spent(ministack: Server, throttled: dict[str, str]) -> None:
    """An HTTP API stage's throttles were not applied (G17). Without the fix, every request is
    served whatever the route's throttle."""
    url = f"{ministack.url}/_aws/execute-api/{throttled['Api']}/ping"
    answers = [_get(url) for _ in range(5)]  # a burst of 3, then one token every 2 s

    assert [status for status, _body, _id in answers] == [200, 200, 200, 429, 429]
    assert json.loads(answers[-1][1]) == {"message": "Too Many Requests"}


def test_a_stage_writes_one_access_log_line_per_request(ministack: Server, throttled: dict[str, str]) -> None:
    """A stage's access log was never written (G18). Without the fix, the stage's log group never
    gets a stream."""
    logs = _client(ministack, "logs")
    url = f"{ministack.url}/_aws/execute-api/{throttled['Api']}/ping"
    time.sleep(2.5)  # a token for this test's request, whatever the one above spent
    _status, _body, request_id = _get(url)
    (stream,) = logs.describe_log_streams(logGroupName=throttled["AccessLogs"])["logStreams"]
    events = logs.get_log_events(logGroupName=throttled["AccessLogs"], logStreamName=stream["logStreamName"])
    lines = {line["requestId"]: line for line in (json.loads(e["message"]) for e in events["events"])}

    assert lines[request_id] == {
        "requestId": request_id,
        "routeKey": "GET /ping",
        "status": "200",
        "sub": "-",
    }


# Sends the event's detail-type (EventBridge) or route (API Gateway) to SEEN_QUEUE.
REPORTING_HANDLER = """
import os, boto3
sqs = boto3.client("sqs")
def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["SEEN_QUEUE"], MessageBody=event.get("detail-type") or event["routeKey"])
    return {"statusCode": 200, "body": "invoked"}
"""


def _reporting_function(ministack: Server, name: str) -> tuple[str, str]:
    """A function whose role may only send to a "seen" queue; its ARN and that queue's URL."""
    iam, lambda_, sqs = (_client(ministack, s) for s in ("iam", "lambda", "sqs"))
    seen, seen_arn = _queue(sqs, f"{name}-seen")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="see", PolicyDocument=_allow(["sqs:SendMessage"], seen_arn))
    function = _create_function(
        lambda_, name, REPORTING_HANDLER, role=role["Arn"], Environment={"Variables": {"SEEN_QUEUE": seen}}
    )
    return function["FunctionArn"], seen


def test_api_gateway_invokes_a_function_only_as_its_resource_policy_allows(
    ministack_with_iam: Server,
) -> None:
    """Services invoked a function whatever its resource-based policy said (G15). Without the fix,
    the route runs a function whose policy does not name API Gateway."""
    api, lambda_ = _client(ministack_with_iam, "apigatewayv2"), _client(ministack_with_iam, "lambda")
    name = f"gap-api-{uuid.uuid4().hex[:8]}"
    function_arn, _seen = _reporting_function(ministack_with_iam, name)
    api_id = api.create_api(Name=name, ProtocolType="HTTP")["ApiId"]
    integration = api.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn, PayloadFormatVersion="2.0"
    )["IntegrationId"]
    api.create_route(ApiId=api_id, RouteKey="GET /ping", Target=f"integrations/{integration}")
    api.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    url = f"{ministack_with_iam.url}/_aws/execute-api/{api_id}/ping"

    refused = _get(url)
    lambda_.add_permission(
        FunctionName=name,
        StatementId="api",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*",
    )
    permitted = _get(url)

    assert (refused[0], json.loads(refused[1])) == (500, {"message": "Internal Server Error"})
    assert (permitted[0], permitted[1]) == (200, b"invoked")


def test_a_rule_invokes_a_function_only_as_its_resource_policy_allows(ministack_with_iam: Server) -> None:
    """Services invoked a function whatever its resource-based policy said (G15). Without the fix,
    the rule runs a function whose policy does not name EventBridge."""
    events, lambda_, sqs = (_client(ministack_with_iam, s) for s in ("events", "lambda", "sqs"))
    name = f"gap-rule-{uuid.uuid4().hex[:8]}"
    function_arn, seen = _reporting_function(ministack_with_iam, name)
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "function", "Arn": function_arn}])

    def put(detail_type: str) -> None:
        events.put_events(Entries=[{"Source": name, "DetailType": detail_type, "Detail": "{}"}])

    put("refused")
    unseen = _drain(sqs, seen, until=1, timeout_seconds=8)
    lambda_.add_permission(
        FunctionName=name,
        StatementId="rule",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    put("permitted")
    seen_once_permitted = _drain(sqs, seen, until=1, timeout_seconds=60)

    assert unseen == []
    assert seen_once_permitted == ["permitted"]


def test_a_stacks_queue_mapping_takes_its_maximum_concurrency_from_a_parameter(ministack: Server) -> None:
    """A stack's queue mapping kept MaximumConcurrency as text (G23). A mapping whose ScalingConfig
    names a parameter (text, as every Ref is) is created; without the fix the queue's poller fails
    on it at every pass and nothing is consumed."""
    sqs, lambda_ = _client(ministack, "sqs"), _client(ministack, "lambda")
    cloudformation = _client(ministack, "cloudformation")
    suffix = uuid.uuid4().hex[:8]
    seen_url, _ = _queue(sqs, f"gap-seen-{suffix}")
    source_url, source_arn = _queue(sqs, f"gap-source-{suffix}")
    name = f"gap-scaling-{suffix}"
    _create_function(lambda_, name, SEEING_HANDLER, Environment={"Variables": {"SEEN_QUEUE": seen_url}})
    mapping = {
        "EventSourceArn": source_arn,
        "FunctionName": name,
        "BatchSize": 1,
        "ScalingConfig": {"MaximumConcurrency": {"Ref": "Concurrency"}},
    }
    template = {
        "Parameters": {"Concurrency": {"Type": "Number", "Default": 2}},
        "Resources": {"Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": mapping}},
    }
    _create_stack(cloudformation, name, template)

    sqs.send_message(QueueUrl=source_url, MessageBody="consumed")

    assert _drain(sqs, seen_url, until=1) == ["consumed"]
    (created,) = lambda_.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert created["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_an_iam_wildcard_matches_a_line_break(monkeypatch: pytest.MonkeyPatch) -> None:
    """G24: ministack's IAM wildcards stopped at a line break, so API Gateway refused to invoke
    a function for a path holding one (its policy's ``.../*`` did not match) and answered 500."""
    from ministack.core import iam_evaluator

    from devstack import ministack_gaps

    pattern = "arn:aws:execute-api:us-east-1:000000000000:wallet/*/*/transfers/*"
    source = "arn:aws:execute-api:us-east-1:000000000000:wallet/$default/GET/transfers/abc\ndef"
    assert not iam_evaluator.fnmatch_iam_cs(source, pattern)  # the gap

    monkeypatch.setattr(iam_evaluator, "_fnmatch_compile", iam_evaluator._fnmatch_compile)
    ministack_gaps._wildcards_match_line_breaks()

    assert iam_evaluator.fnmatch_iam_cs(source, pattern)
    assert not iam_evaluator.fnmatch_iam_cs(source.replace("/transfers/", "/customers/"), pattern)
