"""The template's limits and protections, read back from the deployed stack through the AWS APIs.

Each is checked as applied, not only as stored: the routes' throttles answer 429 past their
burst, the stage writes an access log line per request (the caller's sub, never an e-mail),
the tables refuse a DeleteTable and can be restored to a point in time, the e-mail bus names
its key (ministack encrypts nothing with it) and a policy for two publishers only, whose roles
alone may use the key, the pipeline functions run on the concurrency they reserve, and API Gateway runs a
function only as its permission allows. ministack applies them with the project's fixes
(devstack/ministack_gaps.py): resource-based policies (G15 in docs/local-stack.md), reserved
concurrency (G16), stage throttles (G17) and access logs (G18), the topic's key (G19) and
point-in-time recovery (G20).
"""

import json
import time
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.identities import claims_of
from devstack.template import FUNCTION_TYPE, logical_ids, resources
from tests.e2e.conftest import Api


@cache
def _resources(aws_url: str, stack_name: str) -> dict[str, str]:
    """Logical id -> physical id of every resource of the deployed stack."""
    cloudformation = boto3.client("cloudformation", endpoint_url=aws_url)
    described = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in described}


def physical(api: Api, logical_id: str) -> str:
    return _resources(api.aws_url, api.stack_name)[logical_id]


def client(api: Api, service: str) -> Any:
    return boto3.client(service, endpoint_url=api.aws_url)  # type: ignore[call-overload]


def role_arn(api: Api, logical_id: str) -> str:
    arn: str = client(api, "iam").get_role(RoleName=physical(api, logical_id))["Role"]["Arn"]
    return arn


