"""``make iam-check``: every action a function's policy allows is needed, and a test proves it.

For each function of template.yaml, each action of its own policy (the inline statements:
SAM's ``Policies`` or its explicit role's ``Policies``) is removed in turn; the stack with
that one removal runs the tests of tests/e2e/test_least_privilege.py marked as exercising
the function, and they must fail. A removal no test catches is an action to delete from
the template, or a test to write.

One ministack (AUTH=true) and one deployment serve the whole run: a variant is applied by
replacing the role's inline policy through IAM (the deployed document minus the action),
and undone the same way. ``--via sam`` instead writes each variant of the built template
to a temporary folder and deploys it with ``sam deploy`` (the same change, through
CloudFormation; slower, see docs/reliability.md). A removal counts as caught when the tests
fail; the report also says whether the removed action was seen denied (a function's
AccessDenied, or a mapping that may not read its source). A failure without that denial is
run again, and counts only if it fails again: a busy machine's timeout is not a catch.

``python -m tests.iam_check [--function SyncFunction ...] [--via iam|sam]``
"""

import argparse
import copy
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml

from devstack.config import ROOT, DevStack
from devstack.deploy import sam
from devstack.processes import free_port
from devstack.progress import print_progress_to_stderr
from devstack.stack import RunningStack, running_stack
from devstack.template import FUNCTION_TYPE, template_document
from tests.e2e import test_least_privilege

TESTS = "tests/e2e/test_least_privilege.py"
REPORT = ROOT / ".local" / "iam-check" / "report.json"
STACK_NAME = "wallet-iam-check"


@dataclass(frozen=True)
class Removal:
    function: str  # logical id of the function
    role: str  # logical id of its role (SAM names the one it makes <Function>Role)
    policy: str  # the inline policy's name (SAM: <Function>RolePolicy<n>)
    statement: int  # index in the policy's Statement list
    sid: str
    action: str

    def __str__(self) -> str:
        return f"{self.function} {self.sid or f'statement {self.statement}'} {self.action}"


@dataclass(frozen=True)
class Outcome:
    removal: Removal
    caught: bool
    denied_seen: bool
    seconds: float


def removals(template: dict[str, Any]) -> list[Removal]:
    """One per action of each Allow statement of each function's own inline policies."""
    resources: dict[str, Any] = template["Resources"]
    found: list[Removal] = []
    for function, resource in resources.items():
        if resource["Type"] != FUNCTION_TYPE:
            continue
        properties = resource["Properties"]
        if "Role" in properties:  # !GetAtt <Role>.Arn: an explicit role of the template
            role = str(properties["Role"]["GetAtt"]).split(".", 1)[0]
            policies = [
                (policy["PolicyName"], policy["PolicyDocument"])
                for policy in resources[role]["Properties"].get("Policies", [])
            ]
        else:
            role = f"{function}Role"
            policies = [
                (f"{role}Policy{index}", policy)
                for index, policy in enumerate(properties.get("Policies", []))
                if isinstance(policy, dict) and "Statement" in policy
            ]
        for name, document in policies:
            for index, statement in enumerate(document["Statement"]):
                if statement.get("Effect") == "Allow":
                    found += [
                        Removal(function, role, name, index, statement.get("Sid", ""), action)
                        for action in _actions(statement)
                    ]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def without(document: dict[str, Any], removal: Removal) -> dict[str, Any]:
    """``document`` (a policy) without the removal's action; a statement left empty goes."""
    variant = copy.deepcopy(document)
    statement = variant["Statement"][removal.statement]
    actions = _actions(statement)
    if removal.action not in actions:
        raise ValueError(f"{removal}: statement {removal.statement} of the policy is {statement}")
    rest = [action for action in actions if action != removal.action]
    if rest:
        statement["Action"] = rest
    else:
        del variant["Statement"][removal.statement]
    return variant


def tests_exercising() -> dict[str, list[str]]:
    """Function -> the node ids of the tests marked as exercising it."""
    chosen: dict[str, list[str]] = {}
    # In the module's order: the broadest test first, so that most removals fail it at once.
    for name, test in vars(test_least_privilege).items():
        for mark in getattr(test, "pytestmark", []) if inspect.isfunction(test) else []:
            if mark.name == "exercises":
                for function in mark.args:
                    chosen.setdefault(function, []).append(f"{TESTS}::{name}")
    return chosen


