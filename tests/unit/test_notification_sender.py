"""Composing a batch's e-mails, on in-memory ports: one read for the whole batch, and each
notification judged alone (a forgery, a profile gone). The real handler on real messages:
tests/pipeline/test_notify.py."""

from dataclasses import dataclass, field

import pytest

from tests.support.fakes import NOW, FakeCustomers, FakeStatements
from wallet.domain.customers import Customer
from wallet.domain.errors import CustomerNotFound
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import statement_entries
from wallet.service.notifications import Notification, NotificationSender


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


def test_a_forgery_in_a_batch_is_refused_and_its_neighbours_are_not(statements: FakeStatements) -> None:
    """The forged copy asks for the same entry as the real one, and still matches it in nothing."""
    ana, bia = statements.customers.register("ana"), statements.customers.register("bia")
    receipt, confirmation = _transfer(statements, "t-1", ana, bia)
    forged = confirmation.model_copy(update={"amount": 999_999})
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