def test_the_stage_logs_every_request_to_a_log_group_kept_a_year(api: Api) -> None:
    stage = client(api, "apigatewayv2").get_stage(ApiId=api.outputs["ApiId"], StageName="$default")
    group_name = physical(api, "ApiAccessLogs")
    (group,) = client(api, "logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]

    assert stage["AccessLogSettings"]["DestinationArn"] == group["arn"]
    assert group["retentionInDays"] == 365
    line = json.loads(stage["AccessLogSettings"]["Format"])
    assert line["sub"] == "$context.authorizer.claims.sub"
    assert {"requestId", "routeKey", "status", "responseLatencyMs", "sourceIp", "sub"} <= set(line)
    # Only $context variables: no body, header, query string, hence no e-mail or document.
    assert all(value.startswith("$context.") for value in line.values())
    assert "email" not in stage["AccessLogSettings"]["Format"]


def test_the_stage_throttles_every_route_the_template_sizes(api: Api) -> None:
    stage = client(api, "apigatewayv2").get_stage(ApiId=api.outputs["ApiId"], StageName="$default")
    throttled = resources()["HttpApiStage"]["Properties"]
    sized, default = throttled["RouteSettings"]["If"][1], throttled["DefaultRouteSettings"]["If"][1]

    assert stage["RouteSettings"] == sized
    assert stage["DefaultRouteSettings"] == default
    routes = client(api, "apigatewayv2").get_routes(ApiId=api.outputs["ApiId"])["Items"]
    assert set(sized) <= {route["RouteKey"] for route in routes}


def _access_log(api: Api) -> list[dict[str, str]]:
    """Every line of the stage's access log so far."""
    logs, group = client(api, "logs"), physical(api, "ApiAccessLogs")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    return [
        json.loads(event["message"])
        for stream in streams
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    ]


def test_a_route_answers_429_past_its_burst_and_the_access_log_counts_them(api: Api) -> None:
    limits = resources()["HttpApiStage"]["Properties"]["RouteSettings"]["If"][1]["GET /openapi.json"]
    burst, rate = limits["ThrottlingBurstLimit"], limits["ThrottlingRateLimit"]
    # One client, one call at a time: N calls of t seconds each meet a 429 while N exceeds
    # burst + rate * N * t. With N = 4 x burst that holds up to t = 150 ms a call (a spec
    # read takes a few ms here), so a busy machine cannot refill the bucket fast enough.
    answers = [api.get("/openapi.json") for _ in range(4 * burst)]
    time.sleep(burst / rate)  # the bucket full again, for whichever test reads the spec next
    refused = [answer for answer in answers if answer.status == 429]
    logged = {line["requestId"]: line for line in _access_log(api)}

    assert answers[0].status == 200
    assert refused, [answer.status for answer in answers]
    assert {answer.status for answer in answers} == {200, 429}
    assert all(answer.body == {"message": "Too Many Requests"} for answer in refused)
    line = logged[refused[-1].headers["apigw-requestid"]]
    assert (line["routeKey"], line["status"], line["sub"]) == ("GET /openapi.json", "429", "-")


def test_the_access_log_names_the_caller_by_sub_and_never_by_email(api: Api) -> None:
    person = api.person()
    answer = api.get("/customers/me", person.token)
    (line,) = (line for line in _access_log(api) if line["requestId"] == answer.headers["apigw-requestid"])

    assert line["sub"] == claims_of(person.token)["sub"]
    assert (line["routeKey"], line["status"]) == ("GET /customers/me", str(answer.status))
    assert person.email not in json.dumps(line)
    assert line["sourceIp"] and line["responseLatencyMs"].isdigit()


@pytest.mark.parametrize("output", ["CustomersTableName", "LedgerTableName"])
def test_a_context_table_refuses_to_be_deleted(api: Api, output: str) -> None:
    dynamodb = client(api, "dynamodb")
    table = api.outputs[output]

    # Checked first: an unprotected table (make run's, when attached) is never sent a delete.
    assert dynamodb.describe_table(TableName=table)["Table"]["DeletionProtectionEnabled"] is True
    with pytest.raises(ClientError, match="protected against deletion"):
        dynamodb.delete_table(TableName=table)
    assert dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"


def test_only_the_sync_and_the_sweeper_may_publish_to_the_email_bus(api: Api) -> None:
    attributes = client(api, "sns").get_topic_attributes(TopicArn=api.outputs["EmailBusTopicArn"])[
        "Attributes"
    ]
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    publishers = {role_arn(api, "SyncFunctionRole"), role_arn(api, "SweeperFunctionRole")}

    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "sns:Publish")
    excepted = set(statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    assert publishers <= excepted
    # The rest are the same two roles' sessions (ministack's aws:PrincipalArn under AUTH=true).
    sessions = excepted - publishers
    assert {arn.split("/")[1] for arn in sessions} == {arn.split("/")[-1] for arn in publishers}
    assert all(arn.startswith("arn:aws:sts::") and arn.endswith("/*") for arn in sessions)


def test_the_email_bus_key_rotates_and_only_the_publishers_may_use_it(api: Api) -> None:
    kms, iam = client(api, "kms"), client(api, "iam")
    key_id = physical(api, "EmailBusKey")
    roles = {
        logical: name
        for logical, name in _resources(api.aws_url, api.stack_name).items()
        if "Role" in logical
    }

    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    sns_statement = next(s for s in policy["Statement"] if s["Principal"] == {"Service": "sns.amazonaws.com"})
    assert sns_statement["Condition"]["ArnLike"]["aws:SourceArn"] == api.outputs["EmailBusTopicArn"]
    granted = {
        logical
        for logical, name in roles.items()
        if "email-bus-key" in iam.list_role_policies(RoleName=name)["PolicyNames"]
    }
    assert granted == {"SyncFunctionRole", "SweeperFunctionRole"}


FUNCTIONS = tuple(logical_ids(FUNCTION_TYPE))


def test_the_pipeline_functions_run_on_the_concurrency_they_reserve(api: Api) -> None:
    lambda_ = client(api, "lambda")
    reserved = {
        logical: lambda_.get_function_concurrency(FunctionName=physical(api, logical)).get(
            "ReservedConcurrentExecutions"
        )
        for logical in FUNCTIONS
    }

    # The API functions are bounded by their routes' throttles instead (docs/operations.md).
    assert {logical: count for logical, count in reserved.items() if count is not None} == {
        "SyncFunction": 10,
        "NotifyFunction": 2,
        "SweeperFunction": 1,
    }


def test_the_email_bus_names_its_key(api: Api) -> None:
    attributes = client(api, "sns").get_topic_attributes(TopicArn=api.outputs["EmailBusTopicArn"])[
        "Attributes"
    ]

    assert attributes["KmsMasterKeyId"] == physical(api, "EmailBusKey")


@pytest.mark.parametrize("table", ["CustomersTable", "LedgerTable", "IdempotencyTable"])
def test_every_table_can_be_restored_to_a_point_in_time(api: Api, table: str) -> None:
    described = client(api, "dynamodb").describe_continuous_backups(TableName=physical(api, table))
    recovery = described["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]

    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"


def test_notify_never_runs_more_batches_than_its_reservation(api: Api) -> None:
    (mapping,) = client(api, "lambda").list_event_source_mappings(
        FunctionName=physical(api, "NotifyFunction")
    )["EventSourceMappings"]
    concurrency = client(api, "lambda").get_function_concurrency(FunctionName=physical(api, "NotifyFunction"))

    # Both are the template's NotifyConcurrency, whose default the e2e stack deploys.
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert concurrency["ReservedConcurrentExecutions"] == 2


def test_the_api_runs_a_function_only_as_its_permission_allows(api: Api) -> None:
    lambda_, function = client(api, "lambda"), physical(api, "QueriesFunction")
    sid = physical(api, "QueriesPermission")
    (statement,) = (
        s
        for s in json.loads(lambda_.get_policy(FunctionName=function)["Policy"])["Statement"]
        if s["Sid"] == sid
    )
    lambda_.remove_permission(FunctionName=function, StatementId=sid)
    try:
        without = api.get("/openapi.json")
    finally:
        lambda_.add_permission(
            FunctionName=function,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal=statement["Principal"]["Service"],
            SourceArn=statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        )
    with_it = api.get("/openapi.json")

    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert (without.status, without.body) == (500, {"message": "Internal Server Error"})
    (line,) = (line for line in _access_log(api) if line["requestId"] == without.headers["apigw-requestid"])
    assert line["integrationError"].startswith("The IAM role configured on the integration")
    assert with_it.status == 200
