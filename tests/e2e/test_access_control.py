"""Who may do what, over HTTP against the deployed stack: every refusal, and nothing behind it.

Every route with every kind of token that must not pass: none, garbage, one signed by a key
the pool's JWKS does not have (same kid and claims), an expired one, ``alg: none``, one of
another user pool on the same local AWS. Then the right kind of token on the wrong route
(the payment rail's on a customer's route, a customer's on deposits) and every attempt on
another customer's money or data. Each case asserts the answer AND that both tables and the
app's e-mails are exactly as before it.

The tokens a forgery copies are real ones of the identity the route serves: a person not
registered yet for POST /customers, Ana (registered, funded, who paid Bia) for her routes,
the payment rail for deposits. So a forgery that passed would register, move money or read
Ana's data, and the tables would show it.
"""

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import boto3
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from devstack.identities import Cognito, claims_of, jwt_part, new_password
from devstack.wallet_client import Customer, Reply, registration
from tests.e2e.conftest import Api, Person, eventually
from tests.e2e.test_money_flow import active_customer, statement

Role = Literal["newcomer", "ana", "rail"]
# The tables a refusal must leave alone, by their stack outputs.
TABLES = ("CustomersTableName", "LedgerTableName")
UNAUTHORIZED = {"message": "Unauthorized"}
GATEWAY_FORBIDDEN = {"message": "Forbidden"}


# ---------------------------------------------------------------------------- tokens
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(token: str, *, alg: str = "RS256", key: rsa.RSAPrivateKey | None = None) -> str:
    """``token``'s kid and claims, signed with ``key`` (none: ``alg`` as given, no signature)."""
    head, payload, _ = token.split(".")
    header = {**jwt_part(head), "alg": alg}
    signing_input = f"{_b64(json.dumps(header).encode())}.{payload}"
    signature = b"" if key is None else key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _idp(api: Api) -> Any:
    return boto3.client("cognito-idp", endpoint_url=api.aws_url)


@contextmanager
def one_second_tokens(api: Api) -> Iterator[None]:
    """The customers' client mints ID tokens, the rail's client access tokens, that live one
    second; then both are as they were.

    ministack takes any validity (AWS's floor is five minutes) and changes only the fields
    UpdateUserPoolClient is given, so the rest of each client is untouched.
    """
    idp, pool = _idp(api), api.cognito.user_pool_id
    kinds = {api.cognito.client_id: "IdToken", api.cognito.rail_client_id: "AccessToken"}
    saved: dict[str, dict[str, Any]] = {}
    for client_id, kind in kinds.items():
        described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
        saved[client_id] = {
            f"{kind}Validity": described[f"{kind}Validity"],
            "TokenValidityUnits": described["TokenValidityUnits"],
        }
    try:
        for client_id, kind in kinds.items():
            units = {**saved[client_id]["TokenValidityUnits"], kind: "seconds"}
            idp.update_user_pool_client(
                UserPoolId=pool, ClientId=client_id, TokenValidityUnits=units, **{f"{kind}Validity": 1}
            )
        yield
    finally:
        for client_id, original in saved.items():
            idp.update_user_pool_client(UserPoolId=pool, ClientId=client_id, **original)


def signed_in_again(api: Api, cognito: Cognito, email: str) -> str:
    """A fresh ID token of an existing user of ``cognito``'s pool (a new password is set)."""
    password = new_password()
    _idp(api).admin_set_user_password(
        UserPoolId=cognito.user_pool_id, Username=email, Password=password, Permanent=True
    )
    return cognito.sign_in(email, password)


