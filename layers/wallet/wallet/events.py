"""Event contracts shared by the two bounded contexts.

Events are plain data. Each one is written as an outbox item in the same
TransactWriteItems as the state change it announces, and carries everything a consumer
needs, and nothing more: stream records of one transaction may arrive separately, so
consumers never rely on seeing the other items, and an outbox item is kept 30 days after
it was processed, so whatever it carries is kept that long too.

Each contract has a version of its own; a payload names its type and its version, and
``parse_event`` reads every version still stored (an outbox item lives 30 days after it
was processed) as the current one:

- ``CustomerRegistered`` v2 carries the customer's id and type, all its consumer (the
  sync: open the ledger account, activate the customer) reads. v1 also carried the
  customer's name, e-mail and document, which no consumer ever read; it is still read,
  and upgraded by dropping them.
- ``TransactionCreated`` v1.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from wallet.domain.customers import CustomerType
from wallet.domain.ledger import TransactionKind


class Event(BaseModel):
    # Exact contracts: a field no version names is refused, not silently dropped.
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    event_id: str
    occurred_at: datetime


class CustomerRegistered(Event):
    version: Literal[2] = 2
    event_type: Literal["CustomerRegistered"] = "CustomerRegistered"
    customer_id: str
    type: CustomerType


class CustomerRegisteredV1(Event):
    """Written until v2; read only, so that events already stored stay readable."""

    version: Literal[1]
    event_type: Literal["CustomerRegistered"]
    customer_id: str
    name: str
    email: str
    document: str
    type: CustomerType

    def upgrade(self) -> CustomerRegistered:
        return CustomerRegistered(
            event_id=self.event_id,
            occurred_at=self.occurred_at,
            customer_id=self.customer_id,
            type=self.type,
        )


class TransactionCreated(Event):
    version: Literal[1] = 1
    event_type: Literal["TransactionCreated"] = "TransactionCreated"
    transaction_id: str
    kind: TransactionKind
    payer_id: str | None
    payee_id: str
    amount: int = Field(gt=0, description="centavos")


def _contract(payload: Any) -> str | None:
    """``<event_type>/v<version>``: which model reads the payload."""
    if isinstance(payload, dict):
        return f"{payload.get('event_type')}/v{payload.get('version')}"
    return f"{getattr(payload, 'event_type', None)}/v{getattr(payload, 'version', None)}"


StoredEvent = Annotated[
    Annotated[CustomerRegistered, Tag("CustomerRegistered/v2")]
    | Annotated[CustomerRegisteredV1, Tag("CustomerRegistered/v1")]
    | Annotated[TransactionCreated, Tag("TransactionCreated/v1")],
    Discriminator(_contract),
]
_STORED_EVENT: TypeAdapter[CustomerRegistered | CustomerRegisteredV1 | TransactionCreated] = TypeAdapter(
    StoredEvent
)


def parse_event(payload: str) -> CustomerRegistered | TransactionCreated:
    """Read an outbox item's JSON payload back into its contract's current version."""
    event = _STORED_EVENT.validate_json(payload)
    return event.upgrade() if isinstance(event, CustomerRegisteredV1) else event
