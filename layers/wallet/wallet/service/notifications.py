"""Notifications: hand pending ones to the email bus, then compose and send the e-mails.

The sync (and the sweeper) publish one message per statement entry whose notification is
still pending, then mark it sent: the seed's last two steps, in its order. A crash between
the two republishes later, so the e-mail side must recognise a duplicate: see
``OncePerNotification`` (wallet.service.once_per_notification).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from wallet.domain.customers import Customer
from wallet.domain.errors import CustomerNotFound
from wallet.domain.ledger import TransactionKind
from wallet.domain.money import format_brl
from wallet.domain.statements import Role, StatementEntry
from wallet.observability import MetricUnit, logger, metrics
from wallet.service.clock import utc_now

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

    def attributes(self) -> dict[str, str]:
        """SNS message attributes, so a subscription can filter (e.g. only receipts)."""
        return {"kind": self.kind.value, "role": self.role.value}


class EmailBus(Protocol):
    def publish(self, message: str, attributes: Mapping[str, str]) -> str: ...


class NotificationState(Protocol):
    def still_pending(self, entries: Sequence[StatementEntry]) -> list[StatementEntry]: ...

    def mark_notified(self, entry: StatementEntry, now: datetime) -> None: ...


class Profiles(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...


class StatementLookup(Protocol):
    def entry(
        self, customer_id: str, occurred_at: datetime, transaction_id: str
    ) -> StatementEntry | None: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> str: ...


def publish_pending(
    entries: Sequence[StatementEntry],
    state: NotificationState,
    bus: EmailBus,
    now: Callable[[], datetime] = utc_now,
) -> int:
    """Publish the notifications of ``entries`` still pending, then mark each one sent."""
    published = 0
    for entry in state.still_pending(entries):
        notification = Notification.of(entry)
        bus.publish(notification.model_dump_json(), notification.attributes())
        state.mark_notified(entry, now())
        published += 1
    if published:
        metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=published)
    return published


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
    """Reads the profiles, composes the e-mail and sends it (no deduplication here)."""

    def __init__(self, statements: StatementLookup, profiles: Profiles, mailer: Mailer) -> None:
        self._statements = statements
        self._profiles = profiles
        self._mailer = mailer

    def is_backed(self, notification: Notification) -> bool:
        """Whether a statement entry in the table says exactly this: anyone who can publish to
        the topic could otherwise e-mail any customer anything in the bank's name."""
        entry = self._statements.entry(
            notification.customer_id, notification.occurred_at, notification.transaction_id
        )
        return entry is not None and Notification.of(entry) == notification

    def send(self, notification: Notification) -> str:
        recipient = self._profile(notification.customer_id)
        counterparty = (
            self._profile(notification.counterparty_id) if notification.counterparty_id is not None else None
        )
        email = compose_email(notification, recipient, counterparty)
        message_id = self._mailer.send(email.to, email.subject, email.body)
        logger.info(
            "notification e-mailed",
            extra={"notification_id": notification.notification_id, "role": notification.role.value},
        )
        metrics.add_metric(name="NotificationsEmailed", unit=MetricUnit.Count, value=1)
        return message_id

    def _profile(self, customer_id: str) -> Customer:
        customer = self._profiles.get(customer_id)
        if customer is None:
            raise CustomerNotFound(f"customer {customer_id} does not exist")
        return customer
