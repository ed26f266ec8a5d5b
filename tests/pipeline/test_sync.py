"""The sync handler on real stream records: statements, activation, notifications, failures."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.pipeline.conftest import Parties, PipelineStack
from tests.support.lambda_events import sample
from wallet.adapters.email_bus import SnsEmailBus
from wallet.adapters.ledger_store import TransactionItem
from wallet.adapters.outbox import OUTBOX_ENTITY
from wallet.domain.customers import CustomerStatus
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import Direction
from wallet.events import TransactionCreated, parse_event
from wallet.service.event_dispatcher import EventDispatcher, EventPorts
from wallet.service.notifications import publish_notifications
from wallet.service.on_transaction_created import entries_of
from wallet.service.sweeper import OutboxSweeper


def _processed(stack: PipelineStack, event: TransactionCreated) -> bool:
    """Whether the transaction's event was applied: it has left the pending index."""
    key = {"pk": {"S": f"TRANSACTION#{event.transaction_id}"}, "sk": {"S": "TRANSACTION"}}
    item = boto3.client("dynamodb").get_item(TableName=stack.tables.ledger, Key=key, ConsistentRead=True)[
        "Item"
    ]
    return "pending_kind" not in item and "event_processed_at" in item


def _event_of(record: dict[str, Any]) -> TransactionCreated:
    event = parse_event(record["dynamodb"]["NewImage"]["payload"]["S"])
    assert isinstance(event, TransactionCreated)
    return event


def test_registration_activates_the_customer(stack: PipelineStack, parties: Parties) -> None:
    for customer in (parties.alice, parties.bob):
        profile = stack.customers.get(customer.id)
        assert profile is not None and profile.status is CustomerStatus.ACTIVE
        assert stack.ledger.account(customer.id) is not None


def test_transfer_reaches_both_statements_and_the_payee_mailbox(
    stack: PipelineStack, parties: Parties
) -> None:
    alice, bob = parties.alice, parties.bob
    stack.money().transfer(alice.id, bob.id, 2_550, None)
    records = stack.new_outbox_records(stack.tables.ledger)
    assert [_event_of(r).kind for r in records] == [TransactionKind.DEPOSIT, TransactionKind.TRANSFER]

    assert stack.sync(records) == []

    transfer = _event_of(records[1])
    alice_statement = stack.statement_of(alice.id)
    assert [(e.kind, e.direction, e.amount) for e in alice_statement] == [
        (TransactionKind.TRANSFER, Direction.DEBIT, 2_550),
        (TransactionKind.DEPOSIT, Direction.CREDIT, 500_000),
    ]
    bob_entry = stack.statement_of(bob.id)
    assert [(e.transaction_id, e.direction, e.counterparty_id) for e in bob_entry] == [
        (transfer.transaction_id, Direction.CREDIT, alice.id)
    ]
    assert _processed(stack, transfer)

    messages = stack.queued_messages(expected=3)
    published = {
        (m["messageAttributes"]["kind"]["stringValue"], m["messageAttributes"]["role"]["stringValue"])
        for m in messages
    }
    assert published == {("deposit", "payee"), ("transfer", "payer"), ("transfer", "payee")}
    assert len({json.loads(m["body"])["notification_id"] for m in messages}) == 3

    assert stack.notify(messages) == []
    [confirmation] = stack.emails_to(bob.email)
    assert confirmation["Source"] == stack.sender
    assert "R$ 25,50" in confirmation["Subject"]
    assert "Alice enviou R$ 25,50 para você." in confirmation["BodyText"]
    receipts = stack.emails_to(alice.email, expected=2)
    assert sorted(m["Subject"] for m in receipts) == [
        "Comprovante: você enviou R$ 25,50",
        "Depósito de R$ 5.000,00 recebido",
    ]


def test_a_duplicate_stream_delivery_writes_nothing_and_e_mails_nobody_twice(
    stack: PipelineStack, parties: Parties
) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    records = stack.new_outbox_records(stack.tables.ledger)
    assert stack.sync(records) == []
    first = stack.queued_messages(expected=3)

    assert stack.sync(records) == []

    assert len(stack.statement_of(parties.alice.id)) == 2
    assert len(stack.statement_of(parties.bob.id)) == 1
    # Publishing is at-least-once: the replay publishes again, and notify sends once.
    again = stack.queued_messages(expected=3)
    assert stack.notify(first + again) == []
    assert len(stack.emails_to(parties.bob.email)) == 1
    assert len(stack.emails_to(parties.alice.email, expected=2)) == 2


