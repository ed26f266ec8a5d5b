"""POST /customers through the register_customer function's real handler.

The caller registers itself: the customer's id is derived from its identity and its e-mail
is the token's, never the body's.
"""

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from devstack.documents import new_cnpj, new_cpf
from tests.api.conftest import Api, assert_error, log_records, registration_body
from tests.support.identities import Person
from tests.support.lambda_events import sample

CUSTOMER_KEYS = {"id", "name", "email", "document", "type", "status", "created_at"}


def test_registering_answers_201_with_the_pending_customer_and_writes_it_with_its_event(api: Api) -> None:
    document = new_cpf()
    punctuated = f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"
    person = Person.new(email="Maria@Example.COM")

    response = api.as_(person).register({"name": "  Maria   da Silva ", "document": punctuated})

    assert response.status == 201, response.body
    customer = response.json()
    assert set(customer) == CUSTOMER_KEYS
    assert customer["id"] == person.customer_id
    assert customer["name"] == "Maria da Silva"
    assert customer["email"] == "maria@example.com"
    assert customer["document"] == document
    assert customer["type"] == "individual"
    assert customer["status"] == "pending"
    assert response.header("location") == f"/customers/{customer['id']}"
    stored = api.item(api.tables.customers, f"CUSTOMER#{customer['id']}")
    assert stored is not None
    assert stored["status"] == "pending"
    guards = [item for item in api.items(api.tables.customers) if item.get("customer_id") == customer["id"]]
    assert {guard["pk"] for guard in guards} == {"EMAIL#maria@example.com", f"DOCUMENT#{document}"}
    event = api.registration_event(customer["id"])
    assert (event.customer_id, event.type) == (customer["id"], "individual")
    outbox = api.item(api.tables.customers, f"EVENT#{event.event_id}")
    assert outbox is not None
    assert outbox["status"] == "pending"
    # The event is kept 30 days once processed: no e-mail, document or name in it.
    assert not {"maria@example.com", document, "Maria da Silva"} & set(json.loads(outbox["payload"]).values())
    assert api.item(api.tables.ledger, f"ACCOUNT#{customer['id']}") is None


def test_a_merchant_registers_with_a_punctuated_cnpj(api: Api) -> None:
    cnpj = new_cnpj()
    punctuated = f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"

    response = api.register({"name": "Loja do Zé", "document": punctuated, "type": "merchant"})

    assert response.status == 201, response.body
    assert response.json()["type"] == "merchant"
    assert response.json()["document"] == cnpj


