"""Statements: each party's copy of a transaction, and who is told about it.

The rule: the customer who RECEIVED the money always gets a confirmation; the payer
of a transfer gets a receipt too. One statement entry per party, one notification per entry.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from wallet.domain.ledger import TransactionKind

# Notification ids are derived, never random: a replay of the same transaction must name
# the same notification, so the e-mail sender can recognise a duplicate.
_NOTIFICATION_NAMESPACE = uuid.UUID("0d9c8f52-7c43-4b7e-a7f4-3c2e6d1b9a80")


class Direction(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class Role(StrEnum):
    """Which side of the transaction a customer was on; it decides the e-mail they get."""

    PAYER = "payer"
    PAYEE = "payee"


@dataclass(frozen=True)
class StatementEntry:
    customer_id: str
    transaction_id: str
    kind: TransactionKind
    direction: Direction
    amount: int
    counterparty_id: str | None
    occurred_at: datetime

    @property
    def role(self) -> Role:
        return Role.PAYER if self.direction is Direction.DEBIT else Role.PAYEE

    @property
    def notification_id(self) -> str:
        return notification_id(self.transaction_id, self.role)


def notification_id(transaction_id: str, role: Role) -> str:
    return str(uuid.uuid5(_NOTIFICATION_NAMESPACE, f"{transaction_id}:{role.value}"))


def statement_entries(
    *,
    transaction_id: str,
    kind: TransactionKind,
    payer_id: str | None,
    payee_id: str,
    amount: int,
    occurred_at: datetime,
) -> list[StatementEntry]:
    """The payer's debit (transfers only) and the payee's credit."""
    when = occurred_at.astimezone(UTC)
    credit = StatementEntry(payee_id, transaction_id, kind, Direction.CREDIT, amount, payer_id, when)
    if payer_id is None:
        return [credit]
    debit = StatementEntry(payer_id, transaction_id, kind, Direction.DEBIT, amount, payee_id, when)
    return [debit, credit]
