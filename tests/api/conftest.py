"""The API as a client sees it: v2 events into the functions' real handlers, on real tables.

Each test module gets fresh tables on ministack and the environment the template gives the
functions; the handlers' cached dependencies are rebuilt from it, and live on like a warm
container's. Tests stay independent: each registers its own customers, and every "wrote
nothing" check compares the tables before and after. The only stand-in is the external
authorizer, which is the local stub over real HTTP. Accounts are opened the way the sync
opens them: the CustomerRegistered event is read back from the customers table's outbox and
applied with ``apply_customer_registered``. Every request carries the claims API Gateway's JWT
authorizer would hand the function (``tests.support.identities``): a customer's ID token, the
payment rail's access token, or none at all.
"""

import io
import json
import logging
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Final

import boto3
import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from devstack.authorizer_stub import AuthorizerStub
from devstack.documents import new_cnpj, new_cpf
from devstack.wallet_client import plain_items
from tests.conftest import Tables, create_tables
from tests.support.identities import Person, rail_claims
from tests.support.lambda_events import ApiResponse, deposit_event, http_event, invoke
from tests.support.servers import Server
from wallet import bootstrap
from wallet.adapters.outbox import EVENT_CARRIERS
from wallet.events import CustomerRegistered, parse_event
from wallet.observability import logger
from wallet.service.on_customer_registered import apply_customer_registered

ERROR_KEYS = {"error", "message", "details"}
# Failures the contract allows to be 5xx: a dependency is down, never the request's fault.
UNAVAILABLE_CODES = {"authorizer_unavailable", "store_busy"}

Item = dict[str, Any]
Snapshot = dict[str, list[Item]]
Claims = Mapping[str, str]


class _Fresh:
    """Marks a deposit sent with a new reference of the rail's own."""


FRESH: Final = _Fresh()


