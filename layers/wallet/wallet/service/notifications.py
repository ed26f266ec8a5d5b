"""Notifications: hand them to the email bus, then compose and send the e-mails.

The sync (and the sweeper) publish one message per statement entry, those of a whole batch
of events together (10 to a PublishBatch), every time they apply an event: publishing is
at-least-once, and the e-mail side recognises a duplicate (``IdempotentNotificationSender``,
wallet.service.idempotent_sender).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from wallet.domain.customers import Customer
from wallet.domain.errors import CustomerNotFound
from wallet.domain.ledger import TransactionKind
from wallet.domain.money import format_brl
from wallet.domain.statements import Role, StatementEntry
from wallet.observability import MetricUnit, logger, metrics
from wallet.service.ports import EmailBus, EntryKey, Mailer, NotificationRecords

# Brasília time; Brazil has had no daylight saving time since 2019.
BRASILIA = timezone(timedelta(hours=-3), "BRT")


class Notification(BaseModel):
    """The email bus's message (contract v1): everything the e-mail needs except the profiles."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    notification_id: str
    role: Role
    kind: TransactionKind
    transaction_id: str
    customer_id: str
    counterparty_id: str | None
    amount: int = Field(gt=0, description="centavos")
    occurred_at: datetime

    @classmethod
    def of(cls, entry: StatementEntry) -> Self:
        return cls(
            notification_id=entry.notification_id,
            role=entry.role,
            kind=entry.kind,
            transaction_id=entry.transaction_id,
            customer_id=entry.customer_id,
            counterparty_id=entry.counterparty_id,
            amount=entry.amount,
            occurred_at=entry.occurred_at,
        )

    @property
    def entry_key(self) -> EntryKey:
        """The statement entry that must back this notification."""
        return EntryKey(self.customer_id, self.occurred_at, self.transaction_id)

    @property
    def people(self) -> list[str]:
        """Whose profiles its e-mail names: the recipient, and the counterparty if any."""
        return [self.customer_id, *([self.counterparty_id] if self.counterparty_id is not None else [])]

    def attributes(self) -> dict[str, str]:
        """SNS message attributes, so a subscription can filter (e.g. only receipts)."""
        return {"kind": self.kind.value, "role": self.role.value}


def publish_notifications(entries: Sequence[StatementEntry], bus: EmailBus) -> None:
    """One message per entry (the payee's confirmation, the payer's receipt), published together."""
    notifications = [Notification.of(entry) for entry in entries]
    bus.publish(
        [(notification.model_dump_json(), notification.attributes()) for notification in notifications]
    )
    metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=len(notifications))


@dataclass(frozen=True)
class MailingRecords:
    """What a batch's e-mails are composed from: the statement entries that exist (by
    notification id) and the profiles (by customer id)."""

    entries: Mapping[str, StatementEntry]
    profiles: Mapping[str, Customer]


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


def compose_email(notification: Notification, recipient: Customer, counterparty: Customer | None) -> Email:
    """The payee's confirmation or the payer's receipt, in Portuguese, amounts as "R$ 1.234,56"."""
    value = format_brl(notification.amount)
    when = notification.occurred_at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M")
    other = counterparty.name if counterparty is not None else "outro cliente"
    if notification.role is Role.PAYER:
        subject = f"Comprovante: você enviou {value}"
        summary = f"Você enviou {value} para {other}."
    elif notification.kind is TransactionKind.DEPOSIT:
        subject = f"Depósito de {value} recebido"
        summary = f"Um depósito de {value} foi creditado na sua conta."
    else:
        subject = f"Você recebeu {value}"
        summary = f"{other} enviou {value} para você."
    body = (
        f"Olá, {recipient.name}!\n\n{summary}\n\n"
        f"Transação: {notification.transaction_id}\nData: {when} (horário de Brasília)\n"
    )
    return Email(to=recipient.email, subject=subject, body=body)


class NotificationSender:
    """Reads what a notification needs, composes the e-mail and sends it (no deduplication here)."""

    def __init__(self, records: NotificationRecords, mailer: Mailer) -> None:
        self._records = records
        self._mailer = mailer

    def read(self, notifications: Sequence[Notification]) -> MailingRecords:
        """ONE read for a whole batch: each notification's statement entry and every profile
        they name (the entries and profiles all live in the customers table)."""
        entries, profiles = self._records.entries_with_profiles(
            [notification.entry_key for notification in notifications],
            [person for notification in notifications for person in notification.people],
        )
        return MailingRecords({entry.notification_id: entry for entry in entries}, profiles)

    def compose(self, notification: Notification, records: MailingRecords) -> Email | None:
        """The e-mail; None unless a statement entry in the table says exactly this
        notification: anyone who can publish to the topic could otherwise e-mail any customer
        anything in the bank's name. CustomerNotFound if a profile it names is gone."""
        entry = records.entries.get(notification.notification_id)
        if entry is None or Notification.of(entry) != notification:
            return None
        recipient = _profile(records.profiles, notification.customer_id)
        counterparty_id = notification.counterparty_id
        counterparty = _profile(records.profiles, counterparty_id) if counterparty_id is not None else None
        return compose_email(notification, recipient, counterparty)

    def send(self, notification: Notification, email: Email) -> str:
        message_id = self._mailer.send(email.to, email.subject, email.body)
        logger.info(
            "notification e-mailed",
            extra={"notification_id": notification.notification_id, "role": notification.role.value},
        )
        metrics.add_metric(name="NotificationsEmailed", unit=MetricUnit.Count, value=1)
        return message_id


def _profile(profiles: Mapping[str, Customer], customer_id: str) -> Customer:
    customer = profiles.get(customer_id)
    if customer is None:
        raise CustomerNotFound(f"customer {customer_id} does not exist")
    return customer
