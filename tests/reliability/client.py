"""An HTTP client for the load runs, and the customers they move money between.

One keep-alive connection per thread (8 clients must not pay a TCP handshake per call).
A call that gets no answer raises ``NoAnswer``: the caller decides whether that is an
unknown outcome to retry with the same Idempotency-Key or one to resolve afterwards.

Every call carries a bearer token: a customer's ID token (each customer is a person signed
in to the stack's Cognito pool, by ``devstack.identities``) or, for deposits, the payment
rail's access token. Tokens are obtained once, before any load starts.
"""

import contextlib
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from devstack.documents import new_cnpj, new_cpf
from devstack.identities import Cognito


class NoAnswer(Exception):
    """The connection failed or was closed before a complete answer arrived."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error(self) -> str | None:
        code = self.body.get("error") if isinstance(self.body, dict) else None
        return code if isinstance(code, str) else None


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Http:
    def __init__(self, base_url: str, timeout_seconds: float = 30) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout = timeout_seconds
        self._local = threading.local()

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        sent_headers = {"content-type": "application/json", **bearer(token), **(headers or {})}
        connection = self._connection()
        try:
            connection.request(method, path, body=data, headers=sent_headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            self._local.connection = None
            raise NoAnswer(f"{method} {path}: {type(error).__name__}: {error}") from error
        return _reply(response.status, dict(response.getheaders()), raw)

    def get(self, path: str, token: str | None) -> Reply:
        return self.call("GET", path, token=token)

    def post(
        self, path: str, body: object, token: str | None, headers: dict[str, str] | None = None
    ) -> Reply:
        return self.call("POST", path, body, headers, token)

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection


def _reply(status: int, headers: dict[str, str], raw: bytes) -> Reply:
    lowered = {name.lower(): value for name, value in headers.items()}
    body: Any = raw.decode(errors="replace")
    if lowered.get("content-type", "").startswith("application/json") and raw:
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
    return Reply(status, body, lowered)


@dataclass(frozen=True)
class Identities:
    """The stack's Cognito pool: signed-in people, and the payment rail (its client id scopes
    the deposits' Idempotency-Keys)."""

    cognito: Cognito

    @property
    def rail_id(self) -> str:
        return self.cognito.rail_client_id

    @cached_property
    def rail_token(self) -> str:
        return self.cognito.rail_token()

    def person(self, prefix: str = "rel") -> tuple[str, str]:
        """A new verified person, signed in: (e-mail, ID token)."""
        email = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
        return email, self.cognito.admin_customer_token(email)


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    type: str
    token: str = field(repr=False, compare=False)

    @property
    def can_send(self) -> bool:
        return self.type == "individual"


def register(http: Http, identities: Identities, customer_type: str) -> Customer:
    """A person signs in, then registers as a customer with its own token."""
    document = new_cnpj() if customer_type == "merchant" else new_cpf()
    email, token = identities.person()
    reply = http.post(
        "/customers", {"name": "Cliente Confiável", "document": document, "type": customer_type}, token
    )
    assert reply.status == 201, reply
    assert reply.body["email"] == email, reply
    return Customer(reply.body["id"], reply.body["email"], customer_type, token)


def register_customers(
    http: Http, identities: Identities, individuals: int, merchants: int
) -> list[Customer]:
    kinds = ["individual"] * individuals + ["merchant"] * merchants
    return [register(http, identities, kind) for kind in kinds]


def wait_until_active(http: Http, customers: Iterable[Customer], timeout_seconds: float) -> None:
    """The sync opens each account a moment after registration; wait (bounded) for all of them."""
    waiting = list(customers)
    deadline = time.monotonic() + timeout_seconds
    while waiting and time.monotonic() < deadline:
        waiting = [
            c for c in waiting if http.get(f"/customers/{c.id}", c.token).body.get("status") != "active"
        ]
        if waiting:
            time.sleep(0.3)
    assert not waiting, f"{len(waiting)} customer(s) never became active: {[c.id for c in waiting][:3]}"