@contextmanager
def another_pool(api: Api) -> Iterator[Cognito]:
    """A second user pool on the same local AWS, set up like the stack's: a customers' client
    and a payment rail with the same scope name. Its tokens are real, and not the stack's."""
    idp = _idp(api)
    pool = idp.create_user_pool(
        PoolName=f"elsewhere-{uuid.uuid4().hex[:8]}",
        UsernameAttributes=["email"],
        # The stack's policy, which devstack.identities' passwords meet (no symbol required).
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": False}},
    )
    pool_id = pool["UserPool"]["Id"]
    try:
        idp.create_resource_server(
            UserPoolId=pool_id,
            Identifier="wallet",
            Name="wallet",
            Scopes=[{"ScopeName": "deposits", "ScopeDescription": "deposits"}],
        )
        customers = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="customers",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )
        rail = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="payment-rail",
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=["wallet/deposits"],
        )
        yield Cognito(
            endpoint=api.aws_url,
            user_pool_id=pool_id,
            client_id=customers["UserPoolClient"]["ClientId"],
            rail_client_id=rail["UserPoolClient"]["ClientId"],
            token_endpoint=f"{api.aws_url}/oauth2/token",
        )
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


# ---------------------------------------------------------------------------- the world
@dataclass(frozen=True)
class World:
    """Ana paid Bia 12.34 (with ``key``); Carla is a bystander; the newcomer is signed in only."""

    ana: Customer
    bia: Customer
    carla: Customer
    newcomer: Person
    transfer: dict[str, Any]
    key: str
    tokens: dict[Role, str]
    expired: dict[Role, str]
    elsewhere: dict[Role, str]


@dataclass(frozen=True)
class Snapshot:
    """Every item of both tables and every e-mail the app sent, as canonical JSON."""

    tables: dict[str, frozenset[str]]
    emails: frozenset[str]

    @classmethod
    def of(cls, api: Api) -> "Snapshot":
        tables = {name: _canonical(api.table_items(name)) for name in TABLES}
        return cls(tables, _canonical(api.emails()))

    def changes_since(self, before: "Snapshot") -> dict[str, dict[str, list[str]]]:
        """What appeared or went away, per table and for the e-mails: empty when nothing did."""
        pairs = {name: (before.tables[name], self.tables[name]) for name in TABLES}
        pairs["emails"] = (before.emails, self.emails)
        return {
            name: {"added": sorted(now - then), "removed": sorted(then - now)}
            for name, (then, now) in pairs.items()
            if now != then
        }


def _canonical(items: list[dict[str, Any]]) -> frozenset[str]:
    return frozenset(json.dumps(item, sort_keys=True, default=str) for item in items)


def settled(api: Api) -> Snapshot:
    """A snapshot that stayed the same for a second: the pipeline has nothing left in flight.
    Up to a minute to get there: the requests before it may have queued many steps."""

    def quiet() -> Snapshot | None:
        first = Snapshot.of(api)
        time.sleep(1)
        return first if Snapshot.of(api) == first else None

    return eventually(quiet, timeout_seconds=60)


def emailed(api: Api, address: str) -> list[dict[str, Any]]:
    return eventually(lambda: api.emails_to(address) or None)


@pytest.fixture(scope="module")
def world(api: Api) -> Iterator[World]:
    start = Snapshot.of(api)
    ana, bia, carla = (active_customer(api) for _ in range(3))
    newcomer = api.person()
    assert api.deposit(ana.id, "100.00").status == 201
    key = str(uuid.uuid4())
    paid = api.post("/transfers", {"payee": bia.id, "value": "12.34"}, {"Idempotency-Key": key}, ana.token)
    assert paid.status == 201, paid
    for party in (ana, bia):
        statement(api, party)
        emailed(api, party.email)
    # The control of the instrument: registrations, money and e-mails all show in a snapshot.
    assert set(Snapshot.of(api).changes_since(start)) == {*TABLES, "emails"}
    tokens: dict[Role, str] = {"newcomer": newcomer.token, "ana": ana.token, "rail": api.rail_token}
    with one_second_tokens(api):
        expired: dict[Role, str] = {
            "newcomer": signed_in_again(api, api.cognito, newcomer.email),
            "ana": signed_in_again(api, api.cognito, ana.email),
            "rail": api.cognito.rail_token(),
        }
    with another_pool(api) as elsewhere_pool:
        elsewhere: dict[Role, str] = {
            "newcomer": elsewhere_pool.admin_customer_token(newcomer.email),
            "ana": elsewhere_pool.admin_customer_token(ana.email),
            "rail": elsewhere_pool.rail_token(),
        }
        last_expiry = max(claims_of(token)["exp"] for token in expired.values())
        time.sleep(max(0.0, last_expiry + 1 - time.time()))  # a second past the expiry: expired by any clock
        quiet = settled(api)
        yield World(ana, bia, carla, newcomer, paid.body, key, tokens, expired, elsewhere)
    # A refusal that set off anything asynchronous would show here, after the last case: two
    # seconds, twice the quiet period ``settled`` trusts.
    time.sleep(2)
    assert Snapshot.of(api).changes_since(quiet) == {}


