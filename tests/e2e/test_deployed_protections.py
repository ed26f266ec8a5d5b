"""The template's limits and protections, read back from the deployed stack through the AWS APIs.

What ministack stores is checked here: the stage's access log and route settings, the tables'
deletion protection (a DeleteTable is refused), the e-mail bus's key, its publishers-only
policy and the key's use granted to those two publishers only, the notify mapping's
concurrency. What it stores without applying (the throttles, the access log's lines, the
functions' reserved concurrency, the topic's key) is in docs/local-stack.md (G16-G20).
"""

import json
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.template import resources
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


def test_the_stage_names_a_throttle_for_every_route_the_template_sizes(api: Api) -> None:
    stage = client(api, "apigatewayv2").get_stage(ApiId=api.outputs["ApiId"], StageName="$default")
    sized = resources()["HttpApiStage"]["Properties"]["RouteSettings"]

    # The values read back empty from ministack (G17); the routes are there.
    assert set(stage["RouteSettings"]) == set(sized)
    routes = client(api, "apigatewayv2").get_routes(ApiId=api.outputs["ApiId"])["Items"]
    assert set(sized) <= {route["RouteKey"] for route in routes}


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


def test_notify_never_runs_more_batches_than_its_reservation(api: Api) -> None:
    (mapping,) = client(api, "lambda").list_event_source_mappings(
        FunctionName=physical(api, "NotifyFunction")
    )["EventSourceMappings"]
    reserved = resources()["NotifyFunction"]["Properties"]["ReservedConcurrentExecutions"]

    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert reserved == {"If": ["ReservingConcurrency", 2, {"Ref": "AWS::NoValue"}]}
