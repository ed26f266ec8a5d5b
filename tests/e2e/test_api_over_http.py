"""The deployed API, over HTTP only: what a client of the wallet sees, signed in."""

import uuid

import pytest

from devstack.wallet_client import Customer, register, registration
from tests.e2e.conftest import Api, Person


def new_customer(api: Api, customer_type: str = "individual", person: Person | None = None) -> Customer:
    """A new person, signed in, registered as a customer (``pending`` until the sync opens its account)."""
    person = person or api.person()
    return register(api.http, person.email, person.token, customer_type)


def test_registration_answers_201_with_the_tokens_email_readable_back(api: Api) -> None:
    customer = new_customer(api)

    assert customer.registered["status"] in {"pending", "active"}
    assert customer.registered["email"] == customer.email
    read = api.get(f"/customers/{customer.id}", customer.token)
    assert read.status == 200
    assert read.body["email"] == customer.email
    me = api.get("/customers/me", customer.token)
    assert me.status == 200
    assert me.body["id"] == customer.id


def test_a_person_not_registered_yet_has_no_customer(api: Api) -> None:
    answer = api.get("/customers/me", api.person().token)

    assert answer.status == 404
    assert answer.body["error"] == "customer_not_found"


def test_registering_the_same_identity_twice_is_409_over_http(api: Api) -> None:
    customer = new_customer(api)

    again = api.post("/customers", registration(), token=customer.token)

    assert again.status == 409
    assert again.body["error"] == "customer_already_exists"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers", {"name": "x", "document": "123"}),
        ("/customers", {**registration(), "email": "someone.else@example.com"}),
        ("/transfers", {"payee": str(uuid.uuid4()), "value": "1.234"}),
        ("/transfers", {"payee": str(uuid.uuid4()), "value": -1}),
    ],
)
def test_bad_input_is_a_422_in_the_contract_shape(api: Api, path: str, body: dict[str, object]) -> None:
    answer = api.post(path, body, token=api.person().token)

    assert answer.status == 422
    assert answer.body["error"] == "validation_error"
    assert answer.body["details"]


def test_not_json_at_all_is_a_422_not_a_500(api: Api) -> None:
    answer = api.post("/transfers", b"{not json", token=api.person().token)

    assert answer.status == 422
    assert answer.body["error"] == "validation_error"


def test_a_deposit_without_the_rails_reference_is_a_422(api: Api) -> None:
    customer = new_customer(api)

    answer = api.post(f"/customers/{customer.id}/deposits", {"amount": "1.00"}, token=api.rail_token)

    assert answer.status == 422
    assert answer.body["error"] == "validation_error"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"/customers/{uuid.uuid4()}", "customer_not_found"),
        (f"/customers/{uuid.uuid4()}/balance", "customer_not_found"),
        (f"/customers/{uuid.uuid4()}/transactions", "customer_not_found"),
        (f"/transfers/{uuid.uuid4()}", "transaction_not_found"),
    ],
)
def test_unknown_ids_are_404_with_their_code(api: Api, path: str, code: str) -> None:
    answer = api.get(path, new_customer(api).token)

    assert answer.status == 404
    assert answer.body["error"] == code


def test_a_transfer_from_a_person_not_registered_yet_is_404(api: Api) -> None:
    payee = new_customer(api)

    answer = api.post("/transfers", {"payee": payee.id, "value": "1.00"}, token=api.person().token)

    assert answer.status == 404
    assert answer.body["error"] == "customer_not_found"


def test_a_deposit_to_an_unknown_customer_is_404(api: Api) -> None:
    answer = api.deposit(str(uuid.uuid4()), "1.00")

    assert answer.status == 404
    assert answer.body["error"] == "customer_not_found"


def test_the_openapi_spec_and_its_ui_are_served_without_a_token(api: Api) -> None:
    spec = api.get("/openapi.json")
    docs = api.get("/docs")

    assert spec.status == 200
    assert "/transfers" in spec.body["paths"]
    assert "customerIdToken" in spec.body["components"]["securitySchemes"]
    assert docs.status == 200
    assert "swagger" in docs.body.lower()


def test_the_authorizer_stub_is_switched_through_the_api_port(api: Api) -> None:
    answer = api.call("PUT", "/_local/authorizer", {"mode": "deny"})

    assert answer.status == 200
    assert answer.body["mode"] == "deny"
    assert api.call("GET", "/_local/authorizer").body["mode"] == "deny"


def test_a_route_that_does_not_exist_answers_the_contracts_404(api: Api) -> None:
    answer = api.call("DELETE", "/customers/x/y", token=api.person().token)

    assert answer.status == 404
    assert answer.body["error"] == "route_not_found"


@pytest.mark.parametrize(
    ("method", "path", "allow"), [("DELETE", "/customers", "POST"), ("QUERY", "/customers/me", "GET")]
)
def test_a_method_a_route_does_not_take_answers_405_with_allow(
    api: Api, method: str, path: str, allow: str
) -> None:
    """Through API Gateway's $default route, whatever the method (the local gateway forwards any)."""
    answer = api.call(method, path, token=api.person().token)

    assert answer.status == 405
    assert answer.body["error"] == "method_not_allowed"
    assert answer.headers["allow"] == allow
