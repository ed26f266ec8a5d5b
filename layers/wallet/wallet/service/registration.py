"""Register a customer: the profile and its CustomerRegistered event, atomically."""

import uuid
from collections.abc import Callable
from datetime import datetime

from wallet.adapters.customers_store import CustomersStore
from wallet.domain.customers import Customer, CustomerType
from wallet.events import CustomerRegistered
from wallet.service.clock import utc_now


def register_customer(
    customers: CustomersStore,
    *,
    name: str,
    email: str,
    document: str,
    type: CustomerType,
    now: Callable[[], datetime] = utc_now,
) -> Customer:
    """The customer starts ``pending``; the sync activates it once its account is open."""
    customer = Customer.register(
        id=str(uuid.uuid4()), name=name, email=email, document=document, type=type, now=now()
    )
    event = CustomerRegistered(
        event_id=str(uuid.uuid4()),
        occurred_at=customer.created_at,
        customer_id=customer.id,
        name=customer.name,
        email=customer.email,
        document=customer.document,
        type=customer.type,
    )
    customers.add(customer, event)
    return customer