def assert_error(response: ApiResponse, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape: ``{"error", "message"}`` (+ ``details`` for validation)."""
    assert response.status == status, response.body
    assert response.header("content-type") == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    assert set(body) <= ERROR_KEYS
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    if "details" in body:
        assert code == "validation_error"
        assert isinstance(body["details"], list)
    return body


def assert_retry_after(response: ApiResponse) -> None:
    retry_after = response.header("retry-after")
    assert retry_after is not None
    assert retry_after.isdigit()
    assert int(retry_after) >= 1


def registration_body(*, merchant: bool = False) -> dict[str, str]:
    """A valid POST /customers body: the e-mail is the token's, never the body's."""
    return {
        "name": "Merchant Ltda" if merchant else "Ana Souza",
        "document": new_cnpj() if merchant else new_cpf(),
        "type": "merchant" if merchant else "individual",
    }


@cache
def _dynamodb(endpoint: str) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=endpoint)


@dataclass
class Api:
    """A client of the API, plus the back doors a test needs: the tables and the sync.

    Every request carries ``claims``, what API Gateway's JWT authorizer verified (``None``:
    no authorizer at all, a request that never went through the gateway). ``as_`` calls as
    someone else; ``of`` as the person who registered a customer; ``rail`` as the payment rail.
    """

    tables: Tables
    stub: AuthorizerStub
    claims: Claims | None
    # Who registered each customer this test made: shared by every ``as_`` of this Api.
    people: dict[str, Person] = field(default_factory=dict)

    def as_(self, who: Person | Claims | None) -> "Api":
        """The same client, calling with ``who``'s ID token (a Person) or these very claims."""
        return replace(self, claims=who.claims if isinstance(who, Person) else who)

    def of(self, customer_id: str) -> "Api":
        """Calling as the person who owns ``customer_id``."""
        return self.as_(self.people[customer_id])

    @property
    def rail(self) -> "Api":
        """Calling as the payment rail (its access token, scope wallet/deposits)."""
        return self.as_(rail_claims())

    def call(self, function: str, event: dict[str, Any]) -> ApiResponse:
        response = invoke(function, event)
        assert "Traceback" not in response.body
        assert 'File "' not in response.body
        if response.status >= 500:
            assert response.status == 503, response.body
            assert response.json()["error"] in UNAVAILABLE_CODES
        return response

    def event(self, sample_name: str, *, route_key: str | None = None, **request: Any) -> dict[str, Any]:
        """The sample, carrying this client's claims (and ``route_key``, if another route's)."""
        event = http_event(sample_name, claims=self.claims, **request)
        if route_key is not None:
            event["routeKey"] = event["requestContext"]["routeKey"] = route_key
        return event

    # ----------------------------------------------------------------- routes
    def register(self, body: object, headers: Mapping[str, str | None] | None = None) -> ApiResponse:
        return self.call("register_customer", self.event("register_customer", body=body, headers=headers))

    def me(self) -> ApiResponse:
        event = self.event(
            "get_customer", route_key="GET /customers/me", path="/customers/me", path_parameters=None
        )
        return self.call("queries", event)

    def get_customer(self, customer_id: str) -> ApiResponse:
        event = self.event(
            "get_customer", path=f"/customers/{customer_id}", path_parameters={"customer_id": customer_id}
        )
        return self.call("queries", event)

    def get_balance(self, customer_id: str) -> ApiResponse:
        event = self.event(
            "get_balance",
            path=f"/customers/{customer_id}/balance",
            path_parameters={"customer_id": customer_id},
        )
        return self.call("queries", event)

    def get_transactions(self, customer_id: str, **query: str) -> ApiResponse:
        event = self.event(
            "get_customer",
            route_key="GET /customers/{customer_id}/transactions",
            path=f"/customers/{customer_id}/transactions",
            path_parameters={"customer_id": customer_id},
            query=query,
        )
        return self.call("queries", event)

    def get_transfer(self, transaction_id: str) -> ApiResponse:
        event = self.event(
            "get_transfer",
            path=f"/transfers/{transaction_id}",
            path_parameters={"transaction_id": transaction_id},
        )
        return self.call("queries", event)

    def get(self, path: str) -> ApiResponse:
        """A GET on any path, as API Gateway would pass it to the queries function."""
        return self.call("queries", self.event("get_customer", path=path, path_parameters=None))

    def deposit(
        self, customer_id: str, body: object, idempotency_key: str | _Fresh | None = FRESH
    ) -> ApiResponse:
        """``idempotency_key``: the rail's reference; a new one by default, ``None`` for none."""
        key = str(uuid.uuid4()) if isinstance(idempotency_key, _Fresh) else idempotency_key
        return self.call("deposit", deposit_event(customer_id, body, key, self.claims))

    def transfer(
        self,
        body: object,
        idempotency_key: str | None = None,
        headers: Mapping[str, str | None] | None = None,
    ) -> ApiResponse:
        all_headers: dict[str, str | None] = {"idempotency-key": idempotency_key, **(headers or {})}
        return self.call("send_money", self.event("send_money", body=body, headers=all_headers))

    # ------------------------------------------------------------ arrangement
    def pending_customer(self, *, merchant: bool = False, person: Person | None = None) -> dict[str, Any]:
        """Registered through the API by ``person`` (a new one), not yet activated by the sync."""
        person = person or Person.new()
        response = self.as_(person).register(registration_body(merchant=merchant))
        assert response.status == 201, response.body
        customer: dict[str, Any] = response.json()
        self.people[customer["id"]] = person
        return customer

    def signed_in(self) -> str:
        """A person who signed in but never registered: the customer id they would own."""
        person = Person.new()
        self.people[person.customer_id] = person
        return person.customer_id

    def activate(self, customer_id: str) -> None:
        """What the sync does with the customer's CustomerRegistered outbox item."""
        apply_customer_registered(
            self.registration_event(customer_id), bootstrap.ledger_store(), bootstrap.customers_store()
        )

    def active_customer(self, *, merchant: bool = False, balance: str | None = None) -> str:
        """An active customer's id, funded with ``balance`` by the rail's deposit through the API."""
        customer_id: str = self.pending_customer(merchant=merchant)["id"]
        self.activate(customer_id)
        if balance is not None:
            response = self.rail.deposit(customer_id, {"amount": balance})
            assert response.status == 201, response.body
        return customer_id

    def balance_of(self, customer_id: str) -> str:
        """As its owner sees it."""
        response = self.of(customer_id).get_balance(customer_id)
        assert response.status == 200, response.body
        balance: str = response.json()["balance"]
        return balance

    # ----------------------------------------------------------------- tables
    def registration_event(self, customer_id: str) -> CustomerRegistered:
        for item in self.items(self.tables.customers):
            if item.get("entity") != "outbox":
                continue
            event = parse_event(item["payload"])
            if isinstance(event, CustomerRegistered) and event.customer_id == customer_id:
                return event
        raise AssertionError(f"no CustomerRegistered outbox item for {customer_id}")

    def items(self, table: str) -> list[Item]:
        found = plain_items(_dynamodb(self.tables.endpoint), table)
        return sorted(found, key=lambda item: (item["pk"], item["sk"]))

    def snapshot(self) -> Snapshot:
        """Every item of both tables, to prove a rejected request wrote nothing."""
        return {table: self.items(table) for table in (self.tables.customers, self.tables.ledger)}

    def item(self, table: str, pk: str) -> Item | None:
        found = [item for item in self.items(table) if item["pk"] == pk]
        return found[0] if found else None

    def outbox_payloads(self, table: str) -> list[dict[str, Any]]:
        """The events ``table``'s items carry (outbox items, transactions), as their JSON payloads."""
        return [
            json.loads(item["payload"]) for item in self.items(table) if item.get("entity") in EVENT_CARRIERS
        ]


