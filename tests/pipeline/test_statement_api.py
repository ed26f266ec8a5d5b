"""GET /customers/{id}/transactions on statements the real sync wrote."""

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.pipeline.conftest import Parties, PipelineStack
from tests.support.identities import Person
from tests.support.lambda_events import ApiResponse, Handler, LambdaContext, http_event
from wallet.api import statement
from wallet.api.http import build_resolver, lambda_handler_for

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _get(claims: Mapping[str, str], customer_id: str, **query: str) -> ApiResponse:
    """The statement of ``customer_id``, asked by whoever holds ``claims``."""
    path = f"/customers/{customer_id}/transactions"
    event = http_event(
        "get_customer", path=path, path_parameters={"customer_id": customer_id}, query=query, claims=claims
    )
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /customers/{customer_id}/transactions"
    handler: Handler = lambda_handler_for(build_resolver(statement.router))
    return ApiResponse.of(handler(event, LambdaContext(function_name="wallet-queries")))


def _own(stack: PipelineStack, customer_id: str, **query: str) -> ApiResponse:
    """The statement of ``customer_id``, asked by the person it belongs to."""
    return _get(stack.people[customer_id].claims, customer_id, **query)


@pytest.fixture
def five_deposits(stack: PipelineStack, parties: Parties) -> list[str]:
    """Bob's statement: five deposits (R$ 1,00 .. R$ 5,00), oldest first, synced for real."""
    ids = [stack.deposit(parties.bob.id, reais * 100) for reais in range(1, 6)]
    assert stack.sync(stack.new_outbox_records(stack.tables.ledger)) == []
    return ids


def test_pages_newest_first_with_a_cursor(
    stack: PipelineStack, parties: Parties, five_deposits: list[str]
) -> None:
    pages: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    while True:
        response = _own(stack, parties.bob.id, limit="2", **cursor)
        assert response.status == 200, response.body
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            break
        cursor = {"cursor": pages[-1]["next_cursor"]}

    items = [item for page in pages for item in page["items"]]
    assert [item["transaction_id"] for item in items] == list(reversed(five_deposits))
    assert [item["value"] for item in items] == ["5.00", "4.00", "3.00", "2.00", "1.00"]
    assert [len(page["items"]) for page in pages][:3] == [2, 2, 1]
    assert items[0] | {"occurred_at": None} == {
        "transaction_id": five_deposits[-1],
        "kind": "deposit",
        "direction": "credit",
        "value": "5.00",
        "counterparty": None,
        "occurred_at": None,
    }


def test_default_page_and_a_transfer_seen_from_both_sides(stack: PipelineStack, parties: Parties) -> None:
    stack.money().transfer(parties.alice.id, parties.bob.id, 1_050, None)
    assert stack.sync(stack.new_outbox_records(stack.tables.ledger)) == []

    alice = _own(stack, parties.alice.id).json()
    assert [(i["direction"], i["value"], i["counterparty"]) for i in alice["items"]] == [
        ("debit", "10.50", parties.bob.id),
        ("credit", "5000.00", None),
    ]
    assert alice["next_cursor"] is None
    assert _own(stack, parties.bob.id).json()["items"][0]["counterparty"] == parties.alice.id


def _encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!not-base64!!",
        _encoded("just a string"),
        _encoded({"pk": {"S": "CUSTOMER#someone-else"}, "sk": {"S": "ENTRY#x"}}),
        _encoded({"pk": {"S": "x"}}),
    ],
)
def test_a_bad_cursor_is_a_validation_error(stack: PipelineStack, parties: Parties, cursor: str) -> None:
    response = _own(stack, parties.bob.id, cursor=cursor)
    assert response.status == 422
    assert response.json()["error"] == "validation_error"


def test_a_real_cursor_of_another_customers_statement_is_refused(
    stack: PipelineStack, parties: Parties, five_deposits: list[str]
) -> None:
    """Bob's own next_cursor, sent by Alice on her own statement: refused like any bad
    cursor, and nothing of Bob's statement in the answer."""
    bobs_cursor = _own(stack, parties.bob.id, limit="2").json()["next_cursor"]
    assert bobs_cursor

    response = _own(stack, parties.alice.id, cursor=bobs_cursor)

    assert response.status == 422
    assert response.json()["error"] == "validation_error"
    assert not [deposit for deposit in five_deposits if deposit in json.dumps(response.json())]


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_limit_is_1_to_100(stack: PipelineStack, parties: Parties, limit: str) -> None:
    assert _own(stack, parties.bob.id, limit=limit).status == 422


def test_an_unknown_customer_is_404(stack: PipelineStack) -> None:
    response = _get(Person.new().claims, UNKNOWN_ID)
    assert response.status == 404
    assert response.json()["error"] == "customer_not_found"


def _message_shape(response: ApiResponse, customer_id: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return {**body, "message": body["message"].replace(customer_id, "<id>")}


def test_another_customers_statement_is_404_exactly_like_an_unknown_one(
    stack: PipelineStack, parties: Parties, five_deposits: list[str]
) -> None:
    """Bob's statement exists and is full: Alice learns nothing from asking for it."""
    alice = stack.people[parties.alice.id].claims

    others = _get(alice, parties.bob.id, limit="2")
    unknown = _get(alice, UNKNOWN_ID, limit="2")

    assert others.status == unknown.status == 404
    assert others.headers == unknown.headers
    assert _message_shape(others, parties.bob.id) == _message_shape(unknown, UNKNOWN_ID)
    assert _message_shape(others, parties.bob.id)["error"] == "customer_not_found"
    assert not any(transaction_id in others.body for transaction_id in five_deposits)