class Stack:
    """The deployed stack of the run, seen with the local (root) credentials."""

    def __init__(self, running: RunningStack) -> None:
        self.running = running
        self.config = running.config
        self._session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        described = self.client("cloudformation").describe_stack_resources(StackName=self.config.stack_name)
        self.resources = {
            r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described["StackResources"]
        }

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.config.endpoint)  # type: ignore[call-overload]

    def policy(self, removal: Removal) -> dict[str, Any]:
        answer = self.client("iam").get_role_policy(
            RoleName=self.resources[removal.role], PolicyName=removal.policy
        )
        document: dict[str, Any] = answer["PolicyDocument"]
        return json.loads(document) if isinstance(document, str) else document

    def put_policy(self, removal: Removal, document: dict[str, Any]) -> None:
        self.client("iam").put_role_policy(
            RoleName=self.resources[removal.role],
            PolicyName=removal.policy,
            PolicyDocument=json.dumps(document),
        )

    def denied(self, action: str, since: float, ministack_log_offset: int) -> bool:
        """Whether ``action`` was refused since then: a function's log, a mapping, ministack's log."""
        needle = f"not authorized to perform: {action}"
        logs = self.client("logs")
        for logical_id in test_least_privilege.FUNCTIONS:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{self.resources[logical_id]}", startTime=int(since * 1000)
            )
            if any(needle in event["message"] for page in pages for event in page["events"]):
                return True
        with self.running.ministack.log_path.open(errors="replace") as log:
            log.seek(ministack_log_offset)
            return needle in log.read()

    def ministack_log_size(self) -> int:
        return self.running.ministack.log_path.stat().st_size


def run_tests(stack: Stack, node_ids: list[str], log: Path) -> bool:
    """Whether the tests pass on the deployed stack (the e2e suite attached to it)."""
    environment = {
        **os.environ,
        "WALLET_E2E_API_URL": stack.running.api_url,
        "WALLET_E2E_AWS_URL": stack.config.endpoint,
        "WALLET_STACK_NAME": stack.config.stack_name,
    }
    command = [sys.executable, "-m", "pytest", *node_ids, "-x", "-q", "-p", "no:cacheprovider"]
    with log.open("a") as output:
        output.write(f"\n$ {' '.join(command)}\n")
        output.flush()
        done = subprocess.run(command, cwd=ROOT, env=environment, stdout=output, stderr=output, check=False)
    return done.returncode == 0


