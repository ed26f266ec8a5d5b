"""Least privilege, proven on the deployed stack: each function does its whole job with only
the permissions template.yaml gives it.

ministack runs with AUTH=true (devstack/config.py): every function calls AWS with its
execution role's session credentials, the event source mappings read their stream or queue
as that role (docs/local-stack.md, G13), and SNS delivers to the queue through its queue
policy. What a role lacks shows up as an AccessDenied the function logs, as a mapping that
reports a PROBLEM, or as work left pending; each test fails on any of the three.

``make iam-check`` (tests/iam_check.py) removes one action at a time from one function's
policy and runs the tests marked as exercising that function: every removal must fail them.
"""

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from devstack import wallet_client
from devstack.config import ROOT
from devstack.documents import new_cpf
from devstack.event_sources import mappings_paused
from devstack.template import FUNCTION_TYPE, logical_ids
from devstack.wallet_client import Customer, Reply, bearer, new_person, scan, wait_until_active
from tests.e2e.conftest import Api, eventually
from tests.reliability.aws import LocalAws

DENIAL = re.compile(r"AccessDenied|is not authorized to perform")
SQS_EVENT = ROOT / "events" / "notify_sqs.json"
# The sync opens an account within a second or two; as long as ``eventually`` waits.
ACTIVATION_SECONDS = 30
FUNCTIONS = tuple(logical_ids(FUNCTION_TYPE))


def exercises(*functions: str) -> pytest.MarkDecorator:
    """The functions whose policies a test needs whole: what ``make iam-check`` runs it for."""
    assert set(functions) <= set(FUNCTIONS), functions
    return pytest.mark.exercises(*functions)


def keyed(token: str, key: str | None = None) -> dict[str, str]:
    return {**bearer(token), "Idempotency-Key": key or str(uuid.uuid4())}


@pytest.fixture(scope="module")
def aws(api: Api) -> LocalAws:
    """The deployed stack, seen with the local (root) credentials: the one whose user pool the API trusts."""
    probe = LocalAws(api.aws_url, "", {})
    for stack in probe.client("cloudformation").describe_stacks()["Stacks"]:
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        if outputs.get("UserPoolId") == api.cognito.user_pool_id:
            return LocalAws(api.aws_url, stack["StackName"], outputs)
    raise LookupError(f"no stack on {api.aws_url} owns user pool {api.cognito.user_pool_id}")


def register(api: Api) -> Customer:
    email, token = new_person(api.cognito, "iam")
    return wallet_client.register(api.http, email, token, name="Cliente IAM")


def read(api: Api, path: str, token: str) -> Reply:
    return api.call("GET", path, headers=bearer(token))


def active(api: Api, person: Customer) -> None:
    wait_until_active(api.http, [person], ACTIVATION_SECONDS, pause_seconds=0.2)


def statement(api: Api, person: Customer, transactions: int) -> list[dict[str, Any]]:
    def entries() -> list[dict[str, Any]] | None:
        answer = read(api, f"/customers/{person.id}/transactions", person.token)
        assert answer.status == 200, answer
        items: list[dict[str, Any]] = answer.body["items"]
        return items if len(items) >= transactions else None

    return eventually(entries)


def subjects(api: Api, person: Customer, count: int) -> list[str]:
    """The subjects of the e-mails sent to ``person``, once there are ``count`` of them."""

    def sent() -> list[str] | None:
        found = [message["Subject"] for message in api.emails_to(person.email)]
        return sorted(found) if len(found) >= count else None

    return eventually(sent)


def untouched(aws: LocalAws, *people: Customer) -> None:
    """Wait until nothing of theirs is pending (outbox events, queued e-mails): the pipeline
    finished their work, marking each step done, which a denied update would have stopped."""
    names = (aws.outputs["CustomersTableName"], aws.outputs["LedgerTableName"])

    def settled() -> bool | None:
        pending = [item for table in names for item in scan(aws.client("dynamodb"), table, index="pending")]
        return not any(p.id in json.dumps(item) for item in pending for p in people) or None

    eventually(settled)


def denials(aws: LocalAws, since: float) -> list[str]:
    """AccessDenied errors the stack's functions logged since ``since``, and mappings whose
    role may not read their source."""
    logs, lambda_ = aws.client("logs"), aws.client("lambda")
    found: list[str] = []
    for logical_id in FUNCTIONS:
        name = aws.resources[logical_id]
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{name}", startTime=int(since * 1000)
        ):
            found += [
                f"{logical_id}: {e['message'][:600]}" for e in page["events"] if DENIAL.search(e["message"])
            ]
        for mapping in lambda_.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]:
            if str(mapping.get("LastProcessingResult", "")).startswith("PROBLEM"):
                found.append(f"{logical_id}: {mapping['LastProcessingResult']}")
    return found


