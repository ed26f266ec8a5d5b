"""Composing a batch's e-mails, on in-memory ports: one read for the whole batch, and each
notification judged alone (a forgery, a profile gone); then the notify handler over them,
and what happens to a batch whose read the store refuses. The same handler on real messages
and tables: tests/pipeline/test_notify.py."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.support.fakes import NOW, FakeCustomers, FakeStatements
from tests.support.lambda_events import LambdaContext, fresh_handler, sample
from wallet import bootstrap
from wallet.domain.customers import Customer
from wallet.domain.errors import CustomerNotFound
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import statement_entries
from wallet.service.notifications import MailingRecords, Notification, NotificationSender


@dataclass
class RecordingMailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, to: str, subject: str, body: str) -> str:
        self.sent.append((to, subject, body))
        return f"message-{len(self.sent)}"


def _transfer(
    statements: FakeStatements, transaction_id: str, payer: Customer, payee: Customer
) -> list[Notification]:
    """Its entries recorded, and the two notifications the sync publishes for them."""
    entries = statement_entries(
        transaction_id=transaction_id,
        kind=TransactionKind.TRANSFER,
        payer_id=payer.id,
        payee_id=payee.id,
        amount=1_000,
        occurred_at=NOW,
    )
    statements.record(entries, NOW)
    return [Notification.of(entry) for entry in entries]


@pytest.fixture
def statements() -> FakeStatements:
    return FakeStatements(FakeCustomers())


def test_a_batch_of_notifications_is_composed_from_one_read(statements: FakeStatements) -> None:
    ana, bia, caio = (statements.customers.register(name) for name in ("ana", "bia", "caio"))
    batch = [*_transfer(statements, "t-1", ana, bia), *_transfer(statements, "t-2", caio, bia)]
    sender = NotificationSender(statements, RecordingMailer())

    records = sender.read(batch)
    emails = [sender.compose(notification, records) for notification in batch]

    assert statements.reads == 1
    assert [email.to if email else None for email in emails] == [
        "ana@example.com",
        "bia@example.com",
        "caio@example.com",
        "bia@example.com",
    ]


# What a forger changes in Bia's real confirmation, published beside it in the same batch
# (the pipeline tests publish the same forgeries to the real topic, one at a time).
FORGERIES: dict[str, dict[str, Any]] = {
    "changed amount": {"amount": 999_999},
    "another moment": {"occurred_at": NOW + timedelta(seconds=1)},
    "another notification id": {"notification_id": "n-forged"},
    "another counterparty": {"counterparty_id": "caio"},
    "payer's entry, told as the payee's": {"customer_id": "ana"},
    "a deposit instead": {"kind": TransactionKind.DEPOSIT, "counterparty_id": None},
}


@pytest.mark.parametrize("changes", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forgery_in_a_batch_is_refused_and_its_neighbours_are_not(
    statements: FakeStatements, changes: dict[str, Any]
) -> None:
    """The forged copy is read with the real ones, and matches no entry read in every field."""
    ana, bia, _ = (statements.customers.register(name) for name in ("ana", "bia", "caio"))
    receipt, confirmation = _transfer(statements, "t-1", ana, bia)
    forged = confirmation.model_copy(update=changes)
    sender = NotificationSender(statements, RecordingMailer())

    records = sender.read([receipt, forged, confirmation])

    assert sender.compose(forged, records) is None
    assert sender.compose(confirmation, records) is not None
    assert sender.compose(receipt, records) is not None


def test_a_profile_gone_fails_only_the_notifications_that_name_it(statements: FakeStatements) -> None:
    ana, bia, caio = (statements.customers.register(name) for name in ("ana", "bia", "caio"))
    first = _transfer(statements, "t-1", ana, bia)
    second = _transfer(statements, "t-2", caio, ana)
    del statements.customers.profiles[bia.id]
    sender = NotificationSender(statements, RecordingMailer())
    records = sender.read([*first, *second])

    for notification in first:
        with pytest.raises(CustomerNotFound):
            sender.compose(notification, records)
    assert all(sender.compose(notification, records) is not None for notification in second)


class SenderWithoutDeduplication:
    """IdempotentNotificationSender's interface over the real composing and sending, without
    Powertools idempotency (its DynamoDB table is what the pipeline tests exercise)."""

    def __init__(self, statements: FakeStatements, mailer: RecordingMailer) -> None:
        self._sender = NotificationSender(statements, mailer)

    def register_lambda_context(self, context: Any) -> None:
        pass

    def read(self, notifications: list[Notification]) -> MailingRecords:
        return self._sender.read(notifications)

    def send(self, notification: Notification, records: MailingRecords) -> str | None:
        email = self._sender.compose(notification, records)
        return None if email is None else self._sender.send(notification, email)


def _message(body: str) -> dict[str, Any]:
    [record] = sample("notify_sqs")["Records"]
    return {**record, "messageId": str(uuid.uuid4()), "body": body}


def _notify(
    statements: FakeStatements, mailer: RecordingMailer, messages: list[dict[str, Any]], monkeypatch: Any
) -> list[str]:
    handler = fresh_handler("notify")
    monkeypatch.setattr(
        bootstrap, "notification_sender", lambda: SenderWithoutDeduplication(statements, mailer)
    )
    response = handler({"Records": messages}, LambdaContext(function_name="wallet-notify"))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_the_handler_composes_a_batch_from_one_read(statements: FakeStatements, monkeypatch: Any) -> None:
    ana, bia, caio = (statements.customers.register(name) for name in ("ana", "bia", "caio"))
    batch = [*_transfer(statements, "t-1", ana, bia), *_transfer(statements, "t-2", caio, ana)]
    mailer = RecordingMailer()

    assert _notify(statements, mailer, [_message(n.model_dump_json()) for n in batch], monkeypatch) == []

    assert statements.reads == 1
    assert sorted(to for to, _, _ in mailer.sent) == sorted(
        f"{name}@example.com" for name in ("ana", "bia", "caio", "ana")
    )


def test_a_refused_batch_read_falls_back_to_one_read_each_and_only_the_culprits_fail(
    statements: FakeStatements, monkeypatch: Any
) -> None:
    ana, bia = statements.customers.register("ana"), statements.customers.register("bia")
    receipt, confirmation = _transfer(statements, "t-1", ana, bia)
    poisoned = confirmation.model_copy(update={"transaction_id": "refused"})
    statements.refused.add("refused")
    messages = [
        _message(receipt.model_dump_json()),
        _message(poisoned.model_dump_json()),
        _message("{not json"),
        _message(confirmation.model_dump_json()),
    ]
    mailer = RecordingMailer()

    failed = _notify(statements, mailer, messages, monkeypatch)

    assert failed == [messages[1]["messageId"], messages[2]["messageId"]]
    assert sorted(to for to, _, _ in mailer.sent) == ["ana@example.com", "bia@example.com"]
    assert statements.reads == 1 + 3  # the batch's, refused; then each notification that parsed


def test_a_body_that_is_no_notification_fails_alone(statements: FakeStatements, monkeypatch: Any) -> None:
    ana, bia = statements.customers.register("ana"), statements.customers.register("bia")
    receipt, _ = _transfer(statements, "t-1", ana, bia)
    messages = [_message(json.dumps({"version": 1})), _message(receipt.model_dump_json())]
    mailer = RecordingMailer()

    assert _notify(statements, mailer, messages, monkeypatch) == [messages[0]["messageId"]]
    assert [to for to, _, _ in mailer.sent] == ["ana@example.com"]
    assert statements.reads == 1
