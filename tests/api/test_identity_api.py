"""Who may call what, through the functions' real handlers: every route, every kind of caller.

API Gateway's JWT authorizer verifies the token before any function runs; the functions
still refuse a request without claims (401) and a token of the wrong kind (403), so a route
deployed without the authorizer stays closed. A customer reads only its own data: another
customer's id is answered exactly as an unknown one. Every refusal writes nothing and never
asks the external authorizer.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import Api, Claims, assert_error, registration_body
from tests.support.identities import Person, rail_claims
from tests.support.lambda_events import ApiResponse

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class World:
    owner: str  # active, R$ 100,00, paid the payee R$ 1,00
    payee: str  # active
    third: str  # active, no part in the transfer
    transfer: str  # owner -> payee

    @property
    def people(self) -> tuple[str, str, str]:
        return self.owner, self.payee, self.third


@pytest.fixture
def world(api: Api) -> World:
    owner, payee, third = api.active_customer(balance="100.00"), api.active_customer(), api.active_customer()
    created = api.of(owner).transfer({"payee": payee, "value": "1.00"})
    assert created.status == 201, created.body
    return World(owner, payee, third, created.json()["id"])


Route = Callable[[Api, World], ApiResponse]
CUSTOMER_ROUTES: dict[str, Route] = {
    "POST /customers": lambda api, w: api.register(registration_body()),
    "GET /customers/me": lambda api, w: api.me(),
    "GET /customers/{id}": lambda api, w: api.get_customer(w.owner),
    "GET /customers/{id}/balance": lambda api, w: api.get_balance(w.owner),
    "GET /customers/{id}/transactions": lambda api, w: api.get_transactions(w.owner),
    "GET /transfers/{id}": lambda api, w: api.get_transfer(w.transfer),
    "POST /transfers": lambda api, w: api.transfer({"payee": w.payee, "value": "1.00"}, str(uuid.uuid4())),
}
DEPOSIT: dict[str, Route] = {
    "POST /customers/{id}/deposits": lambda api, w: api.deposit(w.owner, {"amount": "1.00"}),
}
EVERY_ROUTE = CUSTOMER_ROUTES | DEPOSIT


def _owner(api: Api, world: World) -> Person:
    return api.people[world.owner]


def _without(claim: str) -> Callable[[Api, World], Claims]:
    return lambda api, w: {k: v for k, v in _owner(api, w).claims.items() if k != claim}


# Who calls: the claims the gateway would hand the function (None: no authorizer at all).
Who = Callable[[Api, World], Claims | None]
NOBODY: dict[str, Who] = {
    "no authorizer": lambda api, w: None,
    "empty claims": lambda api, w: {},
    "ID token without a subject": _without("sub"),
    "ID token without an issuer": _without("iss"),
}
NOT_A_CUSTOMER: dict[str, Who] = {
    "the payment rail's token": lambda api, w: rail_claims(),
    "the owner's access token": lambda api, w: _owner(api, w).access_token_claims,
    "an ID token without an e-mail": _without("email"),
}
NOT_THE_RAIL: dict[str, Who] = {
    "the owner's ID token": lambda api, w: _owner(api, w).claims,
    "the owner's access token": lambda api, w: _owner(api, w).access_token_claims,
    "a rail token without the deposit scope": lambda api, w: rail_claims(scope="wallet/reports"),
    "the rail's scope, in an ID token": lambda api, w: {**_owner(api, w).claims, "scope": "wallet/deposits"},
}


UNAUTHORIZED, FORBIDDEN = (401, "unauthorized"), (403, "forbidden")


def _cases(refusal: tuple[int, str], routes: dict[str, Route], callers: dict[str, Who]) -> list[Any]:
    return [
        pytest.param(refusal, route, who, id=f"{route_name}, {who_name}")
        for route_name, route in routes.items()
        for who_name, who in callers.items()
    ]


REFUSALS = [
    *_cases(UNAUTHORIZED, EVERY_ROUTE, NOBODY),
    *_cases(FORBIDDEN, CUSTOMER_ROUTES, NOT_A_CUSTOMER),
    *_cases(FORBIDDEN, DEPOSIT, NOT_THE_RAIL),
]


@pytest.mark.parametrize(("refusal", "route", "who"), REFUSALS)
def test_a_caller_the_route_is_not_for_is_refused_and_nothing_is_written(
    api: Api, world: World, refusal: tuple[int, str], route: Route, who: Who
) -> None:
    before, calls = api.snapshot(), api.stub.calls

    response = route(api.as_(who(api, world)), world)

    assert_error(response, *refusal)
    assert api.snapshot() == before
    assert api.stub.calls == calls


def _the_owner(api: Api, world: World) -> Api:
    return api.of(world.owner)


# Whom each route is for: the owner, unless said otherwise here.
RIGHT_CALLER: dict[str, Callable[[Api, World], Api]] = {
    "POST /customers": lambda api, w: api.as_(Person.new()),  # someone not registered yet
    "POST /customers/{id}/deposits": lambda api, w: api.rail,
}


@pytest.mark.parametrize("name", EVERY_ROUTE)
def test_every_route_answers_the_caller_it_is_for(api: Api, world: World, name: str) -> None:
    """The other side of the refusals: the very same requests, by the right caller, succeed."""
    caller = RIGHT_CALLER.get(name, _the_owner)(api, world)

    response = EVERY_ROUTE[name](caller, world)

    assert response.status in (200, 201), response.body


# ======================================================= another customer's data


def _shape(response: ApiResponse, named: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Everything a client sees, the id it asked for blanked out."""
    body: dict[str, Any] = response.json()
    return (
        response.status,
        dict(response.headers),
        {**body, "message": body["message"].replace(named, "<id>")},
    )