@contextmanager
def no_denials(aws: LocalAws) -> Iterator[None]:
    since = time.time()
    yield
    assert denials(aws, since) == []


# Every function but the sweeper, for which the stream leaves nothing to do.
@exercises(*(name for name in FUNCTIONS if name != "SweeperFunction"))
def test_register_activate_deposit_transfer_read_and_email_with_only_the_templates_policies(
    api: Api, aws: LocalAws
) -> None:
    with no_denials(aws):
        ana, bia = register(api), register(api)
        again = api.post(
            "/customers", {"name": "Ana", "document": new_cpf(), "type": "individual"}, bearer(ana.token)
        )
        assert (again.status, again.body["error"]) == (409, "customer_already_exists")
        active(api, ana)
        active(api, bia)

        rail = api.cognito.rail_token()
        nobody = str(uuid.uuid4())
        unknown = api.post(f"/customers/{nobody}/deposits", {"amount": "1.00"}, keyed(rail))
        assert (unknown.status, unknown.body["error"]) == (404, "customer_not_found"), unknown
        key = keyed(rail)
        deposit = api.post(f"/customers/{ana.id}/deposits", {"amount": "100.00"}, key)
        assert deposit.status == 201, deposit
        assert api.post(f"/customers/{ana.id}/deposits", {"amount": "100.00"}, key).body == deposit.body

        stranger = api.post("/transfers", {"payee": nobody, "value": "1.00"}, keyed(ana.token))
        assert (stranger.status, stranger.body["error"]) == (404, "customer_not_found"), stranger
        transfer = api.post("/transfers", {"payee": bia.id, "value": "12.34"}, keyed(ana.token))
        assert transfer.status == 201, transfer

        assert read(api, f"/transfers/{transfer.body['id']}", bia.token).body == transfer.body
        assert read(api, f"/customers/{ana.id}/balance", ana.token).body["balance"] == "87.66"
        assert [e["transaction_id"] for e in statement(api, bia, 1)] == [transfer.body["id"]]
        assert len(statement(api, ana, 2)) == 2
        assert subjects(api, ana, 2) == [
            "Comprovante: você enviou R$ 12,34",
            "Depósito de R$ 100,00 recebido",
        ]
        assert subjects(api, bia, 1) == ["Você recebeu R$ 12,34"]
        untouched(aws, ana, bia)