@pytest.fixture(scope="session")
def authorizer_stub() -> Iterator[AuthorizerStub]:
    # Handlers in "timeout" mode hang this long at most; stop() wakes them anyway.
    with AuthorizerStub(timeout_sleep_seconds=2.0, seed=7) as stub:
        yield stub


@pytest.fixture(scope="module")
def api_tables(ministack: Server, authorizer_stub: AuthorizerStub) -> Iterator[Tables]:
    """Fresh tables for each test module, and the environment the template gives the functions.

    Building the stores costs a botocore session and client per model, so the handlers' cached
    dependencies live for the whole module (as in a warm Lambda container). Tests stay independent:
    each registers its own customers, and every "wrote nothing" check compares before and after.
    """
    tables = create_tables(ministack.url)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("CUSTOMERS_TABLE", tables.customers)
        environment.setenv("LEDGER_TABLE", tables.ledger)
        environment.setenv("AWS_ENDPOINT_URL_DYNAMODB", tables.endpoint)
        environment.setenv("AUTHORIZER_URL", authorizer_stub.url)
        environment.setenv("AUTHORIZER_TIMEOUT_SECONDS", "0.3")
        bootstrap.forget_all()
        yield tables
        bootstrap.forget_all()


@pytest.fixture
def api(api_tables: Tables, authorizer_stub: AuthorizerStub) -> Iterator[Api]:
    # A fresh authorizer for each test, so no test inherits a circuit another one opened.
    bootstrap.authorizer.cache_clear()
    bootstrap.money_movement.cache_clear()
    authorizer_stub.set_mode("allow")
    # A signed-in person, not registered yet: every test calls as someone.
    yield Api(api_tables, authorizer_stub, claims=Person.new().claims)
    authorizer_stub.set_mode("allow")


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the handlers log (Powertools' JSON lines), at DEBUG so every line is seen."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous_stream = handler.stream
    handler.setStream(buffer)
    previous_level = logger.log_level
    logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)


def log_records(text: str) -> list[str]:
    """The lines of ``text`` that are JSON log records (objects with a ``level``), as logged."""
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "level" in record:
            records.append(line)
    return records
