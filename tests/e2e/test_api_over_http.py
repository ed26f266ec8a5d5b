"""The deployed API, over HTTP only: what a client of the wallet sees."""

import uuid

import pytest

from tests.e2e.conftest import Api
from tests.support.documents import new_cnpj, new_cpf


def new_customer(api: Api, customer_type: str = "individual") -> dict[str, str]:
    answer = api.post(
        "/customers",
        {
            "name": "Cliente Teste",
            "email": f"{uuid.uuid4().hex[:12]}@example.com",
            "document": new_cnpj() if customer_type == "merchant" else new_cpf(),
            "type": customer_type,
        },
    )
    assert answer.status == 201, answer
    body: dict[str, str] = answer.body
    return body


def test_registration_answers_201_with_a_pending_customer_readable_back(api: Api) -> None:
    customer = new_customer(api)

    assert customer["status"] in {"pending", "active"}
    read = api.get(f"/customers/{customer['id']}")
    assert read.status == 200
    assert read.body["email"] == customer["email"]


def test_a_taken_email_is_409_over_http(api: Api) -> None:
    customer = new_customer(api)

    again = api.post("/customers", {"name": "Outro", "email": customer["email"], "document": new_cpf()})

    assert again.status == 409
    assert again.body["error"] == "customer_already_exists"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers", {"name": "x", "email": "nope", "document": "123"}),
        ("/transfers", {"payer": "a", "payee": "b", "value": "1.234"}),
        ("/transfers", {"payer": "a", "payee": "b", "value": -1}),
    ],
)
def test_bad_input_is_a_422_in_the_contract_shape(api: Api, path: str, body: dict[str, object]) -> None:
    answer = api.post(path, body)

    assert answer.status == 422
    assert answer.body["error"] == "validation_error"
    assert answer.body["details"]


def test_not_json_at_all_is_a_422_not_a_500(api: Api) -> None:
    answer = api.post("/transfers", b"{not json")

    assert answer.status == 422
    assert answer.body["error"] == "validation_error"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"/customers/{uuid.uuid4()}", "customer_not_found"),
        (f"/customers/{uuid.uuid4()}/balance", "customer_not_found"),
        (f"/transfers/{uuid.uuid4()}", "transaction_not_found"),
    ],
)
def test_unknown_ids_are_404_with_their_code(api: Api, path: str, code: str) -> None:
    answer = api.get(path)

    assert answer.status == 404
    assert answer.body["error"] == code


def test_transfers_between_unknown_customers_are_404(api: Api) -> None:
    answer = api.post("/transfers", {"payer": str(uuid.uuid4()), "payee": str(uuid.uuid4()), "value": "1.00"})

    assert answer.status == 404
    assert answer.body["error"] == "customer_not_found"


def test_the_openapi_spec_and_its_ui_are_served(api: Api) -> None:
    spec = api.get("/openapi.json")
    docs = api.get("/docs")

    assert spec.status == 200
    assert "/transfers" in spec.body["paths"]
    assert docs.status == 200
    assert "swagger" in docs.body.lower()


def test_the_authorizer_stub_is_switched_through_the_api_port(api: Api) -> None:
    answer = api.call("PUT", "/_local/authorizer", {"mode": "deny"})

    assert answer.status == 200
    assert answer.body["mode"] == "deny"
    assert api.call("GET", "/_local/authorizer").body["mode"] == "deny"


def test_a_route_that_does_not_exist_answers_the_contracts_404(api: Api) -> None:
    answer = api.call("DELETE", "/customers")

    assert answer.status == 404
    assert answer.body["error"] == "route_not_found"