class ByIam:
    """A variant applied by replacing the deployed role's inline policy, and undone the same way."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    def apply(self, removal: Removal) -> Callable[[], None]:
        original = self._stack.policy(removal)
        self._stack.put_policy(removal, without(original, removal))
        return lambda: self._stack.put_policy(removal, original)


class BySam:
    """A variant of the built template (.aws-sam/build/template.yaml, what ``sam deploy``
    deploys) written to a temporary folder and deployed with ``sam deploy``."""

    def __init__(self, stack: Stack, folder: Path) -> None:
        self._stack = stack
        self._folder = folder
        built = ROOT / ".aws-sam" / "build"
        self._base: dict[str, Any] = yaml.safe_load((built / "template.yaml").read_text())
        for resource in self._base["Resources"].values():
            for key in ("CodeUri", "ContentUri"):
                location = resource.get("Properties", {}).get(key)
                if isinstance(location, str) and not location.startswith("s3://"):
                    resource["Properties"][key] = str(built / location)

    def apply(self, removal: Removal) -> Callable[[], None]:
        self._deploy(self._variant(removal))
        return lambda: self._deploy(self._base)

    def _variant(self, removal: Removal) -> dict[str, Any]:
        variant = copy.deepcopy(self._base)
        resources = variant["Resources"]
        if removal.role in resources:
            policy = next(
                p
                for p in resources[removal.role]["Properties"]["Policies"]
                if p["PolicyName"] == removal.policy
            )
            policy["PolicyDocument"] = without(policy["PolicyDocument"], removal)
        else:
            policies = resources[removal.function]["Properties"]["Policies"]
            index = int(removal.policy.removeprefix(removal.role + "Policy"))
            policies[index] = without(policies[index], removal)
        return variant

    def _deploy(self, template: dict[str, Any]) -> None:
        path = self._folder / "template.yaml"
        path.write_text(yaml.safe_dump(template, sort_keys=False))
        config = self._stack.config
        sam(
            config,
            "deploy",
            "--template-file",
            str(path),
            # SAM reads samconfig.toml beside the template otherwise.
            "--config-file",
            str(ROOT / "samconfig.toml"),
            "--config-env",
            "local",
            "--stack-name",
            config.stack_name,
            "--parameter-overrides",
            *config.parameter_overrides,
        )


def check(functions: list[str] | None, via: str) -> list[Outcome]:
    chosen = [r for r in removals(template_document()) if not functions or r.function in functions]
    tests = tests_exercising()
    untested = sorted({r.function for r in chosen} - tests.keys())
    if untested:
        raise SystemExit(f"no test is marked as exercising {', '.join(untested)}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    log = REPORT.with_suffix(".log")
    log.write_text("")
    config = DevStack(
        endpoint_port=free_port(), api_port=free_port(), authorizer_port=free_port(), stack_name=STACK_NAME
    )
    with (
        running_stack(config, None, print_progress_to_stderr) as running,
        tempfile.TemporaryDirectory(prefix="iam-check-") as folder,
    ):
        stack = Stack(running)
        every_test = sorted({node for nodes in tests.values() for node in nodes})
        print_progress_to_stderr(
            f"baseline: {len(every_test)} tests with the template's own policies (pytest output: {log})"
        )
        # Twice at most: the first run meets every function cold, on a machine that may be busy.
        if not (run_tests(stack, every_test, log) or run_tests(stack, every_test, log)):
            raise SystemExit(f"the tests fail with the template's own policies: nothing to judge ({log})")
        applier = BySam(stack, Path(folder)) if via == "sam" else ByIam(stack)
        return [_one(stack, applier, removal, tests[removal.function], log) for removal in chosen]


def _one(stack: Stack, applier: ByIam | BySam, removal: Removal, node_ids: list[str], log: Path) -> Outcome:
    started, offset = time.time(), stack.ministack_log_size()
    undo = applier.apply(removal)
    try:
        caught = not run_tests(stack, node_ids, log)
        denied = stack.denied(removal.action, started, offset)
        if caught and not denied:
            # Failed, yet the action was never refused: a slow machine rather than the removal?
            # It counts as caught only if it fails again.
            caught = not run_tests(stack, node_ids, log)
    finally:
        undo()
    outcome = Outcome(removal, caught, denied, round(time.time() - started, 1))
    verdict = "caught" if caught else "NOT CAUGHT"
    print_progress_to_stderr(
        f"{verdict:10} {removal} ({outcome.seconds:.0f} s{', denied' if denied else ''})"
    )
    return outcome


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--function", action="append", help="only this function's actions (repeatable)")
    parser.add_argument("--via", choices=["iam", "sam"], default="iam", help="how each variant is applied")
    options = parser.parse_args(arguments)
    started = time.monotonic()
    outcomes = check(options.function, options.via)
    minutes = (time.monotonic() - started) / 60
    caught = sum(outcome.caught for outcome in outcomes)
    summary = {
        "removals": len(outcomes),
        "caught": caught,
        "denied_seen": sum(outcome.denied_seen for outcome in outcomes),
        "minutes": round(minutes, 1),
        "via": options.via,
        "outcomes": [{**asdict(o.removal), **asdict(o), "removal": str(o.removal)} for o in outcomes],
    }
    REPORT.write_text(json.dumps(summary, indent=2) + "\n")
    for outcome in outcomes:
        if not outcome.caught:
            print(f"not caught: {outcome.removal}")
    print(
        f"{len(outcomes)} removals, {caught} caught, in {minutes:.1f} min ({options.via}); report in {REPORT}"
    )
    if caught < len(outcomes):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