def unchanged_after(api: Api, request: Callable[[], Reply]) -> Reply:
    """The answer to ``request``, asserting first that it wrote and sent nothing."""
    before = Snapshot.of(api)
    answer = request()
    assert Snapshot.of(api).changes_since(before) == {}, answer
    return answer


# ---------------------------------------------------------------------------- the routes
@dataclass(frozen=True)
class Request:
    method: str
    path: Callable[[World], str]
    body: Callable[[World], object] | None = None
    headers: Callable[[World], dict[str, str]] | None = None

    def send(self, api: Api, world: World, token: str | None) -> Reply:
        body = None if self.body is None else self.body(world)
        headers = None if self.headers is None else self.headers(world)
        return api.call(self.method, self.path(world), body, headers, token)


def _rail_reference(_: World) -> dict[str, str]:
    return {"Idempotency-Key": f"rail-{uuid.uuid4()}"}


def _anas_key(world: World) -> dict[str, str]:
    return {"Idempotency-Key": world.key}


def _read(path: Callable[[World], str]) -> Request:
    return Request("GET", path)


def _anas(suffix: str) -> Request:
    """A read of Ana's customer, or of what ``suffix`` names under it."""
    return _read(lambda w: f"/customers/{w.ana.id}{suffix}")


# Every route, as the identity it serves would call it.
ROUTES: dict[str, tuple[Role, Request]] = {
    "POST /customers": ("newcomer", Request("POST", lambda w: "/customers", lambda w: registration())),
    "GET /customers/me": ("ana", _read(lambda w: "/customers/me")),
    "GET /customers/{id}": ("ana", _anas("")),
    "GET /customers/{id}/balance": ("ana", _anas("/balance")),
    "GET /customers/{id}/transactions": ("ana", _anas("/transactions")),
    "POST /customers/{id}/deposits": (
        "rail",
        Request(
            "POST", lambda w: f"/customers/{w.ana.id}/deposits", lambda w: {"amount": "5.00"}, _rail_reference
        ),
    ),
    "POST /transfers": (
        "ana",
        Request("POST", lambda w: "/transfers", lambda w: {"payee": w.bia.id, "value": "1.00"}),
    ),
    "GET /transfers/{id}": ("ana", _read(lambda w: f"/transfers/{w.transfer['id']}")),
    "$default (DELETE /customers)": ("ana", Request("DELETE", lambda w: "/customers")),
}
CUSTOMER_ROUTES = [name for name, (role, _) in ROUTES.items() if role != "rail" and "$default" not in name]

# A key the pool's JWKS does not have.
_FOREIGN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
BAD_TOKENS: dict[str, Callable[[World, Role], str | None]] = {
    "no token": lambda w, role: None,
    "garbage": lambda w, role: "not-a-jwt",
    "signed by another key": lambda w, role: forged(w.tokens[role], key=_FOREIGN_KEY),
    "expired": lambda w, role: w.expired[role],
    "alg none": lambda w, role: forged(w.tokens[role], alg="none"),
    "another pool's": lambda w, role: w.elsewhere[role],
}


def test_the_tokens_copied_are_the_real_ones_and_the_expired_ones_only_expired(world: World) -> None:
    """The forgeries and the expired tokens differ from a token that passes in one way only."""
    for role, token in world.tokens.items():
        real, old = claims_of(token), claims_of(world.expired[role])
        assert real["iss"] == old["iss"]
        assert real.get("sub") == old.get("sub")
        assert old["exp"] < time.time() < real["exp"]
        assert claims_of(forged(token, key=_FOREIGN_KEY)) == real
        assert claims_of(world.elsewhere[role])["iss"] != real["iss"]


