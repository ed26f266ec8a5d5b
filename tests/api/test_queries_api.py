"""The GET routes through the queries function's real handler, and unknown routes everywhere."""

import pytest

from tests.api.conftest import Api, assert_error
from tests.support.lambda_events import http_event, sample

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
CUSTOMER_KEYS = {"id", "name", "email", "document", "type", "status", "created_at"}


def test_a_customer_reads_pending_until_the_sync_opens_its_account_then_active(api: Api) -> None:
    registered = api.pending_customer()

    pending = api.get_customer(registered["id"])
    api.activate(registered["id"])
    active = api.get_customer(registered["id"])

    assert pending.status == active.status == 200
    assert set(pending.json()) == CUSTOMER_KEYS
    assert pending.json() == registered
    assert active.json() == {**registered, "status": "active"}


def test_an_unknown_customer_is_404_customer_not_found(api: Api) -> None:
    assert_error(api.get_customer(UNKNOWN_ID), 404, "customer_not_found")


@pytest.mark.parametrize("bad_id", ["not_an_id", "a" * 65, "%2e%2e"])
def test_a_malformed_customer_id_is_422_validation_error(api: Api, bad_id: str) -> None:
    assert_error(api.get_customer(bad_id), 422, "validation_error")


def test_the_balance_comes_from_the_ledger_as_a_decimal_string_in_brl(api: Api) -> None:
    customer = api.active_customer()
    empty = api.get_balance(customer)
    assert api.deposit(customer, {"amount": "1234.56"}).status == 201

    funded = api.get_balance(customer)

    assert empty.status == funded.status == 200
    assert empty.json() == {"customer_id": customer, "balance": "0.00", "currency": "BRL"}
    assert funded.json() == {"customer_id": customer, "balance": "1234.56", "currency": "BRL"}


def test_a_pending_customer_has_a_zero_balance(api: Api) -> None:
    customer = api.pending_customer()["id"]

    response = api.get_balance(customer)

    assert response.status == 200
    assert response.json()["balance"] == "0.00"


def test_the_balance_of_an_unknown_customer_is_404(api: Api) -> None:
    assert_error(api.get_balance(UNKNOWN_ID), 404, "customer_not_found")


def test_a_transfer_reads_back_as_it_was_created(api: Api) -> None:
    payer, payee = api.active_customer(balance="10.00"), api.active_customer()
    created = api.transfer({"payer": payer, "payee": payee, "value": "2.50"})
    assert created.status == 201, created.body

    response = api.get_transfer(created.json()["id"])

    assert response.status == 200
    assert response.json() == created.json()


def test_a_deposit_reads_back_through_the_transfers_route(api: Api) -> None:
    customer = api.active_customer()
    created = api.deposit(customer, {"amount": "3.00"})

    response = api.get_transfer(created.json()["id"])

    assert response.status == 200
    assert response.json() == created.json()
    assert response.json()["payer"] is None


def test_an_unknown_transaction_is_404_transaction_not_found(api: Api) -> None:
    assert_error(api.get_transfer(UNKNOWN_ID), 404, "transaction_not_found")


@pytest.mark.parametrize(
    ("function", "sample_name", "method", "path"),
    [
        ("queries", "get_customer", "GET", "/nowhere"),
        ("queries", "get_customer", "DELETE", f"/customers/{UNKNOWN_ID}"),
        ("queries", "get_transfer", "GET", "/transfers"),
        ("register_customer", "register_customer", "GET", "/customers"),
        ("register_customer", "register_customer", "POST", "/customers/extra"),
        ("send_money", "send_money", "PUT", "/transfers"),
        ("deposit", "deposit", "POST", "/deposits"),
    ],
)
def test_an_unknown_route_is_a_json_404_from_every_function(
    api: Api, function: str, sample_name: str, method: str, path: str
) -> None:
    before = api.snapshot()

    response = api.call(function, http_event(sample_name, method=method, path=path, path_parameters=None))

    assert_error(response, 404, "route_not_found")
    assert api.snapshot() == before


@pytest.mark.parametrize(
    ("function", "sample_name", "status", "code"),
    [
        ("send_money", "send_money", 404, "customer_not_found"),
        ("deposit", "deposit", 404, "customer_not_found"),
        ("queries", "get_customer", 404, "customer_not_found"),
        ("queries", "get_balance", 404, "customer_not_found"),
        ("queries", "get_transfer", 404, "transaction_not_found"),
    ],
)
def test_each_sample_event_reaches_its_route_unchanged(
    api: Api, function: str, sample_name: str, status: int, code: str
) -> None:
    """The samples name customers and a transfer that do not exist: the route answers 404, not 'no route'."""
    assert_error(api.call(function, sample(sample_name)), status, code)


def test_the_registration_sample_registers_its_customer(api: Api) -> None:
    event = sample("register_customer")

    first = api.call("register_customer", event)
    again = api.call("register_customer", event)

    assert first.status == 201, first.body
    assert first.json()["email"] == "maria.silva@example.com"
    assert_error(again, 409, "customer_already_exists")