def _punctuated_cpf(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


# Another person registering: (the e-mail of its token, the document of its body).
TakenVariant = Callable[[dict[str, Any]], tuple[str | None, str]]
TAKEN: dict[str, TakenVariant] = {
    "same e-mail": lambda first: (first["email"], new_cpf()),
    "same e-mail in other case": lambda first: (first["email"].upper(), new_cpf()),
    "same document": lambda first: (None, first["document"]),
    "same document punctuated": lambda first: (None, _punctuated_cpf(first["document"])),
    "same both": lambda first: (first["email"], first["document"]),
}


@pytest.mark.parametrize("variant", TAKEN.values(), ids=TAKEN.keys())
def test_an_email_or_document_already_taken_is_409_and_writes_nothing(
    api: Api, variant: TakenVariant
) -> None:
    first = api.pending_customer()
    email, document = variant(first)
    before = api.snapshot()

    response = api.as_(Person.new(email=email)).register({"name": "Someone Else", "document": document})

    assert_error(response, 409, "customer_already_exists")
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(lambda first: {"name": first["name"], "document": first["document"]}, id="same body"),
        pytest.param(lambda first: {"name": "Other Name", "document": new_cpf()}, id="another document"),
    ],
)
def test_a_second_registration_by_the_same_person_is_409_and_writes_nothing(
    api: Api, second: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    person = Person.new()
    first = api.pending_customer(person=person)
    before = api.snapshot()

    response = api.as_(person).register(second(first))

    assert_error(response, 409, "customer_already_exists")
    assert api.snapshot() == before
    assert api.as_(person).me().json() == first


def test_an_unverified_email_is_403_forbidden_and_writes_nothing(api: Api) -> None:
    person = Person.new(email_verified=False)
    before = api.snapshot()

    response = api.as_(person).register(registration_body())

    assert_error(response, 403, "forbidden")
    assert api.snapshot() == before
    assert_error(api.as_(person).me(), 404, "customer_not_found")


@pytest.mark.parametrize("email", ["ana souza@example.com", "ana@example", "a" * 250 + "@example.com"])
def test_a_token_email_no_mail_can_reach_is_422_and_writes_nothing(api: Api, email: str) -> None:
    before = api.snapshot()

    response = api.as_(Person.new(email=email)).register(registration_body())

    assert_error(response, 422, "validation_error")
    assert email not in response.body
    assert api.snapshot() == before


def _valid() -> dict[str, Any]:
    return {"name": "Ana Souza", "document": new_cpf()}


def _without(field: str) -> Callable[[], dict[str, Any]]:
    return lambda: {key: value for key, value in _valid().items() if key != field}


def _with(**fields: object) -> Callable[[], dict[str, Any]]:
    return lambda: {**_valid(), **fields}


INVALID_BODIES: dict[str, Callable[[], object]] = {
    "missing name": _without("name"),
    "missing document": _without("document"),
    # The e-mail is the token's: one in the body is an unknown field, never a second source.
    "an e-mail in the body": _with(email="someone.else@example.com"),
    "an e-mail in the body, same as the token's": _with(email="person@example.com"),
    "empty object": dict,
    "CPF with wrong check digits": _with(document="529.982.247-26"),
    "CPF of one repeated digit": _with(document="111.111.111-11"),
    "CPF too short": _with(document="5299822472"),
    "document with letters": _with(document="529.982.247-2A"),
    "CNPJ with wrong check digits": _with(document="11.222.333/0001-82"),
    "empty name": _with(name="   "),
    "name too long": _with(name="A" * 121),
    "name with control characters": _with(name="Ana\x00Souza"),
    "name with a right-to-left override": _with(name="Ana\u202eSouza"),
    "name with a lone surrogate": lambda: '{"name": "Ana \\ud800", "document": "529.982.247-25"}',
    "name too long as sent, however short collapsed": _with(name="Ana" + " " * 118 + "Souza"),
    "document with tabs": _with(document="529\t982\t247\t25"),
    "document with two marks in a row": _with(document="529..982.247-25"),
    "document as a number": _with(document=52998224725),
    "unknown type": _with(type="admin"),
    "unknown extra field": _with(balance="1000000.00"),
    "number as name": _with(name=42),
    "JSON string": lambda: '"just a string"',
    "not JSON": lambda: "name=Ana&document=52998224725",
    "truncated JSON": lambda: '{"name": "Ana", "document": ',
    "empty body": lambda: None,
}


# Powertools would read a JSON array body as its first element: parse_json refuses it.
INVALID_BODY_CASES = [
    *(pytest.param(make, id=name) for name, make in INVALID_BODIES.items()),
    pytest.param(lambda: [_valid()], id="JSON array of one customer"),
    pytest.param(lambda: [_valid(), _valid()], id="JSON array of two customers"),
]


@pytest.mark.parametrize("make_body", INVALID_BODY_CASES)
def test_an_invalid_registration_is_422_validation_error_and_writes_nothing(
    api: Api, make_body: Callable[[], object]
) -> None:
    before = api.snapshot()

    response = api.as_(Person.new(email="person@example.com")).register(make_body())

    body = assert_error(response, 422, "validation_error")
    assert body["details"]
    assert api.snapshot() == before


BAD_CONTENT: dict[str, tuple[str, Callable[[], str]]] = {
    "text/plain body": ("text/plain", lambda: '{"name": "Ana Souza"}'),
    "deeply nested JSON": ("application/json", lambda: "[" * 100_000 + "]" * 100_000),
}


@pytest.mark.parametrize(("content_type", "make_body"), BAD_CONTENT.values(), ids=BAD_CONTENT.keys())
def test_a_body_the_api_cannot_read_is_a_client_error_not_a_500(
    api: Api, content_type: str, make_body: Callable[[], str]
) -> None:
    before = api.snapshot()

    response = api.register(make_body(), headers={"content-type": content_type})

    assert 400 <= response.status < 500, response.body
    assert response.json()["error"] in {"validation_error", "unsupported_media_type"}
    assert api.snapshot() == before


UNDECLARED_CONTENT_TYPES = [
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "application/json-patch+json",
    "text/plain",
    "application/xml",
]


@pytest.mark.parametrize("content_type", UNDECLARED_CONTENT_TYPES)
def test_a_body_of_a_content_type_the_spec_does_not_declare_is_415(api: Api, content_type: str) -> None:
    """Powertools would read form data and multipart (a multipart type without a boundary: a 500)."""
    before = api.snapshot()

    response = api.register(_valid(), headers={"content-type": content_type})

    assert_error(response, 415, "unsupported_media_type")
    assert api.snapshot() == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON", None])
def test_json_is_json_whatever_the_case_of_its_media_type_or_its_parameters(
    api: Api, content_type: str | None
) -> None:
    response = api.as_(Person.new()).register(_valid(), headers={"content-type": content_type})

    assert response.status == 201, response.body


def test_registration_logs_carry_neither_the_email_nor_the_document(
    api: Api, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    email, document = "Privacy.Person@Example.com", new_cpf()
    person, twin = api.as_(Person.new(email=email)), api.as_(Person.new(email=email))

    created = person.register({"name": "Privacy Person", "document": _punctuated_cpf(document)})
    again = person.register({"name": "Privacy Person", "document": document})
    duplicate = twin.register({"name": "Privacy Person", "document": document})
    invalid = twin.register({"name": "Privacy Person", "document": document[:-1]})
    api.activate(created.json()["id"])

    assert (created.status, again.status, duplicate.status, invalid.status) == (201, 409, 409, 422)
    records = log_records(log_output.getvalue())
    assert records, "the handlers logged nothing: the capture is not working"
    secrets = (email, email.lower(), document, _punctuated_cpf(document), document[:-1])
    for line in records:
        assert not any(secret in line for secret in secrets), line
    printed = capsys.readouterr()
    assert not any(secret in printed.out + printed.err for secret in secrets)


def test_the_registration_sample_registers_its_customer_once(api: Api) -> None:
    """events/register_customer.json, then the GET samples of the same person: its own customer."""
    event = sample("register_customer")
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]

    first = api.call("register_customer", event)
    again = api.call("register_customer", event)

    assert first.status == 201, first.body
    assert first.json()["email"] == claims["email"] == "maria.silva@example.com"
    assert_error(again, 409, "customer_already_exists")
    read_back = api.call("queries", sample("get_customer"))
    assert (read_back.status, read_back.json()) == (200, first.json())
