"""The event pipeline on ministack: real tables, topic, queue and SES, real handlers.

Nothing is faked but the external authorizer. Stream events are built from the tables'
real DynamoDB streams (the records the stores' writes produced), filtered as the template's
FilterCriteria filter them; SQS events from the messages SNS really delivered to the queue.
The handlers are the functions' ``app.py``, loaded fresh for every test, so no cached
dependency outlives the test's tables.
"""

import copy
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import pytest

from devstack.documents import new_cpf
from devstack.ses_inbox import ses_messages
from devstack.template import create_table_request, resources
from devstack.wallet_client import scan
from tests.conftest import Tables
from tests.support.fakes import FakeAuthorizer
from tests.support.identities import RAIL_CLIENT_ID, Person
from tests.support.lambda_events import LambdaContext, fresh_handler, sample
from tests.support.servers import Server
from wallet import bootstrap
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.email_bus import SnsEmailBus
from wallet.adapters.ledger_store import LedgerStore
from wallet.adapters.statement_store import StatementStore
from wallet.domain.customers import Customer, CustomerType
from wallet.domain.statements import StatementEntry
from wallet.service.money_movement import MoneyMovement
from wallet.service.registration import register_customer

# How long ``emails_to`` waits for SES to have accepted what a handler just sent: notify
# sends at once, so a few seconds only cover a busy machine.
_POLL_SECONDS = 5.0


@dataclass
class PipelineStack:
    """One test's slice of the local AWS, and what a test does with it."""

    endpoint: str
    tables: Tables
    topic_arn: str
    queue_url: str
    sender: str
    idempotency_table: str
    customers: CustomersStore
    ledger: LedgerStore
    statements: StatementStore
    _seen: set[str] = field(default_factory=set)
    # Who signed in as each registered customer: the claims its requests carry.
    people: dict[str, Person] = field(default_factory=dict)

    # ------------------------------------------------------------ the write side, for real
    def register(self, name: str, type: CustomerType = CustomerType.INDIVIDUAL) -> Customer:
        person = Person.new(email=f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com")
        customer = register_customer(self.customers, person, name=name, document=new_cpf(), type=type)
        self.people[customer.id] = person
        return customer

    def money(self) -> MoneyMovement:
        return MoneyMovement(self.ledger, self.customers, FakeAuthorizer())

    def deposit(self, customer_id: str, centavos: int) -> str:
        """Money from the payment rail, under a reference of its own; the transaction's id."""
        movement = self.money().deposit(RAIL_CLIENT_ID, customer_id, centavos, str(uuid.uuid4()))
        return movement.transaction.id

    # ------------------------------------------------------------ the handlers
    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        return fresh_handler(function)(event, LambdaContext(function_name=f"wallet-{function}"))

    def sync(self, records: list[dict[str, Any]]) -> list[str]:
        """Run the sync on these records; the sequence numbers it reported as failed."""
        response = self.invoke("sync", {"Records": records})
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def notify(self, messages: list[dict[str, Any]]) -> list[str]:
        response = self.invoke("notify", {"Records": messages})
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    # ------------------------------------------------------------ DynamoDB streams
    def new_outbox_records(self, table: str) -> list[dict[str, Any]]:
        """Event INSERTs of ``table``'s stream not returned before, as Lambda receives them."""
        records = [r for r in self._stream_records(table) if r["eventID"] not in self._seen]
        self._seen.update(r["eventID"] for r in records)
        mapping = "LedgerOutbox" if table == self.tables.ledger else "CustomersOutbox"
        return [r for r in records if _passes_the_filter(r, mapping)]

    def _stream_records(self, table: str) -> Iterator[dict[str, Any]]:
        dynamodb = boto3.client("dynamodb")
        streams = boto3.client("dynamodbstreams")
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        envelope = sample("sync_stream")["Records"][0]
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            ).get("ShardIterator")
            while iterator:
                page = streams.get_records(ShardIterator=iterator)
                for record in page["Records"]:
                    yield _lambda_record(dict(record), envelope, arn)
                iterator = page.get("NextShardIterator") if page["Records"] else None

    # ------------------------------------------------------------ SNS -> SQS
    @property
    def email_bus(self) -> SnsEmailBus:
        return SnsEmailBus(self.topic_arn, boto3.client("sns"))

    def queued_messages(self, expected: int) -> list[dict[str, Any]]:
        """Wait (bounded) for ``expected`` messages on the queue; return them as SQS event records."""
        sqs = boto3.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + _POLL_SECONDS
        while time.monotonic() < deadline:
            batch = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0 if len(received) >= expected else 1,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            received.extend(_sqs_record(dict(m), arn["QueueArn"]) for m in batch)
            if not batch and len(received) >= expected:
                break
        return received

    # ------------------------------------------------------------ SES
    def emails_to(self, address: str, expected: int = 1) -> list[dict[str, Any]]:
        """E-mails SES accepted for ``address`` (bounded polling of ministack's outbox)."""
        deadline = time.monotonic() + _POLL_SECONDS
        while True:
            sent = [m for m in ses_messages(self.endpoint, timeout_seconds=5) if address in m["To"]]
            if len(sent) >= expected or time.monotonic() > deadline:
                return sent
            time.sleep(0.1)  # SES accepts within milliseconds here: poll often, return early

    # ------------------------------------------------------------ the customers table
    def statement_of(self, customer_id: str) -> list[StatementEntry]:
        return self.statements.page(customer_id, limit=100, cursor=None).entries

    def idempotency_records(self) -> list[dict[str, Any]]:
        return scan(boto3.client("dynamodb"), self.idempotency_table)


