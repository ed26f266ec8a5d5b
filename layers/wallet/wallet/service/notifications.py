"""Notifications: hand pending ones to the email bus, and send each e-mail exactly once.

The sync (and the sweeper) publish one message per statement entry whose notification is
still pending, then mark it sent: the seed's last two steps, in its order. A crash between
the two republishes later, so the e-mail side must recognise a duplicate: see
``OncePerNotification``.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol, Self

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
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
# Longer than a message can live in the DLQ (14 days), so a re-driven duplicate is still known.
DEDUPLICATION_WINDOW = timedelta(days=15)


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


class OncePerNotification:
    """Exactly one e-mail per ``notification_id``, however often the message is delivered.

    Why Powertools idempotency (a dedicated table keyed by notification id, TTL
    ``expiration``) rather than a conditional put of a ``SENT#<id>`` marker in the
    customers table: a marker is either written before sending (a crash after it loses the
    e-mail for good) or after (a crash before it sends twice), while Powertools keeps an
    INPROGRESS record that expires with the invocation's own timeout, deletes it when the
    send raises (so the SQS retry sends), and answers a completed duplicate from the stored
    result. It also keeps dedup bookkeeping out of the customers context's table. The one
    remaining window, SES accepting the message and the COMPLETED write then failing, can
    only cause a duplicate e-mail, never a lost one.
    """

    def __init__(self, sender: NotificationSender, persistence: BasePersistenceLayer) -> None:
        self._sender = sender
        self._config = IdempotencyConfig(
            event_key_jmespath="notification_id",
            expires_after_seconds=int(DEDUPLICATION_WINDOW.total_seconds()),
            raise_on_no_idempotency_key=True,
        )

        def send_once(notification: dict[str, Any]) -> dict[str, str]:
            return {"message_id": sender.send(Notification.model_validate(notification))}

        self._send_once: Callable[..., dict[str, str]] = idempotent_function(
            data_keyword_argument="notification",
            persistence_store=persistence,
            config=self._config,
            key_prefix="notification",
        )(send_once)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """Lets an INPROGRESS record expire with this invocation, if it dies mid-send."""
        self._config.register_lambda_context(context)

    def send(self, notification: Notification) -> str | None:
        """The e-mail's message id; None, and nothing sent, for a notification no statement entry
        backs. That check comes first, so a forged message leaves no dedup record behind."""
        if not self._sender.is_backed(notification):
            logger.warning(
                "notification not backed by a statement entry: not sent",
                extra={"notification_id": notification.notification_id},
            )
            metrics.add_metric(name="NotificationsUnbacked", unit=MetricUnit.Count, value=1)
            return None
        return self._send_once(notification=notification.model_dump(mode="json"))["message_id"]
