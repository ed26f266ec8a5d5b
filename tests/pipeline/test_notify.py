"""The notify handler on messages SNS really delivered: one e-mail per notification."""

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from devstack.redrive import redrive
from tests.pipeline.conftest import Parties, PipelineStack
from tests.support.lambda_events import sample
from wallet.adapters.customers_store import CustomerItem
from wallet.domain.customers import Customer, CustomerStatus, CustomerType
from wallet.service.notifications import Notification


def _transfer_notifications(stack: PipelineStack, parties: Parties) -> list[dict[str, Any]]:
    stack.money().transfer(parties.alice.id, parties.bob.id, 123_456, None)
    assert stack.sync(stack.new_outbox_records(stack.tables.ledger)) == []
    messages = stack.queued_messages(expected=3)
    return [m for m in messages if m["messageAttributes"]["kind"]["stringValue"] == "transfer"]


def test_a_duplicate_delivery_sends_one_email(stack: PipelineStack, parties: Parties) -> None:
    payer_receipt, payee_confirmation = sorted(
        _transfer_notifications(stack, parties), key=lambda m: m["messageAttributes"]["role"]["stringValue"]
    )

    assert stack.notify([payee_confirmation]) == []
    assert stack.notify([payee_confirmation, payer_receipt, payer_receipt]) == []
    assert stack.notify([payee_confirmation]) == []

    [confirmation] = stack.emails_to(parties.bob.email)
    assert confirmation["Subject"] == "Você recebeu R$ 1.234,56"
    transfer_receipts = [m for m in stack.emails_to(parties.alice.email) if "enviou" in m["Subject"]]
    assert len(transfer_receipts) == 1
    assert "Você enviou R$ 1.234,56 para Bob." in transfer_receipts[0]["BodyText"]


def test_a_failed_send_is_reported_and_retried_later(
    stack: PipelineStack, parties: Parties, monkeypatch: Any
) -> None:
    notifications = _transfer_notifications(stack, parties)
    monkeypatch.setenv("SENDER_EMAIL", "nobody@unverified.invalid")

    failed = stack.notify(notifications)

    assert sorted(failed) == sorted(m["messageId"] for m in notifications)
    assert stack.emails_to(parties.bob.email, expected=0) == []
    assert stack.idempotency_records() == []  # nothing remembered as sent

    # The queue redelivers; the sender is fixed by then: exactly one e-mail each.
    monkeypatch.setenv("SENDER_EMAIL", stack.sender)
    assert stack.notify(notifications) == []
    assert stack.notify(notifications) == []
    assert len(stack.emails_to(parties.bob.email)) == 1
    assert {r["status"]["S"] for r in stack.idempotency_records()} == {"COMPLETED"}


def test_a_message_naming_a_key_no_item_can_have_is_dropped_and_its_batch_sent(
    stack: PipelineStack, parties: Parties
) -> None:
    """One read serves a batch, and DynamoDB refuses a whole request for one key over its
    limits (here a sort key over 1,024 bytes): such a key is never asked. No entry can have
    it, so the message is unbacked, dropped like any forgery; its neighbours go out."""
    receipt, confirmation = _transfer_notifications(stack, parties)
    body = {**json.loads(confirmation["body"]), "transaction_id": "x" * 1_100}
    poison = {**confirmation, "messageId": str(uuid.uuid4()), "body": json.dumps(body)}

    assert stack.notify([receipt, poison, confirmation]) == []

    assert len(stack.emails_to(parties.bob.email)) == 1
    assert len([m for m in stack.emails_to(parties.alice.email) if "enviou" in m["Subject"]]) == 1
    assert len(stack.idempotency_records()) == 2  # the two real ones


def _payee_confirmation(stack: PipelineStack, parties: Parties) -> dict[str, Any]:
    [confirmation] = [
        m
        for m in _transfer_notifications(stack, parties)
        if m["messageAttributes"]["role"]["stringValue"] == "payee"
    ]
    return confirmation


def _later(moment: str) -> str:
    return (datetime.fromisoformat(moment) + timedelta(seconds=1)).isoformat()


