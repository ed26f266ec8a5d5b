"""The GET routes through the queries function's real handler, and unknown routes everywhere.

Each reads only what is the caller's own: the tests read as the customer's owner.
"""

import pytest

from tests.api.conftest import Api, assert_error
from tests.support.identities import Person
from tests.support.lambda_events import http_event, sample

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
CUSTOMER_KEYS = {"id", "name", "email", "document", "type", "status", "created_at"}


def test_a_customer_reads_pending_until_the_sync_opens_its_account_then_active(api: Api) -> None:
    registered = api.pending_customer()
    owner = api.of(registered["id"])

    pending = owner.get_customer(registered["id"])
    api.activate(registered["id"])
    active = owner.get_customer(registered["id"])

    assert pending.status == active.status == 200
    assert set(pending.json()) == CUSTOMER_KEYS
    assert pending.json() == registered
    assert active.json() == {**registered, "status": "active"}


def test_me_is_404_until_the_caller_registers_then_its_own_customer(api: Api) -> None:
    person = Person.new()
    caller = api.as_(person)

    before = caller.me()
    registered = api.pending_customer(person=person)
    pending = caller.me()
    api.activate(registered["id"])
    active = caller.me()

    assert_error(before, 404, "customer_not_found")
    assert registered["id"] == person.customer_id
    assert pending.status == active.status == 200
    assert pending.json() == registered
    assert active.json() == {**registered, "status": "active"}


def test_an_unknown_customer_is_404_customer_not_found(api: Api) -> None:
    assert_error(api.get_customer(UNKNOWN_ID), 404, "customer_not_found")


@pytest.mark.parametrize("bad_id", ["not_an_id", "a" * 65, "%2e%2e"])
def test_a_malformed_customer_id_is_422_validation_error(api: Api, bad_id: str) -> None:
    assert_error(api.get_customer(bad_id), 422, "validation_error")


def test_the_balance_comes_from_the_ledger_as_a_decimal_string_in_brl(api: Api) -> None:
    customer = api.active_customer()
    owner = api.of(customer)
    empty = owner.get_balance(customer)
    assert api.rail.deposit(customer, {"amount": "1234.56"}).status == 201

    funded = owner.get_balance(customer)

    assert empty.status == funded.status == 200
    assert empty.json() == {"customer_id": customer, "balance": "0.00", "currency": "BRL"}
    assert funded.json() == {"customer_id": customer, "balance": "1234.56", "currency": "BRL"}


def test_a_pending_customer_has_a_zero_balance(api: Api) -> None:
    customer = api.pending_customer()["id"]

    response = api.of(customer).get_balance(customer)

    assert response.status == 200
    assert response.json()["balance"] == "0.00"


def test_the_balance_of_an_unknown_customer_is_404(api: Api) -> None:
    assert_error(api.get_balance(UNKNOWN_ID), 404, "customer_not_found")


def test_a_transfer_reads_back_as_it_was_created_to_its_payer_and_its_payee(api: Api) -> None:
    payer, payee = api.active_customer(balance="10.00"), api.active_customer()
    created = api.of(payer).transfer({"payee": payee, "value": "2.50"})
    assert created.status == 201, created.body

    for party in (payer, payee):
        response = api.of(party).get_transfer(created.json()["id"])

        assert response.status == 200
        assert response.json() == created.json()


def test_a_deposit_reads_back_through_the_transfers_route(api: Api) -> None:
    customer = api.active_customer()
    created = api.rail.deposit(customer, {"amount": "3.00"})

    response = api.of(customer).get_transfer(created.json()["id"])

    assert response.status == 200
    assert response.json() == created.json()
    assert response.json()["payer"] is None


def test_an_unknown_transaction_is_404_transaction_not_found(api: Api) -> None:
    assert_error(api.get_transfer(UNKNOWN_ID), 404, "transaction_not_found")


@pytest.mark.parametrize(
    ("function", "sample_name", "method", "path"),
    [
        ("queries", "get_customer", "GET", "/nowhere"),
        ("queries", "get_customer", "QUERY", "/customers/x/y/z"),
        ("queries", "get_transfer", "DELETE", "/transfers/a/b"),
        ("register_customer", "register_customer", "POST", "/customers/extra/more"),
        ("deposit", "deposit", "POST", "/deposits"),
    ],
)
def test_an_unknown_route_is_a_json_404_from_every_function(
    api: Api, function: str, sample_name: str, method: str, path: str
) -> None:
    before = api.snapshot()

    response = api.call(function, http_event(sample_name, method=method, path=path, path_parameters=None))

    assert_error(response, 404, "route_not_found")
    assert response.header("allow") is None
    assert api.snapshot() == before


# Every method API Gateway has no route for reaches the queries function ($default route).
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", f"/customers/{UNKNOWN_ID}", "GET"),
        ("QUERY", "/customers/me", "GET"),
        ("PUT", "/customers", "POST"),
        ("GET", "/transfers", "POST"),
        ("PROPFIND", f"/customers/{UNKNOWN_ID}/deposits", "POST"),
        ("PATCH", f"/customers/{UNKNOWN_ID}/balance", "GET"),
        ("TRACE", f"/customers/{UNKNOWN_ID}/transactions", "GET"),
        ("OPTIONS", f"/transfers/{UNKNOWN_ID}", "GET"),
        ("POST", "/openapi.json", "GET"),
        ("HEAD", "/docs", "GET"),
    ],
)
def test_a_method_the_api_does_not_take_on_a_known_path_is_405_with_allow(
    api: Api, method: str, path: str, allow: str
) -> None:
    before = api.snapshot()

    response = api.call("queries", http_event("get_customer", method=method, path=path, path_parameters=None))

    assert_error(response, 405, "method_not_allowed")
    assert response.header("allow") == allow
    assert api.snapshot() == before


@pytest.mark.parametrize(
    ("function", "method", "path", "allow"),
    [
        ("register_customer", "GET", "/customers", "POST"),
        ("send_money", "PUT", "/transfers", "POST"),
        ("deposit", "GET", f"/customers/{UNKNOWN_ID}/deposits", "POST"),
    ],
)
def test_every_function_answers_the_same_405_from_the_routes_of_the_whole_api(
    api: Api, function: str, method: str, path: str, allow: str
) -> None:
    """API Gateway sends them only their own routes; were it ever otherwise, the answer is the same."""
    response = api.call(function, http_event(function, method=method, path=path, path_parameters=None))

    assert_error(response, 405, "method_not_allowed")
    assert response.header("allow") == allow


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
