"""The deployed stack's side of the local AWS (ministack): what the tests look at and switch.

- the pipeline's backlog: outbox events still ``pending`` (the tables'
  sparse ``pending`` index), messages in the notifications queue and its DLQ;
- the sweeper, invoked like the schedule invokes it;
- SES: the sandbox switch (a real fault: unverified recipients are refused) and the
  e-mails ministack captured;
- two test-only settings of the LOCAL stack, both documented in docs/reliability.md:
  the sweeper's grace period and the notifications queue's visibility timeout.
"""

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import boto3

from devstack.config import ROOT
from devstack.redrive import redrive
from devstack.ses_inbox import app_messages
from devstack.wallet_client import plain_items

SWEEPER_EVENT = (ROOT / "events" / "sweeper_schedule.json").read_bytes()
# The sweeper's Timeout in template.yaml, plus a margin: the longest a scheduled sweep holds it.
SWEEP_TIMEOUT_SECONDS = 70
_TRANSACTION_IN_BODY = re.compile(r"Transação: ([0-9a-f-]{36})")


@dataclass(frozen=True)
class Email:
    to: str
    transaction_id: str
    role: str  # "payer" (the receipt) or "payee" (the confirmation)


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    stack_name: str
    outputs: dict[str, str]

    def client(self, service: str) -> Any:
        return _client(service, self.endpoint)

    @cached_property
    def resources(self) -> dict[str, str]:
        """Logical id -> physical id of every resource of the stack."""
        described = self.client("cloudformation").describe_stack_resources(StackName=self.stack_name)
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described["StackResources"]}

    def scan(self, table: str) -> list[dict[str, Any]]:
        """Every item of a table, as plain Python values."""
        return plain_items(self.client("dynamodb"), table)

    # ------------------------------------------------------------------ backlog
    def pending_events(self) -> int:
        """Outbox events still in either table's sparse pending index (a scan of the index:
        the only items it holds are pending events, whatever their shard)."""
        dynamodb = self.client("dynamodb")
        total = 0
        for table in (self.outputs["CustomersTableName"], self.outputs["LedgerTableName"]):
            for page in dynamodb.get_paginator("scan").paginate(
                TableName=table,
                IndexName="pending",
                Select="COUNT",
            ):
                total += page["Count"]
        return total

    def queue_depth(self, output: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.outputs[output], AttributeNames=["All"]
        )["Attributes"]
        names = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        return sum(int(attributes.get(name, 0)) for name in names)

    def backlog(self) -> dict[str, int]:
        return {
            "pending_events": self.pending_events(),
            "queued_emails": self.queue_depth("NotificationsQueueUrl"),
        }

    def wait_until_idle(self, timeout_seconds: float) -> dict[str, int]:
        """Wait (bounded) until no event or queued e-mail is left; the last backlog."""
        return wait_for(self.backlog, lambda backlog: not any(backlog.values()), timeout_seconds)

    # ------------------------------------------------------------------ sweeper
    def sweep(self) -> dict[str, Any]:
        """Invoke the deployed sweeper with the schedule's event; its report.

        Its reserved concurrency is 1: while the scheduled sweep runs, an invocation is
        throttled, and is made again once that sweep is over (docs/operations.md).
        """
        lambda_ = self.client("lambda")
        deadline = time.monotonic() + SWEEP_TIMEOUT_SECONDS
        while True:
            try:
                answer = lambda_.invoke(FunctionName=self.resources["SweeperFunction"], Payload=SWEEPER_EVENT)
                break
            except lambda_.exceptions.TooManyRequestsException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert "FunctionError" not in answer, answer["Payload"].read()
        report: dict[str, Any] = json.loads(answer["Payload"].read())
        return report

    def sweep_until_no_event_is_pending(self, max_runs: int = 50) -> list[dict[str, Any]]:
        """Run the sweeper again while outbox events are still pending, as its schedule would
        (a run stops early when it runs out of time); the reports of the runs."""
        reports = [self.sweep()]
        while self.pending_events() and len(reports) < max_runs:
            reports.append(self.sweep())
        return reports

    def set_sweeper_grace(self, seconds: int) -> None:
        self._set_environment("SweeperFunction", SWEEP_GRACE_SECONDS=str(seconds))

    def _set_environment(self, logical_id: str, **variables: str) -> None:
        lambda_client = self.client("lambda")
        name = self.resources[logical_id]
        current = lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
        lambda_client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {**current, **variables}}
        )
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)

    # ------------------------------------------------------------------ queue
    def set_notifications_visibility_timeout(self, seconds: int) -> None:
        self.client("sqs").set_queue_attributes(
            QueueUrl=self.outputs["NotificationsQueueUrl"], Attributes={"VisibilityTimeout": str(seconds)}
        )

    def redrive_notifications(self) -> int:
        """The documented local re-drive (devstack/redrive.py): DLQ -> queue, all of it."""
        return redrive(
            self.outputs["NotificationsDLQUrl"],
            self.outputs["NotificationsQueueUrl"],
            limit=100_000,
            client=self.client("sqs"),
        )

    # ------------------------------------------------------------------ SES
    def ses_sandbox(self, on: bool) -> None:
        """In the SES sandbox, SES refuses every recipient that is not a verified identity."""
        self.client("sesv2").put_account_details(
            MailType="TRANSACTIONAL",
            WebsiteURL="https://wallet.example.com",
            UseCaseDescription="wallet reliability suite",
            ProductionAccessEnabled=not on,
        )

    def verify_addresses(self, addresses: Iterable[str]) -> None:
        ses = self.client("sesv2")
        for address in addresses:
            ses.create_email_identity(EmailIdentity=address)

    def emails(self) -> list[Email]:
        """Every e-mail of the app ministack's SES accepted, as (recipient, transaction, role);
        Cognito's own (sign-up codes) are not the app's."""
        return [_email(message) for message in app_messages(self.endpoint)]


def _email(message: dict[str, Any]) -> Email:
    found = _TRANSACTION_IN_BODY.search(message.get("BodyText") or "")
    transaction_id = found[1] if found else "?"
    role = "payer" if str(message.get("Subject", "")).startswith("Comprovante") else "payee"
    recipients = message.get("To") or ["?"]
    return Email(str(recipients[0]), transaction_id, role)


@cache
def _client(service: str, endpoint: str) -> Any:
    """One client per service and endpoint: the drains poll every half second."""
    return boto3.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def wait_for[T](probe: Callable[[], T], done: Callable[[T], bool], timeout_seconds: float) -> T:
    """Poll ``probe`` until ``done`` says so or the time is up; the last value either way."""
    deadline = time.monotonic() + timeout_seconds
    value = probe()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.5)
        value = probe()
    return value
