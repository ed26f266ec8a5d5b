"""Event contracts shared by the two bounded contexts (version 1).

Events are plain data. Each one is written as an outbox item in the same
TransactWriteItems as the state change it announces, and carries everything a consumer
needs: stream records of one transaction may arrive separately, so consumers never rely
on seeing the other items.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from wallet.domain.customers import CustomerType
from wallet.domain.ledger import TransactionKind


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: Literal[1] = 1
    event_id: str
    occurred_at: datetime


class CustomerRegistered(Event):
    event_type: Literal["CustomerRegistered"] = "CustomerRegistered"
    customer_id: str
    name: str
    email: str
    document: str
    type: CustomerType


class TransactionCreated(Event):
    event_type: Literal["TransactionCreated"] = "TransactionCreated"
    transaction_id: str
    kind: TransactionKind
    payer_id: str | None
    payee_id: str
    amount: int = Field(gt=0, description="centavos")


AnyEvent = Annotated[CustomerRegistered | TransactionCreated, Field(discriminator="event_type")]
_ANY_EVENT: TypeAdapter[CustomerRegistered | TransactionCreated] = TypeAdapter(AnyEvent)


def parse_event(payload: str) -> CustomerRegistered | TransactionCreated:
    """Read an outbox item's JSON payload back into its contract."""
    return _ANY_EVENT.validate_json(payload)