OWNED_READS: dict[str, Callable[[Api, str], ApiResponse]] = {
    "GET /customers/{id}": Api.get_customer,
    "GET /customers/{id}/balance": Api.get_balance,
    "GET /customers/{id}/transactions": Api.get_transactions,
}
STRANGERS: dict[str, Callable[[Api, World], Api]] = {
    "another customer": lambda api, w: api.of(w.third),
    "a signed-in person with no customer": lambda api, w: api.as_(Person.new()),
}


@pytest.mark.parametrize(
    ("read", "asker"),
    [
        pytest.param(read, asker, id=f"{read_name}, {asker_name}")
        for read_name, read in OWNED_READS.items()
        for asker_name, asker in STRANGERS.items()
    ],
)
def test_another_customers_id_is_404_exactly_like_an_unknown_id(
    api: Api, world: World, read: Callable[[Api, str], ApiResponse], asker: Callable[[Api, World], Api]
) -> None:
    caller = asker(api, world)

    others = read(caller, world.owner)
    unknown = read(caller, UNKNOWN_ID)

    assert_error(others, 404, "customer_not_found")
    assert _shape(others, world.owner) == _shape(unknown, UNKNOWN_ID)


@pytest.mark.parametrize("asker", STRANGERS.values(), ids=STRANGERS.keys())
def test_a_transfer_is_404_to_anyone_but_its_payer_and_payee(
    api: Api, world: World, asker: Callable[[Api, World], Api]
) -> None:
    caller = asker(api, world)

    third_party = caller.get_transfer(world.transfer)
    unknown = caller.get_transfer(UNKNOWN_ID)

    assert_error(third_party, 404, "transaction_not_found")
    assert _shape(third_party, world.transfer) == _shape(unknown, UNKNOWN_ID)
    for party in (world.owner, world.payee):
        assert api.of(party).get_transfer(world.transfer).status == 200


# ======================================================= refusal before validation

# Requests that are refused AND malformed: the refusal must come first, or a caller the route
# is not for learns how to shape a request (and the validation's details) before any identity.
MALFORMED_AND_REFUSED: dict[str, tuple[tuple[int, str], Who, Route]] = {
    "POST /transfers, no authorizer, invalid body": (
        UNAUTHORIZED,
        NOBODY["no authorizer"],
        lambda api, w: api.transfer({"value": "-1"}),
    ),
    "POST /customers, no authorizer, invalid body": (
        UNAUTHORIZED,
        NOBODY["no authorizer"],
        lambda api, w: api.register({"name": ""}),
    ),
    "GET /customers/{id}, no authorizer, malformed id": (
        UNAUTHORIZED,
        NOBODY["no authorizer"],
        lambda api, w: api.get_customer("not_an_id!"),
    ),
    "POST /customers/{id}/deposits, a customer's ID token, no Idempotency-Key": (
        FORBIDDEN,
        NOT_THE_RAIL["the owner's ID token"],
        lambda api, w: api.deposit(w.owner, {"amount": "1.00"}, idempotency_key=None),
    ),
}


@pytest.mark.parametrize(
    ("refusal", "who", "route"), MALFORMED_AND_REFUSED.values(), ids=MALFORMED_AND_REFUSED.keys()
)
def test_a_refused_caller_is_refused_before_its_request_is_validated(
    api: Api, world: World, refusal: tuple[int, str], who: Who, route: Route
) -> None:
    before = api.snapshot()

    response = route(api.as_(who(api, world)), world)

    assert_error(response, *refusal)
    assert api.snapshot() == before