def test_a_poison_record_fails_alone(stack: PipelineStack, parties: Parties) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    deposit, transfer = stack.new_outbox_records(stack.tables.ledger)
    poison = json.loads(json.dumps(transfer))
    poison["dynamodb"]["NewImage"]["payload"] = {"S": "{not json"}
    poison["dynamodb"]["SequenceNumber"] = "999999999999999999999"

    assert stack.sync([deposit, poison, transfer]) == ["999999999999999999999"]

    assert len(stack.statement_of(parties.alice.id)) == 2
    assert len(stack.queued_messages(expected=3)) == 3


def test_a_batch_larger_than_one_request_of_each_kind_is_applied_whole(
    stack: PipelineStack, parties: Parties
) -> None:
    """13 transfers and the deposit: 27 entries (over a BatchWriteItem's 25) and 27
    notifications (over a PublishBatch's 10), on the real engine and topic."""
    for amount in range(100, 1_400, 100):
        stack.money().transfer(parties.alice.id, parties.bob.id, amount, None)
    records = stack.new_outbox_records(stack.tables.ledger)
    assert len(records) == 14

    assert stack.sync(records) == []

    assert all(_processed(stack, _event_of(record)) for record in records)
    assert (len(stack.statement_of(parties.alice.id)), len(stack.statement_of(parties.bob.id))) == (14, 13)
    messages = stack.queued_messages(expected=27)
    assert len({json.loads(m["body"])["notification_id"] for m in messages}) == len(messages) == 27


def test_records_that_carry_no_event_are_skipped_not_applied(stack: PipelineStack, parties: Parties) -> None:
    """What the template's filter lets through only if misconfigured: a MODIFY of a transaction
    (its payload would apply the transfer again) and the INSERT of an item that is no event."""
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    deposit, transfer = stack.new_outbox_records(stack.tables.ledger)
    modify = json.loads(json.dumps(transfer))
    modify["eventName"], modify["dynamodb"]["SequenceNumber"] = "MODIFY", "999999999999999999998"
    account = json.loads(json.dumps(transfer))
    account["dynamodb"]["NewImage"]["entity"] = {"S": "account"}
    account["dynamodb"]["SequenceNumber"] = "999999999999999999999"

    assert stack.sync([deposit, modify, account]) == []

    assert _processed(stack, _event_of(deposit))
    assert not _processed(stack, _event_of(transfer))
    assert len(stack.statement_of(parties.bob.id)) == 0
    assert len(stack.queued_messages(expected=1)) == 1


def test_a_transfer_that_cannot_be_marked_is_reported_alone(stack: PipelineStack, parties: Parties) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    deposit, transfer = stack.new_outbox_records(stack.tables.ledger)
    # Its transaction item is gone (the mark's condition fails), after the stream carried it.
    TransactionItem.key(_event_of(transfer).transaction_id).delete()

    assert stack.sync([deposit, transfer]) == [transfer["dynamodb"]["SequenceNumber"]]

    assert _processed(stack, _event_of(deposit))
    # The failed mark undoes neither the statement entries nor the notifications.
    assert len(stack.statement_of(parties.alice.id)) == 2
    assert len(stack.queued_messages(expected=3)) == 3


def test_two_records_of_one_event_in_a_batch_apply_it_once(stack: PipelineStack, parties: Parties) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    deposit, transfer = stack.new_outbox_records(stack.tables.ledger)
    again = json.loads(json.dumps(transfer))
    again["eventID"], again["dynamodb"]["SequenceNumber"] = "again", "999999999999999999999"

    assert stack.sync([deposit, transfer, again]) == []

    assert _processed(stack, _event_of(transfer))
    assert len(stack.queued_messages(expected=3)) == 3


def test_a_record_without_a_sequence_number_fails_the_whole_invocation(
    stack: PipelineStack, parties: Parties
) -> None:
    """Lambda then retries (and bisects) the batch: nothing in it is taken as done."""
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    deposit, transfer = stack.new_outbox_records(stack.tables.ledger)
    del transfer["dynamodb"]["SequenceNumber"]

    with pytest.raises(ValueError, match="no sequence number"):
        stack.sync([deposit, transfer])

    assert stack.statement_of(parties.alice.id) == []


