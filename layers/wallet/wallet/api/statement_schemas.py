"""Response bodies of GET /customers/{id}/transactions."""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from wallet.domain.ledger import TransactionKind
from wallet.domain.money import format_amount
from wallet.domain.statements import Direction, StatementEntry
from wallet.service.ports import StatementPage


class StatementEntryResponse(BaseModel):
    transaction_id: str
    kind: TransactionKind
    direction: Direction
    value: str = Field(examples=["10.50"])
    counterparty: str | None = Field(description="the other customer; null for a deposit")
    occurred_at: datetime

    @classmethod
    def of(cls, entry: StatementEntry) -> Self:
        return cls(
            transaction_id=entry.transaction_id,
            kind=entry.kind,
            direction=entry.direction,
            value=format_amount(entry.amount),
            counterparty=entry.counterparty_id,
            occurred_at=entry.occurred_at,
        )


class StatementResponse(BaseModel):
    items: list[StatementEntryResponse]
    next_cursor: str | None = Field(description="pass it back as ?cursor= for the next page; null at the end")

    @classmethod
    def of(cls, page: StatementPage) -> Self:
        return cls(
            items=[StatementEntryResponse.of(entry) for entry in page.entries], next_cursor=page.next_cursor
        )
