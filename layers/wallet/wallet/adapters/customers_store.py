"""The customers table: profiles, uniqueness guards, the customers' outbox.

Registration is ONE TransactWriteItems: the customer (``pending``), a guard item for the
e-mail and one for the document (``attribute_not_exists``: that is how uniqueness is
enforced without a scan), and the ``CustomerRegistered`` outbox item.
"""

from datetime import datetime
from typing import Self

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from wallet.adapters.dynamodb import AtomicWrite, TransactionCancelled, bind_models, commit_with_retry
from wallet.adapters.outbox import OUTBOX_ENTITY, OutboxItem, pending_items, processed_actions
from wallet.adapters.stored_item import StoredItem
from wallet.domain.customers import Customer, CustomerStatus, CustomerType
from wallet.domain.errors import CustomerAlreadyExists, CustomerNotFound
from wallet.events import CustomerRegistered

PROFILE_SK = "PROFILE"


class CustomerItem(StoredItem):
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    document = UnicodeAttribute()
    customer_type = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    activated_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, customer_id: str) -> Self:
        return cls(pk=f"CUSTOMER#{customer_id}", sk=PROFILE_SK)

    @classmethod
    def from_domain(cls, customer: Customer) -> Self:
        item = cls.key(customer.id)
        item.entity = "customer"
        item.name = customer.name
        item.email = customer.email
        item.document = customer.document
        item.customer_type = customer.type.value
        item.status = customer.status.value
        item.created_at = customer.created_at
        return item

    def to_domain(self) -> Customer:
        return Customer(
            id=self.pk.removeprefix("CUSTOMER#"),
            name=self.name,
            email=self.email,
            document=self.document,
            type=CustomerType(self.customer_type),
            status=CustomerStatus(self.status),
            created_at=self.created_at,
        )


class UniquenessGuard(StoredItem):
    """Holds an e-mail or a document for one customer."""

    customer_id = UnicodeAttribute()

    @classmethod
    def claim(cls, kind: str, value: str, customer_id: str) -> Self:
        item = cls(pk=f"{kind}#{value}", sk="GUARD")
        item.entity = "guard"
        item.customer_id = customer_id
        return item


class CustomersOutboxItem(OutboxItem):
    pass


CUSTOMERS_MODELS = (CustomerItem, UniquenessGuard, CustomersOutboxItem)


class CustomersStore:
    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._connection = bind_models(CUSTOMERS_MODELS, table_name, host)

    def get(self, customer_id: str) -> Customer | None:
        try:
            # Consistent: a customer registered a moment ago must not look unknown (404).
            key = CustomerItem.key(customer_id)
            return CustomerItem.get(key.pk, key.sk, consistent_read=True).to_domain()
        except CustomerItem.DoesNotExist:
            return None

    def add(self, customer: Customer, event: CustomerRegistered) -> None:
        """Register the customer and announce it, atomically; 409 if e-mail or document is taken."""
        try:
            commit_with_retry(self._registration(customer, event), self._connection)
        except TransactionCancelled as cancelled:
            if "customer" in cancelled.failed:
                if self.get(customer.id) == customer:
                    # This registration's own write, whose answer was lost and then retried:
                    # nobody else writes this very customer at this very instant.
                    return
                raise CustomerAlreadyExists("you are already registered as a customer") from cancelled
            taken = " and ".join(sorted(cancelled.failed & {"email", "document"}))
            raise CustomerAlreadyExists(f"a customer with this {taken} already exists") from cancelled

    def _registration(self, customer: Customer, event: CustomerRegistered) -> AtomicWrite:
        registration = AtomicWrite()
        registration.put("customer", CustomerItem.from_domain(customer), CustomerItem.pk.does_not_exist())
        for kind, value in (("email", customer.email), ("document", customer.document)):
            guard = UniquenessGuard.claim(kind.upper(), value, customer.id)
            registration.put(kind, guard, UniquenessGuard.pk.does_not_exist())
        registration.put(
            "event", CustomersOutboxItem.pending_event(event), CustomersOutboxItem.pk.does_not_exist()
        )
        return registration

    def activate(self, event: CustomerRegistered, now: datetime) -> bool:
        """Mark the registration event processed and the customer active, in ONE transaction.

        Returns False when the event was already processed (a duplicate delivery).
        """
        activation = AtomicWrite()
        activation.update(
            "event",
            CustomersOutboxItem.key(event.event_id),
            processed_actions(CustomersOutboxItem, now),
            condition=CustomersOutboxItem.status == "pending",
        )
        activation.update(
            "customer",
            CustomerItem.key(event.customer_id),
            [CustomerItem.status.set(CustomerStatus.ACTIVE.value), CustomerItem.activated_at.set(now)],
            condition=CustomerItem.pk.exists(),
        )
        try:
            commit_with_retry(activation, self._connection)
        except TransactionCancelled as cancelled:
            if "customer" in cancelled.failed:
                raise CustomerNotFound(f"customer {event.customer_id} does not exist") from cancelled
            return False
        return True

    def pending_events(
        self, older_than: datetime, limit: int = 100, since: str | None = None
    ) -> list[CustomersOutboxItem]:
        return pending_items(CustomersOutboxItem, OUTBOX_ENTITY, older_than, limit, since)