# What a forger changes in a real notification (Bob's confirmation of Alice's transfer) before
# publishing it to the topic: the third argument is Carol, a customer with no entry at all.
Forgery = Callable[[dict[str, Any], Parties, str], dict[str, Any]]
FORGERIES: dict[str, Forgery] = {
    "unknown transaction": lambda n, p, carol: {**n, "transaction_id": str(uuid.uuid4())},
    "changed amount": lambda n, p, carol: {**n, "amount": n["amount"] * 100},
    "payer's entry, told as the payee's": lambda n, p, carol: {**n, "customer_id": p.alice.id},
    "a customer with no entry": lambda n, p, carol: {**n, "customer_id": carol},
    "another counterparty": lambda n, p, carol: {**n, "counterparty_id": carol},
    "another notification id": lambda n, p, carol: {**n, "notification_id": str(uuid.uuid4())},
    "another moment": lambda n, p, carol: {**n, "occurred_at": _later(n["occurred_at"])},
    "a deposit instead": lambda n, p, carol: {**n, "kind": "deposit", "counterparty_id": None},
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_notification_no_statement_entry_backs_sends_nothing_and_leaves_no_record(
    stack: PipelineStack, parties: Parties, forge: Forgery
) -> None:
    carol = stack.register("Carol")
    real = _payee_confirmation(stack, parties)
    forged_body = forge(json.loads(real["body"]), parties, carol.id)
    assert Notification.model_validate(forged_body) != Notification.model_validate_json(real["body"])
    attributes = {name: value["stringValue"] for name, value in real["messageAttributes"].items()}
    boto3.client("sns").publish(
        TopicArn=stack.topic_arn,
        Message=json.dumps(forged_body),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    [forged] = stack.queued_messages(expected=1)
    assert json.loads(forged["body"]) == forged_body

    assert stack.notify([forged]) == []  # dropped, not retried: it can never become true

    for customer in (parties.alice, parties.bob, carol):
        assert stack.emails_to(customer.email, expected=0) == []
    assert stack.idempotency_records() == []

    # The real one still goes out, exactly once.
    assert stack.notify([real]) == []
    assert stack.notify([real]) == []
    [confirmation] = stack.emails_to(parties.bob.email)
    assert confirmation["Subject"] == "Você recebeu R$ 1.234,56"
    assert [r["status"]["S"] for r in stack.idempotency_records()] == ["COMPLETED"]


def test_the_sample_events_run_end_to_end(stack: PipelineStack) -> None:
    """events/*.json, as `sam local invoke -e` sends them, against real tables."""
    stream_record = sample("sync_stream")["Records"][0]
    boto3.client("dynamodb").put_item(
        TableName=stack.tables.ledger, Item=stream_record["dynamodb"]["NewImage"]
    )
    assert stack.sync([stream_record]) == []

    message = sample("notify_sqs")["Records"][0]
    notification = Notification.model_validate_json(message["body"])
    assert notification.counterparty_id is not None
    for customer_id, name in ((notification.customer_id, "Bob"), (notification.counterparty_id, "Alice")):
        _put_profile(stack, customer_id, name)
    assert stack.notify([message]) == []
    [email] = stack.emails_to(f"{notification.customer_id}@example.com")
    assert email["Subject"] == "Você recebeu R$ 100,50"

    published = stack.queued_messages(expected=2)
    assert json.loads(message["body"]) in [json.loads(m["body"]) for m in published]


def _put_profile(stack: PipelineStack, customer_id: str, name: str) -> None:
    customer = Customer(
        id=customer_id,
        name=name,
        email=f"{customer_id}@example.com",
        document="52998224725",
        type=CustomerType.INDIVIDUAL,
        status=CustomerStatus.ACTIVE,
        created_at=Notification.model_validate_json(sample("notify_sqs")["Records"][0]["body"]).occurred_at,
    )
    CustomerItem.from_domain(customer).save()


def test_redrive_moves_dead_letters_back_to_the_queue(stack: PipelineStack) -> None:
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"dlq-{stack.idempotency_table}")["QueueUrl"]
    for n in range(12):
        sqs.send_message(
            QueueUrl=dlq_url,
            MessageBody=json.dumps({"n": n}),
            MessageAttributes={"role": {"DataType": "String", "StringValue": "payee"}},
        )

    assert redrive(dlq_url, stack.queue_url) == 12

    moved = stack.queued_messages(expected=12)
    assert sorted(json.loads(m["body"])["n"] for m in moved) == list(range(12))
    assert {m["messageAttributes"]["role"]["stringValue"] for m in moved} == {"payee"}
    assert sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0).get("Messages", []) == []