def test_the_sweeper_finishes_what_a_crash_left_behind(stack: PipelineStack, parties: Parties) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    deposit, transfer = stack.new_outbox_records(stack.tables.ledger)
    event = _event_of(transfer)
    # The sync wrote the statement entries, then died before marking the event processed.
    stack.statements.record(entries_of(event), datetime.now(UTC))
    assert not _processed(stack, event)

    report = stack.invoke("sweeper", sample("sweeper_schedule"))

    assert report["events_applied"] == 2 and report["events_failed"] == 0
    assert report["oldest_pending_outbox_age_seconds"] == 0
    assert _processed(stack, event)
    assert len(stack.statement_of(parties.alice.id)) == 2
    assert len(stack.statement_of(parties.bob.id)) == 1
    swept = stack.queued_messages(expected=3)
    # A late stream delivery of the same records publishes again, and notify e-mails once;
    # another sweep finds nothing.
    assert stack.sync([deposit, transfer]) == []
    assert stack.invoke("sweeper", sample("sweeper_schedule"))["events_applied"] == 0
    assert stack.notify(swept + stack.queued_messages(expected=3)) == []
    assert len(stack.emails_to(parties.bob.email)) == 1
    assert len(stack.emails_to(parties.alice.email, expected=2)) == 2


def _sweeper_with_pages_of_two(stack: PipelineStack) -> OutboxSweeper:
    ports = EventPorts(stack.ledger, stack.customers, stack.statements, SnsEmailBus(stack.topic_arn))
    return OutboxSweeper(EventDispatcher(ports), (stack.customers, stack.ledger), page_size=2)


def _backlog_of_four_events(stack: PipelineStack, parties: Parties) -> None:
    """The deposit and three transfers, none of them synced (a stream outage)."""
    for amount in (100, 200, 300):
        stack.money().transfer(parties.alice.id, parties.bob.id, amount, None)


def _poison_events(count: int) -> None:
    """Transactions older than any other whose event can never be applied (an unreadable payload)."""
    for n in range(count):
        item = TransactionItem.key(f"poison-{n}")
        item.entity, item.kind, item.payee_id, item.amount = "transaction", "deposit", "nobody", 1
        item.status, item.request_fingerprint = "completed", "poison"
        item.event_id, item.payload = f"poison-{n}", "{}"
        item.created_at = datetime(2000, 1, 1, 0, 0, n, tzinfo=UTC)
        item.mark_pending(OUTBOX_ENTITY, item.event_id, item.created_at)
        item.save()


def test_one_sweep_works_through_a_backlog_page_after_page(stack: PipelineStack, parties: Parties) -> None:
    _backlog_of_four_events(stack, parties)

    report = _sweeper_with_pages_of_two(stack).sweep(timedelta(0))

    assert (report.events_applied, report.events_failed) == (4, 0)
    assert report.oldest_pending_outbox_age_seconds == 0
    assert len(stack.statement_of(parties.alice.id)) == 4
    assert len(stack.queued_messages(expected=7)) == 7


def test_events_that_keep_failing_do_not_hold_back_the_ones_behind_them(
    stack: PipelineStack, parties: Parties
) -> None:
    _poison_events(3)  # more than a page, at the head of the index
    _backlog_of_four_events(stack, parties)

    report = _sweeper_with_pages_of_two(stack).sweep(timedelta(0))

    assert (report.events_applied, report.events_failed) == (4, 3)
    assert len(stack.statement_of(parties.alice.id)) == 4
    assert report.oldest_pending_outbox_age_seconds > 0  # the poison events wait, and the alarm sees them


def test_a_sweep_out_of_time_leaves_the_rest_to_the_next_one(stack: PipelineStack, parties: Parties) -> None:
    _backlog_of_four_events(stack, parties)
    sweeper = _sweeper_with_pages_of_two(stack)

    assert sweeper.sweep(timedelta(0), has_time=lambda: False).events_applied == 2
    assert sweeper.sweep(timedelta(0)).events_applied == 2
    assert len(stack.statement_of(parties.alice.id)) == 4


def test_a_crash_after_publishing_publishes_again_and_e_mails_once(
    stack: PipelineStack, parties: Parties
) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_000, None)
    for record in stack.new_outbox_records(stack.tables.ledger):
        # Statement written and notifications published, then a crash before the event was marked.
        event = _event_of(record)
        stack.statements.record(entries_of(event), datetime.now(UTC))
        publish_notifications(entries_of(event), stack.email_bus)
    first = stack.queued_messages(expected=3)

    report = stack.invoke("sweeper", sample("sweeper_schedule"))

    assert (report["events_applied"], report["events_failed"]) == (2, 0)
    again = stack.queued_messages(expected=3)
    assert stack.notify(first + again) == []
    assert len(stack.emails_to(parties.bob.email)) == 1
    assert len(stack.emails_to(parties.alice.email, expected=2)) == 2