def _passes_the_filter(record: dict[str, Any], mapping: str) -> bool:
    """The sync mapping's FilterCriteria in the template, as Lambda applies them before invoking."""
    event = resources()["SyncFunction"]["Properties"]["Events"][mapping]
    [only] = event["Properties"]["FilterCriteria"]["Filters"]
    pattern = json.loads(only["Pattern"])
    entities = pattern["dynamodb"]["NewImage"]["entity"]["S"]
    image = record["dynamodb"].get("NewImage", {})
    return bool(record["eventName"] in pattern["eventName"] and image.get("entity", {}).get("S") in entities)


def _lambda_record(record: dict[str, Any], envelope: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as the event source mapping hands it to Lambda."""
    event: dict[str, Any] = copy.deepcopy(envelope)
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    event.update({k: v for k, v in record.items() if k != "dynamodb"}, dynamodb=dynamodb)
    event["eventSourceARN"] = stream_arn
    return event


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A ReceiveMessage message as the SQS event source mapping hands it to Lambda."""
    event: dict[str, Any] = copy.deepcopy(sample("notify_sqs")["Records"][0])
    event.update(
        messageId=message["MessageId"],
        receiptHandle=message["ReceiptHandle"],
        body=message["Body"],
        md5OfBody=message["MD5OfBody"],
        attributes=message.get("Attributes", {}),
        eventSourceARN=queue_arn,
        messageAttributes={
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
    )
    return event


@pytest.fixture
def stack(ministack: Server, ministack_tables: Tables, monkeypatch: pytest.MonkeyPatch) -> PipelineStack:
    """Topic, queue (+ DLQ), raw subscription, verified sender and dedup table, as the template has them."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", ministack.url)
    suffix = uuid.uuid4().hex[:8]
    sqs = boto3.client("sqs")
    sns = boto3.client("sns")
    dlq_url = sqs.create_queue(QueueName=f"notifications-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = resources()["NotificationsQueue"]["Properties"]
    redrive = json.dumps({**queue["RedrivePolicy"], "deadLetterTargetArn": dlq_arn})
    queue_url = sqs.create_queue(
        QueueName=f"notifications-{suffix}",
        Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": str(queue["VisibilityTimeout"])},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    topic_arn = sns.create_topic(Name=f"email-bus-{suffix}")["TopicArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    sender = f"no-reply-{suffix}@wallet.example.com"
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)
    idempotency_table = f"idempotency-{suffix}"
    boto3.client("dynamodb").create_table(**create_table_request("IdempotencyTable", idempotency_table))

    for name, value in {
        "CUSTOMERS_TABLE": ministack_tables.customers,
        "LEDGER_TABLE": ministack_tables.ledger,
        "EMAIL_TOPIC_ARN": topic_arn,
        "SENDER_EMAIL": sender,
        "IDEMPOTENCY_TABLE": idempotency_table,
        "SWEEP_GRACE_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    bootstrap.forget_all()
    return PipelineStack(
        endpoint=ministack.url,
        tables=ministack_tables,
        topic_arn=topic_arn,
        queue_url=queue_url,
        sender=sender,
        idempotency_table=idempotency_table,
        customers=CustomersStore(ministack_tables.customers),
        ledger=LedgerStore(ministack_tables.ledger),
        statements=StatementStore(ministack_tables.customers),
    )


@dataclass(frozen=True)
class Parties:
    alice: Customer
    bob: Customer


@pytest.fixture
def parties(stack: PipelineStack) -> Parties:
    """Alice (R$ 5.000,00) and Bob, registered and activated through the real sync handler."""
    alice, bob = stack.register("Alice"), stack.register("Bob")
    assert stack.sync(stack.new_outbox_records(stack.tables.customers)) == []
    stack.deposit(alice.id, 500_000)
    return Parties(alice, bob)