READ_ROUTES = [name for name, (role, request) in ROUTES.items() if role == "ana" and request.method == "GET"]


@pytest.mark.parametrize("route_name", READ_ROUTES)
def test_the_real_token_a_forgery_copies_passes(api: Api, world: World, route_name: str) -> None:
    """The control: the refusals below come from the tokens, not from the requests."""
    _, request = ROUTES[route_name]

    answer = unchanged_after(api, lambda: request.send(api, world, world.tokens["ana"]))

    assert answer.status == 200, answer


@pytest.mark.parametrize("token_kind", BAD_TOKENS)
@pytest.mark.parametrize("route_name", ROUTES)
def test_every_route_answers_401_to_a_token_it_cannot_trust(
    api: Api, world: World, route_name: str, token_kind: str
) -> None:
    role, request = ROUTES[route_name]
    token = BAD_TOKENS[token_kind](world, role)

    answer = unchanged_after(api, lambda: request.send(api, world, token))

    assert (answer.status, answer.body) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("route_name", CUSTOMER_ROUTES)
def test_the_payment_rails_token_on_a_customers_route_is_403_forbidden(
    api: Api, world: World, route_name: str
) -> None:
    _, request = ROUTES[route_name]

    answer = unchanged_after(api, lambda: request.send(api, world, api.rail_token))

    assert answer.status == 403, answer
    assert answer.body["error"] == "forbidden"


def test_a_customers_token_on_deposits_is_403_from_the_gateway(api: Api, world: World) -> None:
    _, deposit = ROUTES["POST /customers/{id}/deposits"]

    answer = unchanged_after(api, lambda: deposit.send(api, world, world.ana.token))

    assert (answer.status, answer.body) == (403, GATEWAY_FORBIDDEN)


def _transfer(
    body: Callable[[World], object], headers: Callable[[World], dict[str, str]] | None = None
) -> Request:
    return Request("POST", lambda w: "/transfers", body, headers)


def _bia(world: World) -> str:
    return world.bia.token


# (caller, request, status, error code): someone's request on what is not theirs.
ATTEMPTS: dict[str, tuple[Callable[[World], str], Request, int, str]] = {
    "Bia sends from Ana's account": (
        _bia,
        _transfer(lambda w: {"payer": w.ana.id, "payee": w.bia.id, "value": "1.00"}),
        403,
        "forbidden",
    ),
    **{
        f"Bia reads Ana's {what}": (_bia, _anas(suffix), 404, "customer_not_found")
        for what, suffix in [("customer", ""), ("balance", "/balance"), ("statement", "/transactions")]
    },
    "Carla looks up Ana's transfer to Bia": (
        lambda w: w.carla.token,
        _read(lambda w: f"/transfers/{w.transfer['id']}"),
        404,
        "transaction_not_found",
    ),
    "Bia replays Ana's transfer with Ana's Idempotency-Key": (
        _bia,
        _transfer(lambda w: {"payer": w.ana.id, "payee": w.bia.id, "value": "12.34"}, _anas_key),
        403,
        "forbidden",
    ),
    # Were keys shared between callers, Ana's key would answer 409 idempotency_key_reused here.
    "Bia reuses Ana's Idempotency-Key for a transfer of her own": (
        _bia,
        _transfer(lambda w: {"payee": w.ana.id, "value": "50.00"}, _anas_key),
        422,
        "insufficient_funds",
    ),
    "a newcomer registers with Ana's e-mail in the body": (
        lambda w: w.newcomer.token,
        Request("POST", lambda w: "/customers", lambda w: {**registration(), "email": w.ana.email}),
        422,
        "validation_error",
    ),
}


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_nobody_reaches_another_customers_money_or_data(api: Api, world: World, attempt: str) -> None:
    caller, request, status, code = ATTEMPTS[attempt]

    answer = unchanged_after(api, lambda: request.send(api, world, caller(world)))

    assert answer.status == status, answer
    assert answer.body["error"] == code
