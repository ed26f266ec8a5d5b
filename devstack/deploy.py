"""Deploy template.yaml to ministack with the SAM CLI, exactly as to AWS, then check it.

``sam build`` then ``sam deploy --config-env local`` with AWS_ENDPOINT_URL pointing at
ministack: what ``samlocal`` does. A re-run deploys only what changed.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from devstack.config import ROOT, DevStack
from devstack.progress import Progress


def sam(stack: DevStack, *arguments: str) -> None:
    # The SAM CLI and python3.13 (which `sam build` needs) live beside this interpreter.
    venv_bin = Path(sys.executable).parent
    environment = {**os.environ, **stack.aws_environment()}
    environment["PATH"] = f"{venv_bin}{os.pathsep}{environment.get('PATH', '')}"
    executable = str(venv_bin / "sam")
    subprocess.run([executable, *arguments], cwd=ROOT, env=environment, check=True)  # noqa: S603


def deploy(stack: DevStack, progress: Progress) -> dict[str, str]:
    """Build and deploy; return the stack's outputs."""
    progress("building the app (sam build)")
    sam(stack, "build", "--config-env", "local")
    progress("deploying to ministack (sam deploy --config-env local)")
    sam(
        stack,
        "deploy",
        "--config-env",
        "local",
        "--stack-name",
        stack.stack_name,
        "--parameter-overrides",
        *stack.parameter_overrides,
    )
    return outputs(stack)


def outputs(stack: DevStack) -> dict[str, str]:
    cloudformation = _client("cloudformation", stack)
    description = cloudformation.describe_stacks(StackName=stack.stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in description.get("Outputs", [])}


def verify(stack: DevStack, progress: Progress) -> None:
    """Check that every function, table, mapping, queue and subscription exists and is on."""
    resources = _client("cloudformation", stack).describe_stack_resources(StackName=stack.stack_name)
    problems: list[str] = []
    for resource in resources["StackResources"]:
        check = _CHECKS.get(resource["ResourceType"])
        if check is not None:
            problem = check(stack, resource["PhysicalResourceId"])
            if problem:
                problems.append(f"{resource['LogicalResourceId']}: {problem}")
    if problems:
        raise RuntimeError("the deployed stack is not complete:\n  " + "\n  ".join(problems))
    kinds = sorted({r["ResourceType"] for r in resources["StackResources"] if r["ResourceType"] in _CHECKS})
    progress(f"verified {len(resources['StackResources'])} resources ({', '.join(kinds)})")


def _client(service: str, stack: DevStack) -> Any:
    environment = stack.aws_environment()
    session = boto3.session.Session(
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        region_name=environment["AWS_REGION"],
    )
    return session.client(service, endpoint_url=stack.endpoint)  # type: ignore[call-overload]


def _function_problem(stack: DevStack, name: str) -> str | None:
    configuration = _client("lambda", stack).get_function(FunctionName=name)["Configuration"]
    return None if configuration.get("State", "Active") == "Active" else f"state {configuration['State']}"


def _table_problem(stack: DevStack, name: str) -> str | None:
    # Streams are checked through the mappings that read them.
    table = _client("dynamodb", stack).describe_table(TableName=name)["Table"]
    return None if table["TableStatus"] == "ACTIVE" else f"status {table['TableStatus']}"


def _mapping_problem(stack: DevStack, uuid: str) -> str | None:
    mapping = _client("lambda", stack).get_event_source_mapping(UUID=uuid)
    return None if mapping["State"] == "Enabled" else f"state {mapping['State']}"


def _queue_problem(stack: DevStack, url: str) -> str | None:
    _client("sqs", stack).get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return None


def _subscription_problem(stack: DevStack, arn: str) -> str | None:
    attributes = _client("sns", stack).get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    return None if attributes.get("PendingConfirmation", "false") == "false" else "pending confirmation"


_CHECKS: dict[str, Callable[[DevStack, str], str | None]] = {
    "AWS::Lambda::Function": _function_problem,
    "AWS::DynamoDB::Table": _table_problem,
    "AWS::Lambda::EventSourceMapping": _mapping_problem,
    "AWS::SQS::Queue": _queue_problem,
    "AWS::SNS::Subscription": _subscription_problem,
}
