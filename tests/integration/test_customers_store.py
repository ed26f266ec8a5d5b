"""The customers table on both engines: registration's one transaction, and activation by the sync."""

from datetime import UTC, datetime

import pytest

from devstack.documents import new_cpf
from tests.integration.conftest import Stores
from tests.support.identities import Person
from wallet.adapters.outbox import PROCESSED_RETENTION
from wallet.domain.customers import CustomerStatus, CustomerType
from wallet.domain.errors import CustomerAlreadyExists
from wallet.events import CustomerRegistered, parse_event
from wallet.service.on_customer_registered import apply_customer_registered

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def test_registration_writes_the_customer_both_guards_and_the_event(stores: Stores) -> None:
    customer = stores.register()
    event = stores.registration_event(customer.id)

    assert set(stores.customers_items()) == {
        (f"CUSTOMER#{customer.id}", "PROFILE"),
        (f"EMAIL#{customer.email}", "GUARD"),
        (f"DOCUMENT#{customer.document}", "GUARD"),
        (f"EVENT#{event.event_id}", "EVENT"),
    }


def test_guards_hold_the_customer_id(stores: Stores) -> None:
    customer = stores.register()
    items = stores.customers_items()

    assert items[(f"EMAIL#{customer.email}", "GUARD")]["customer_id"] == customer.id
    assert items[(f"DOCUMENT#{customer.document}", "GUARD")]["customer_id"] == customer.id


def test_a_new_customer_is_pending_and_has_no_account(stores: Stores) -> None:
    customer = stores.register(CustomerType.MERCHANT)

    assert stores.customers.get(customer.id) == customer
    assert customer.status is CustomerStatus.PENDING
    assert stores.ledger.account(customer.id) is None


def test_the_outbox_item_is_pending_with_a_parseable_payload(stores: Stores) -> None:
    customer = stores.register()
    outbox = [item for item in stores.customers_items().values() if item["entity"] == "outbox"]

    assert len(outbox) == 1
    item = outbox[0]
    assert item["status"] == "pending"
    assert item["pending_kind"].startswith("outbox#")
    assert "expires_at" not in item
    event = parse_event(item["payload"])
    assert isinstance(event, CustomerRegistered)
    assert item["event_id"] == event.event_id
    assert item["event_type"] == "CustomerRegistered"
    assert (event.version, event.customer_id, event.type) == (2, customer.id, customer.type)
    for personal in (customer.name, customer.email, customer.document):
        assert personal not in item["payload"]


def test_the_pending_index_lists_the_registration_event(stores: Stores) -> None:
    customer = stores.register()

    pending = [item.event() for item in stores.customers.pending_events(older_than=FAR_FUTURE)]

    assert pending == [stores.registration_event(customer.id)]


@pytest.mark.parametrize(
    "typed", ["Ana.Souza@Example.COM", "  ana.souza@example.com ", "ANA.SOUZA@EXAMPLE.COM"]
)
def test_an_email_taken_in_any_case_is_rejected_and_nothing_is_written(stores: Stores, typed: str) -> None:
    stores.register(email="ana.souza@example.com")
    before = stores.customers_items()

    with pytest.raises(CustomerAlreadyExists, match="email"):
        stores.register(email=typed)

    assert stores.customers_items() == before


def test_a_taken_document_is_rejected_even_with_punctuation_and_nothing_is_written(stores: Stores) -> None:
    document = new_cpf()
    stores.register(document=document)
    before = stores.customers_items()
    punctuated = f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"

    with pytest.raises(CustomerAlreadyExists, match="document"):
        stores.register(document=punctuated)

    assert stores.customers_items() == before


def test_both_taken_names_both_and_nothing_is_written(stores: Stores) -> None:
    first = stores.register()
    before = stores.customers_items()

    with pytest.raises(CustomerAlreadyExists) as rejected:
        stores.register(email=first.email, document=first.document)

    assert "email" in rejected.value.message and "document" in rejected.value.message
    assert stores.customers_items() == before


@pytest.mark.parametrize("document", ["same", "new"], ids=["same document", "another document"])
def test_a_second_registration_by_the_same_identity_is_rejected_and_nothing_is_written(
    stores: Stores, document: str
) -> None:
    person = Person.new()
    first = stores.register(person=person)
    before = stores.customers_items()

    with pytest.raises(CustomerAlreadyExists, match="already registered"):
        stores.register(person=person, document=first.document if document == "same" else new_cpf())

    assert stores.customers_items() == before
    assert stores.customers.get(person.customer_id) == first


def test_applying_the_registration_opens_an_empty_account_and_activates(stores: Stores) -> None:
    customer = stores.register(CustomerType.MERCHANT)
    event = stores.registration_event(customer.id)

    apply_customer_registered(event, stores.ledger, stores.customers)

    account = stores.ledger.account(customer.id)
    assert account is not None
    assert (account.balance, account.customer_type) == (0, CustomerType.MERCHANT)
    assert stores.customers.get(customer.id) == customer.activated()


def test_applying_the_registration_marks_the_event_processed_and_expiring(stores: Stores) -> None:
    customer = stores.register()
    event = stores.registration_event(customer.id)
    applied_at = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)

    apply_customer_registered(event, stores.ledger, stores.customers, now=lambda: applied_at)

    item = stores.customers_items()[(f"EVENT#{event.event_id}", "EVENT")]
    assert item["status"] == "processed"
    assert "pending_kind" not in item
    assert "pending_since" not in item
    assert item["expires_at"] == int((applied_at + PROCESSED_RETENTION).timestamp())
    assert stores.customers.pending_events(older_than=FAR_FUTURE) == []
    profile = stores.customers_items()[(f"CUSTOMER#{customer.id}", "PROFILE")]
    assert profile["status"] == "active"


def test_a_duplicate_delivery_changes_nothing_and_raises_nothing(stores: Stores) -> None:
    customer = stores.register()
    event = stores.registration_event(customer.id)
    apply_customer_registered(event, stores.ledger, stores.customers)
    stores.deposit(customer.id, 2_500)
    ledger_before, customers_before = stores.ledger_items(), stores.customers_items()

    apply_customer_registered(event, stores.ledger, stores.customers)

    assert stores.ledger_items() == ledger_before
    assert stores.customers_items() == customers_before
    assert stores.balance(customer.id) == 2_500


def test_the_steps_are_idempotent_one_by_one(stores: Stores) -> None:
    customer = stores.register()
    event = stores.registration_event(customer.id)
    now = datetime.now(UTC)

    assert stores.ledger.open_account(customer.id, customer.type, now) is True
    assert stores.ledger.open_account(customer.id, customer.type, now) is False
    assert stores.customers.activate(event, now) is True
    assert stores.customers.activate(event, now) is False


def test_a_crash_after_opening_the_account_is_completed_by_the_retry(stores: Stores) -> None:
    customer = stores.register()
    event = stores.registration_event(customer.id)
    stores.ledger.open_account(customer.id, customer.type, datetime.now(UTC))
    # The account already works before activation; the retry must not reset it.
    stores.deposit(customer.id, 700)

    apply_customer_registered(event, stores.ledger, stores.customers)

    assert stores.balance(customer.id) == 700
    assert stores.customers.get(customer.id) == customer.activated()
    assert stores.customers.pending_events(older_than=FAR_FUTURE) == []
