"""Register a customer: the profile and its CustomerRegistered event, atomically."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from wallet.domain.customers import Customer, CustomerType
from wallet.domain.errors import Forbidden
from wallet.events import CustomerRegistered
from wallet.service.clock import utc_now
from wallet.service.ports import CustomerRegistry


class Registrant(Protocol):
    """The signed-in identity registering itself."""

    @property
    def customer_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def email_verified(self) -> bool: ...


def register_customer(
    customers: CustomerRegistry,
    registrant: Registrant,
    *,
    name: str,
    document: str,
    type: CustomerType,
    now: Callable[[], datetime] = utc_now,
) -> Customer:
    """The customer starts ``pending``; the sync activates it once its account is open.

    One customer per identity: its id is derived from the identity, so a second registration
    fails the store's condition (409).
    """
    if not registrant.email_verified:
        raise Forbidden("verify your e-mail address before registering")
    customer = Customer.register(
        id=registrant.customer_id,
        name=name,
        email=registrant.email,
        document=document,
        type=type,
        now=now(),
    )
    event = CustomerRegistered(
        event_id=str(uuid.uuid4()),
        occurred_at=customer.created_at,
        customer_id=customer.id,
        type=customer.type,
    )
    customers.add(customer, event)
    return customer
