"""GET /openapi.json and GET /docs, and the sample events in ``events/`` against the template.

The spec is generated from the routers, the routes API Gateway serves come from
template.yaml, and the samples are what ``sam local invoke -e`` sends: all three must agree
on every route of the contract.
"""

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from pydantic import BaseModel, ValidationError

from devstack.documents import new_cnpj, new_cpf
from devstack.template import resources
from tests.api.conftest import Api
from tests.conftest import Tables
from tests.support.lambda_events import EVENTS, FUNCTIONS, http_event, invoke, sample
from wallet.api.http import parse_json
from wallet.api.identity import DEPOSIT_SCOPE
from wallet.api.schemas import ID_PATTERN, DepositRequest, RegisterCustomerRequest, TransferRequest
from wallet.domain.customers import MAX_NAME_LENGTH, NAME_PATTERN, customer_id_for
from wallet.domain.documents import DOCUMENT_PATTERN, MAX_DOCUMENT_LENGTH
from wallet.domain.ledger import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_LENGTH
from wallet.domain.money import AMOUNT_PATTERN
from wallet.service.ports import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from wallet.service.statements import MAX_PAGE_SIZE

STATEMENT_ROUTE = ("get", "/customers/{customer_id}/transactions")
# The routes with a sample event in events/ (the statement has none yet).
SAMPLED_ROUTES = {
    ("post", "/customers"),
    ("get", "/customers/{customer_id}"),
    ("get", "/customers/{customer_id}/balance"),
    ("post", "/customers/{customer_id}/deposits"),
    ("post", "/transfers"),
    ("get", "/transfers/{transaction_id}"),
}
ME_ROUTE = ("get", "/customers/me")
DEPOSIT_ROUTE = ("post", "/customers/{customer_id}/deposits")
CONTRACT_ROUTES = SAMPLED_ROUTES | {STATEMENT_ROUTE, ME_ROUTE}
# Every route answers these too: no verified identity (401), or not this route's kind (403).
ACCESS_ERRORS = {"401": "unauthorized", "403": "forbidden"}
# What each route may answer besides its success, per the routes table of README.md ("Try it").
DOCUMENTED_ERRORS = {
    ("post", "/customers"): {"409", "422"},
    ("get", "/customers/{customer_id}"): {"404"},
    ME_ROUTE: {"404"},
    ("get", "/customers/{customer_id}/balance"): {"404"},
    DEPOSIT_ROUTE: {"404", "409", "422"},
    ("post", "/transfers"): {"403", "404", "409", "422", "503"},
    ("get", "/transfers/{transaction_id}"): {"404"},
    STATEMENT_ROUTE: {"404", "422"},
}
# The bearer each route takes: the payment rail deposits; customers do everything else.
CUSTOMER_TOKEN, RAIL_TOKEN = "customerIdToken", "paymentRailToken"
DOCS_ROUTES = {("get", "/openapi.json"), ("get", "/docs")}
# The function each sample event is for (events/<sample>.json -> functions/<function>/).
SAMPLE_FUNCTIONS = {
    "register_customer": "register_customer",
    "send_money": "send_money",
    "deposit": "deposit",
    "get_customer": "queries",
    "get_balance": "queries",
    "get_transfer": "queries",
}


@pytest.fixture(scope="module")
def spec(api_tables: Tables) -> dict[str, Any]:
    response = invoke("queries", http_event("get_customer", path="/openapi.json", path_parameters=None))
    assert response.status == 200, response.body
    assert response.header("content-type") == "application/json"
    document: dict[str, Any] = json.loads(response.body)
    return document


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item}