def failure_record(aws: LocalAws, stream_arn: str, since: float) -> dict[str, Any] | None:
    """The sync DLQ's record of a batch of ``stream_arn`` sent there since ``since``, taken off
    the queue; any other message is left where it was."""
    sqs, dlq = aws.client("sqs"), aws.outputs["SyncDLQUrl"]
    answer = sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
    )
    for message in answer.get("Messages", []):
        record: dict[str, Any] = json.loads(message["Body"])
        sent = int(message["Attributes"]["SentTimestamp"]) / 1000
        if sent >= since and record.get("DDBStreamBatchInfo", {}).get("streamArn") == stream_arn:
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            return record
        sqs.change_message_visibility(
            QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return None


@exercises("SyncFunction")
def test_an_outbox_event_the_sync_cannot_apply_lands_in_its_dead_letter_queue(aws: LocalAws) -> None:
    dynamodb, table = aws.client("dynamodb"), aws.outputs["CustomersTableName"]
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    poison = {"pk": {"S": f"EVENT#{uuid.uuid4()}"}, "sk": {"S": "EVENT"}}
    with no_denials(aws):
        since = int(time.time() * 1000) / 1000  # SentTimestamp has whole milliseconds
        # No pending_kind: the sweeper never picks it up; only the stream delivers it.
        dynamodb.put_item(
            TableName=table, Item={**poison, "entity": {"S": "outbox"}, "payload": {"S": "not an event"}}
        )
        try:
            failed = eventually(lambda: failure_record(aws, stream_arn, since))
        finally:
            dynamodb.delete_item(TableName=table, Key=poison)
        assert failed["requestContext"]["condition"] == "RetryAttemptsExhausted"


@contextmanager
def sync_paused(aws: LocalAws) -> Iterator[None]:
    """The sync's stream mappings disabled: what the outbox holds waits for the sweeper."""
    lambda_ = aws.client("lambda")
    mappings = lambda_.list_event_source_mappings(FunctionName=aws.resources["SyncFunction"])
    with mappings_paused(lambda_, [mapping["UUID"] for mapping in mappings["EventSourceMappings"]]):
        yield


@contextmanager
def sweeper_grace(aws: LocalAws, seconds: int) -> Iterator[None]:
    variables = aws.client("lambda").get_function_configuration(FunctionName=aws.resources["SweeperFunction"])
    grace = variables["Environment"]["Variables"]["SWEEP_GRACE_SECONDS"]
    aws.set_sweeper_grace(seconds)
    try:
        yield
    finally:
        aws.set_sweeper_grace(int(grace))


@exercises("SweeperFunction")
def test_the_sweeper_activates_and_finishes_what_the_stream_left(api: Api, aws: LocalAws) -> None:
    with no_denials(aws), sweeper_grace(aws, 0), sync_paused(aws):
        carla = register(api)
        assert aws.sweep()["events_applied"] >= 1
        active(api, carla)
        deposit = api.post(
            f"/customers/{carla.id}/deposits", {"amount": "5.00"}, keyed(api.cognito.rail_token())
        )
        assert deposit.status == 201, deposit
        assert aws.sweep()["events_applied"] >= 1
        assert [e["transaction_id"] for e in statement(api, carla, 1)] == [deposit.body["id"]]
        assert subjects(api, carla, 1) == ["Depósito de R$ 5,00 recebido"]
        untouched(aws, carla)


@exercises("NotifyFunction")
def test_an_email_ses_refuses_leaves_no_dedup_record_behind(api: Api, aws: LocalAws) -> None:
    """A failed send deletes its idempotency record, so that the queue's retry sends it."""
    dora = register(api)
    active(api, dora)
    logs = aws.client("logs")
    group = f"/aws/lambda/{aws.resources['NotifyFunction']}"
    with no_denials(aws):
        since = int(time.time() * 1000)
        aws.ses_sandbox(on=True)  # SES now refuses every unverified recipient, Dora's address included
        try:
            deposit = api.post(
                f"/customers/{dora.id}/deposits", {"amount": "1.00"}, keyed(api.cognito.rail_token())
            )
            assert deposit.status == 201, deposit
            refused = eventually(
                lambda: (
                    [
                        e["message"]
                        for e in logs.filter_log_events(logGroupName=group, startTime=since)["events"]
                        if "MessageRejected" in e["message"]
                    ]
                    or None
                )
            )
        finally:
            aws.ses_sandbox(on=False)
        assert refused


@contextmanager
def tapped_email_bus(aws: LocalAws) -> Iterator[str]:
    """A queue of the test's own subscribed to the email bus: the URL where every message
    published to it lands too, raw."""
    sqs, sns = aws.client("sqs"), aws.client("sns")
    topic = aws.outputs["EmailBusTopicArn"]
    url = sqs.create_queue(QueueName=f"iam-tap-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    try:
        yield url
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=url)


@exercises("NotifyFunction")
def test_a_notification_delivered_twice_is_emailed_once(api: Api, aws: LocalAws) -> None:
    """The second delivery meets the first one's dedup record, which comes back with the
    refused put: the function needs no read of its idempotency table."""
    with no_denials(aws), tapped_email_bus(aws) as tap:
        eva = register(api)
        active(api, eva)
        deposit = api.post(
            f"/customers/{eva.id}/deposits", {"amount": "2.00"}, keyed(api.cognito.rail_token())
        )
        assert deposit.status == 201, deposit
        assert subjects(api, eva, 1) == ["Depósito de R$ 2,00 recebido"]
        published = eventually(
            lambda: (
                [
                    m["Body"]
                    for m in aws.client("sqs")
                    .receive_message(QueueUrl=tap, MaxNumberOfMessages=10)
                    .get("Messages", [])
                    if eva.id in m["Body"]
                ]
                or None
            )
        )
        record = {**json.loads(SQS_EVENT.read_text())["Records"][0], "body": published[0]}

        def delivered_again() -> dict[str, Any] | None:
            """The notify function invoked as the queue invokes it; until the first delivery's
            record is complete, the second one is refused as still in progress."""
            answer = aws.client("lambda").invoke(
                FunctionName=aws.resources["NotifyFunction"], Payload=json.dumps({"Records": [record]})
            )
            result: dict[str, Any] = json.loads(answer["Payload"].read())
            return result if not result.get("batchItemFailures") else None

        assert eventually(delivered_again) == {"batchItemFailures": []}
        assert len(api.emails_to(eva.email)) == 1