def template_routes() -> dict[tuple[str, str], str]:
    """Each route API Gateway serves, and the folder of the function it invokes."""
    everything = resources()
    routes: dict[tuple[str, str], str] = {}
    for resource in everything.values():
        if resource["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        properties = resource["Properties"]
        if properties["RouteKey"] == "$default":
            continue  # the catch-all, so that unknown routes get the contract's 404
        method, path = properties["RouteKey"].split(" ", 1)
        integration = re.fullmatch(r"integrations/\$\{(\w+)\}", properties["Target"]["Sub"])
        assert integration is not None, properties["Target"]
        function_arn = everything[integration[1]]["Properties"]["IntegrationUri"]["GetAtt"]
        function = everything[function_arn.removesuffix(".Arn")]["Properties"]["CodeUri"]
        routes[(method.lower(), path)] = function
    return routes


def test_the_spec_is_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "wallet"
    OpenAPI.model_validate(spec)


def test_the_spec_lists_every_route_of_the_contract(spec: dict[str, Any]) -> None:
    assert operations(spec) >= CONTRACT_ROUTES


def test_the_spec_documents_each_routes_contract_errors_with_the_error_shape(spec: dict[str, Any]) -> None:
    for (method, path), codes in DOCUMENTED_ERRORS.items():
        responses = spec["paths"][path][method]["responses"]
        assert set(responses) >= codes | set(ACCESS_ERRORS), (method, path)
        for status in codes - set(ACCESS_ERRORS):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_every_route_documents_401_and_403_as_the_gateway_or_the_function_answers_them(
    spec: dict[str, Any],
) -> None:
    """API Gateway answers ``{"message": ...}`` itself; the function, the contract's error."""
    refusal = spec["components"]["schemas"]["AccessRefusal"]
    assert refusal["required"] == ["message"]
    assert set(refusal["properties"]) == {"error", "message"}
    for method, path in operations(spec):
        responses = spec["paths"][path][method]["responses"]
        for status, code in ACCESS_ERRORS.items():
            assert code in responses[status]["description"], (method, path, status)
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/AccessRefusal"}, (method, path, status)


def test_the_spec_declares_the_two_bearer_schemes(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    assert set(schemes) == {CUSTOMER_TOKEN, RAIL_TOKEN}
    for scheme in schemes.values():
        assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert DEPOSIT_SCOPE in schemes[RAIL_TOKEN]["description"]


def test_every_route_requires_its_token(spec: dict[str, Any]) -> None:
    assert "security" not in spec, "a global requirement would hide a route that forgot its own"
    required = {
        (method, path): spec["paths"][path][method].get("security") for method, path in operations(spec)
    }

    assert required == {
        route: [{RAIL_TOKEN if route == DEPOSIT_ROUTE else CUSTOMER_TOKEN: []}] for route in required
    }


def test_the_spec_documents_idempotency_keys_and_exact_amounts(spec: dict[str, Any]) -> None:
    # Optional for a customer's transfer; the rail's own reference, required, for a deposit.
    for path, required in (("/transfers", False), ("/customers/{customer_id}/deposits", True)):
        headers = {
            p["name"]: p.get("required", False)
            for p in spec["paths"][path]["post"]["parameters"]
            if p["in"] == "header"
        }
        assert headers == {"idempotency-key": required}, path
    transfer = spec["components"]["schemas"]["TransferRequest"]
    assert set(transfer["required"]) == {"payee", "value"}  # the payer is the caller
    assert "email" not in spec["components"]["schemas"]["RegisterCustomerRequest"]["properties"]
    assert transfer["additionalProperties"] is False
    assert {option["type"] for option in transfer["properties"]["value"]["anyOf"]} == {"string", "number"}


def test_every_route_api_gateway_serves_is_in_the_spec_and_nothing_else(spec: dict[str, Any]) -> None:
    served = set(template_routes()) - DOCS_ROUTES

    assert operations(spec) == served


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_the_spec_and_the_docs_need_no_token(api: Api, path: str) -> None:
    """The template serves them without the JWT authorizer: the function must answer too."""
    assert api.as_(None).get(path).status == 200


def test_the_docs_page_is_html_with_the_spec_inlined(api: Api) -> None:
    response = api.get("/docs")

    assert response.status == 200
    assert response.header("content-type") == "text/html"
    assert response.body.lstrip().lower().startswith("<!doctype html>")
    assert "SwaggerUIBundle" in response.body
    assert '"/transfers"' in response.body
    # Served offline: no script or stylesheet fetched from anywhere.
    assert not re.search(r"<(script|link)[^>]+(src|href)=", response.body)


def test_the_spec_is_not_listed_in_itself(spec: dict[str, Any]) -> None:
    assert not operations(spec) & DOCS_ROUTES


# ================================================================== sample events


def test_there_is_a_sample_event_for_every_api_route() -> None:
    samples = {path.stem for path in EVENTS.glob("*.json")}
    assert samples >= set(SAMPLE_FUNCTIONS)
    covered = {tuple(sample(name)["routeKey"].lower().split(" ", 1)) for name in SAMPLE_FUNCTIONS}
    assert covered == SAMPLED_ROUTES


@pytest.mark.parametrize(("name", "function"), SAMPLE_FUNCTIONS.items())
def test_each_sample_is_a_v2_event_of_a_route_the_template_sends_to_its_function(
    name: str, function: str
) -> None:
    event = sample(name)
    context = event["requestContext"]
    method, route = event["routeKey"].split(" ", 1)

    assert event["version"] == "2.0"
    assert template_routes()[(method.lower(), route)] == f"functions/{function}"
    assert (FUNCTIONS / function / "app.py").is_file()
    assert context["routeKey"] == event["routeKey"]
    assert context["stage"] == "$default"
    assert context["http"]["method"] == method
    assert context["http"]["path"] == event["rawPath"]
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route)
    matched = re.fullmatch(pattern, event["rawPath"])
    assert matched is not None
    assert event.get("pathParameters", {}) == matched.groupdict()
    assert event["isBase64Encoded"] is False
    headers = event["headers"]
    assert all(header == header.lower() for header in headers)
    if method == "POST":
        assert headers["content-type"] == "application/json"
        assert headers["content-length"] == str(len(event["body"].encode()))
        assert isinstance(json.loads(event["body"]), dict)
    else:
        assert "body" not in event
    if name in ("send_money", "deposit"):
        assert headers["idempotency-key"]


@pytest.mark.parametrize("name", SAMPLE_FUNCTIONS)
def test_each_sample_carries_the_claims_its_route_takes_from_their_owner(name: str) -> None:
    """A customer's ID token about its own customer, or for a deposit the rail's access token."""
    event = sample(name)
    jwt = event["requestContext"]["authorizer"]["jwt"]
    claims = jwt["claims"]

    assert all(isinstance(value, str) for value in claims.values()), "the gateway passes strings"
    if name == "deposit":
        assert (claims["token_use"], claims["client_id"]) == ("access", claims["sub"])
        assert jwt["scopes"] == claims["scope"].split() == [DEPOSIT_SCOPE]
        return
    assert claims["token_use"] == "id"
    assert (claims["email"], claims["email_verified"]) == ("maria.silva@example.com", "true")
    assert jwt["scopes"] is None
    own_id = customer_id_for(claims["iss"], claims["sub"])
    if name == "send_money":
        assert json.loads(event["body"])["payer"] == own_id
    assert event.get("pathParameters", {}).get("customer_id", own_id) == own_id


# ================================================================== exact contract


def body_validator(spec: dict[str, Any], model: str) -> jsonschema_rs.Validator:
    """The spec's schema of a request body, judged by the validator schemathesis uses."""
    return jsonschema_rs.validator_for(
        {**spec["components"]["schemas"][model], "components": spec["components"]}
    )


def parameter_schema(spec: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    [parameter] = [p for p in spec["paths"][path][method]["parameters"] if p["name"] == name]
    schema: dict[str, Any] = parameter["schema"]
    return schema


def model_takes(model: type[BaseModel], body: str) -> bool:
    """What the route does with a body: parse_json, then its pydantic model (the domain's checks)."""
    try:
        model.model_validate(parse_json(body))
    except (ValidationError, json.JSONDecodeError):
        return False
    return True


def test_the_spec_publishes_the_domains_own_patterns_and_bounds(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    registration = schemas["RegisterCustomerRequest"]["properties"]
    assert (registration["name"]["pattern"], registration["name"]["maxLength"]) == (
        NAME_PATTERN,
        MAX_NAME_LENGTH,
    )
    assert registration["name"]["minLength"] == 1
    document = registration["document"]
    assert (document["pattern"], document["maxLength"]) == (DOCUMENT_PATTERN, MAX_DOCUMENT_LENGTH)
    assert "check digits" in document["description"]
    for model, field in (("TransferRequest", "value"), ("DepositRequest", "amount")):
        text, number = schemas[model]["properties"][field]["anyOf"]
        assert text == {"type": "string", "pattern": AMOUNT_PATTERN}
        assert (number["minimum"], number["maximum"], number["multipleOf"]) == (0.01, 999_999_999.99, 0.01)
    payee = schemas["TransferRequest"]["properties"]["payee"]["anyOf"]
    assert payee[0] == {"type": "string", "pattern": ID_PATTERN}
    for path in ("/transfers", "/customers/{customer_id}/deposits"):
        key = parameter_schema(spec, "post", path, "idempotency-key")
        key = key["anyOf"][0] if "anyOf" in key else key
        assert (key["pattern"], key["maxLength"]) == (IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_LENGTH)
    limit = parameter_schema(spec, "get", STATEMENT_ROUTE[1], "limit")
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, MAX_PAGE_SIZE)
    [cursor, _] = parameter_schema(spec, "get", STATEMENT_ROUTE[1], "cursor")["anyOf"]
    assert (cursor["pattern"], cursor["maxLength"]) == (CURSOR_PATTERN, MAX_CURSOR_LENGTH)
    for method, path in operations(spec):
        for name in re.findall(r"\{(\w+)\}", path):
            assert parameter_schema(spec, method, path, name)["pattern"] == ID_PATTERN, (method, path)


def test_the_422_says_what_is_refused_though_it_fits_the_schema(spec: dict[str, Any]) -> None:
    """No schema can hold a check digit, a cursor's origin or a balance: the 422 says them."""

    def unprocessable(method: str, path: str) -> str:
        description: str = spec["paths"][path][method]["responses"]["422"]["description"]
        return description

    assert "check digits" in unprocessable("post", "/customers")
    assert "cursor" in unprocessable(*STATEMENT_ROUTE)
    assert {"insufficient_funds", "same_account"} <= set(
        re.findall(r"\w+", unprocessable("post", "/transfers"))
    )


AMOUNTS = [
    '"0.01"',
    '"0.10"',
    '"10"',
    '"10.5"',
    '"10.50"',
    '"999999999.99"',
    '"999999999"',
    '"0"',
    '"0.0"',
    '"0.00"',
    '"00.10"',
    '"01"',
    '"1.500"',
    '"1000000000"',
    '"-1"',
    '"1e2"',
    '" 1"',
    '"1."',
    '".5"',
    '"\\u0661"',
    '""',
    "0.01",
    "1",
    "10.5",
    "10.50",
    "1.500",
    "999999999.99",
    "999999999",
    "0",
    "0.001",
    "-1",
    "1000000000",
    "999999999.991",
    "1.234",
    "true",
    "null",
    "[1]",
    '{"a": 1}',
]
IDS = [
    '"6f1c2a4e-9d1b-4c57-8e0a-2b9f3d4c5e6f"',
    '"a"',
    '"-"',
    '"' + "a" * 64 + '"',
    '""',
    '"' + "a" * 65 + '"',
    '"a_b"',
    '"a b"',
    '"é"',
    '"a\\n"',
    "0",
    "7",
    "7.0",
    str(2**53 - 1),
    str(2**53),
    "-1",
    "7.5",
    "true",
    "null",
]


@pytest.mark.parametrize("amount", AMOUNTS)
def test_an_amount_fits_the_spec_exactly_when_the_api_takes_it(spec: dict[str, Any], amount: str) -> None:
    body = '{"amount": ' + amount + "}"
    assert body_validator(spec, "DepositRequest").is_valid(json.loads(body)) == model_takes(
        DepositRequest, body
    )


@pytest.mark.parametrize("payee", IDS)
def test_a_payee_fits_the_spec_exactly_when_the_api_takes_it(spec: dict[str, Any], payee: str) -> None:
    body = '{"value": "1.00", "payee": ' + payee + "}"
    assert body_validator(spec, "TransferRequest").is_valid(json.loads(body)) == model_takes(
        TransferRequest, body
    )


NAMES = [
    "Ana",
    " Ana  Lima ",
    "A" * 120,
    "A" * 121,
    "",
    "   ",
    "Ana\tLima",
    "Ana\u202eLima",
    "Ana\x00",
    "\u3000",
]
DOCUMENTS = ["", "5299822472", " 529 982 247 ", "52998224725\t", "1" * 31, "ABC.DEF.GHI-JK", "529--982"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_fits_the_spec_exactly_when_the_api_takes_it(spec: dict[str, Any], name: str) -> None:
    body = json.dumps({"name": name, "document": new_cpf()})
    validator = body_validator(spec, "RegisterCustomerRequest")
    assert validator.is_valid(json.loads(body)) == model_takes(RegisterCustomerRequest, body)


@pytest.mark.parametrize(
    "document", [new_cpf(), new_cnpj(), "529.982.247-25", "11.222.333/0001-81", *DOCUMENTS]
)
def test_a_document_with_right_check_digits_fits_the_spec_exactly_when_the_api_takes_it(
    spec: dict[str, Any], document: str
) -> None:
    body = json.dumps({"name": "Ana", "document": document})
    validator = body_validator(spec, "RegisterCustomerRequest")
    assert validator.is_valid(json.loads(body)) == model_takes(RegisterCustomerRequest, body)


def test_a_document_with_a_wrong_check_digit_fits_the_spec_and_is_refused_as_it_says(
    spec: dict[str, Any],
) -> None:
    body = json.dumps({"name": "Ana", "document": "529.982.247-26"})
    assert body_validator(spec, "RegisterCustomerRequest").is_valid(json.loads(body))
    assert not model_takes(RegisterCustomerRequest, body)


def test_a_created_resource_says_where_it_is_read(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            created = operation["responses"].get("201")
            if created is not None:
                assert created["headers"]["Location"]["schema"] == {"type": "string"}, (method, path)


def test_every_operation_has_a_stable_id(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for item in spec["paths"].values() for operation in item.values()]
    assert sorted(ids) == sorted(
        [
            "registerCustomer",
            "getMe",
            "getCustomer",
            "getBalance",
            "getStatement",
            "deposit",
            "transfer",
            "getTransfer",
        ]
    )


def test_what_a_201_creates_links_to_where_it_is_read(spec: dict[str, Any]) -> None:
    """A client, or schemathesis' stateful phase, follows them to data that exists."""
    operations_by_id = {
        operation["operationId"]: (path, operation)
        for path, item in spec["paths"].items()
        for operation in item.values()
    }

    def links(method: str, path: str) -> dict[str, tuple[str, dict[str, str]]]:
        found = spec["paths"][path][method]["responses"]["201"]["links"]
        return {
            name: (operations_by_id[link["operationId"]][0], link["parameters"])
            for name, link in found.items()
        }

    assert links("post", "/customers") == {
        "GetCustomer": ("/customers/{customer_id}", {"customer_id": "$response.body#/id"}),
        "GetBalance": ("/customers/{customer_id}/balance", {"customer_id": "$response.body#/id"}),
        "GetStatement": ("/customers/{customer_id}/transactions", {"customer_id": "$response.body#/id"}),
    }
    assert links("post", "/transfers") == {
        "GetTransfer": ("/transfers/{transaction_id}", {"transaction_id": "$response.body#/id"}),
    }
    created = spec["paths"]["/customers"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/CustomerResponse"}
    assert "id" in spec["components"]["schemas"]["CustomerResponse"]["required"]
    assert "id" in spec["components"]["schemas"]["TransactionResponse"]["required"]
