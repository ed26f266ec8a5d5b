"""The wallet as its clients reach it, and what the local AWS shows of it: one kit for the
benchmarks and the tests (end-to-end and reliability), so that each is written once.

- ``Http``: the API over HTTP/1.1, one kept-alive connection per thread; ``call(method,
  path, body, headers, token)`` answers a ``Reply`` or raises ``NoAnswer``;
- ``registration``: a valid registration body; ``deposit_request``: what the payment rail sends;
- ``new_person``, ``register``, ``wait_until_active``: a person signs in, registers as a
  ``Customer``, and is ``active`` once the sync has opened its ledger account;
- ``scan`` / ``plain_items``: every item of a table, as DynamoDB sends it or as Python values.

The e-mails ministack's SES accepted are read by ``devstack.ses_inbox``.
"""

import contextlib
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeDeserializer

from devstack.documents import new_cnpj, new_cpf
from devstack.identities import Cognito

# A kept-alive connection the server closed while it was idle fails like this on its next use.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class NoAnswer(Exception):
    """The connection failed or was closed before a complete answer arrived."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    """Names in lower case."""
    seconds: float = 0.0
    """From sending the request to reading the whole answer."""
    at: float = 0.0
    """Wall clock (``time.time()``) when the answer was read: comparable with ministack's timestamps."""

    @property
    def error(self) -> str | None:
        """The contract's error code, if the body carries one."""
        code = self.body.get("error") if isinstance(self.body, dict) else None
        return code if isinstance(code, str) else None


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class Http:
    """``base_url`` may carry a path prefix (ministack's ``/_aws/execute-api/<id>``).

    With ``reconnect_when_stale``, a request that fails on a kept-alive connection the server
    had closed is sent once more on a new one. Load tests that count unanswered requests
    leave it off: a request may also fail that way after the server received it.
    """

    def __init__(
        self, base_url: str, timeout_seconds: float = 30, *, reconnect_when_stale: bool = False
    ) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout_seconds
        self._attempts = 2 if reconnect_when_stale else 1
        self._local = threading.local()
        self._lock = threading.Lock()
        self._every: list[http.client.HTTPConnection] = []

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        """``body`` is sent as JSON, or as it is if it is bytes; ``token`` as a bearer token."""
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        sent_headers = {"content-type": "application/json", **bearer(token), **(headers or {})}
        for attempt in range(1, self._attempts + 1):
            connection = self._connection()
            started = time.perf_counter()
            try:
                connection.request(method, self._prefix + path, body=data, headers=sent_headers)
                response = connection.getresponse()
                raw = response.read()
            except _STALE as error:
                self._drop(connection)
                if attempt == self._attempts:
                    raise NoAnswer(f"{method} {path}: {type(error).__name__}: {error}") from error
                continue
            except (OSError, http.client.HTTPException) as error:
                self._drop(connection)
                raise NoAnswer(f"{method} {path}: {type(error).__name__}: {error}") from error
            seconds, at = time.perf_counter() - started, time.time()
            if response.getheader("connection", "").lower() == "close":
                self._drop(connection)
            return _reply(response.status, dict(response.getheaders()), raw, seconds, at)
        raise AssertionError("unreachable")

    def get(self, path: str, token: str | None = None) -> Reply:
        return self.call("GET", path, token=token)

    def post(
        self, path: str, body: object, token: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        return self.call("POST", path, body, headers, token)

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            connections, self._every = self._every, []
        for connection in connections:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
            with self._lock:
                self._every.append(connection)
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None
        with self._lock, contextlib.suppress(ValueError):
            self._every.remove(connection)


def _reply(status: int, headers: dict[str, str], raw: bytes, seconds: float, at: float) -> Reply:
    lowered = {name.lower(): value for name, value in headers.items()}
    body: Any = raw.decode(errors="replace")
    if lowered.get("content-type", "").startswith("application/json") and raw:
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
    return Reply(status, body, lowered, seconds, at)


# ---------------------------------------------------------------------------- requests


def registration(customer_type: str = "individual", name: str = "Cliente Teste") -> dict[str, str]:
    """A body for ``POST /customers`` with a fresh valid document (CNPJ for a merchant, else CPF)."""
    document = new_cnpj() if customer_type == "merchant" else new_cpf()
    return {"name": name, "document": document, "type": customer_type}


def deposit_request(
    customer_id: str, amount: str, reference: str | None = None
) -> tuple[str, dict[str, str], dict[str, str]]:
    """The payment rail's report of money received: path, body and headers (its own reference
    is the required Idempotency-Key)."""
    key = {"Idempotency-Key": reference or f"rail-{uuid.uuid4()}"}
    return f"/customers/{customer_id}/deposits", {"amount": amount}, key


# ---------------------------------------------------------------------------- customers


class UnexpectedReply(AssertionError):
    """The API answered a setup step (a registration, an activation) otherwise than it must.

    An AssertionError, so that a test reports it as its failure; a benchmark stops on it."""


@dataclass(frozen=True)
class Customer:
    """A registered customer: the e-mail its person signed in with and the person's ID token,
    which every call of this customer carries."""

    id: str
    email: str
    type: str
    token: str = field(repr=False, compare=False)
    registered: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """What ``POST /customers`` answered (``pending`` or already ``active``)."""

    @property
    def can_send(self) -> bool:
        return self.type == "individual"


def new_person(cognito: Cognito, prefix: str) -> tuple[str, str]:
    """A new verified user of the stack's pool, signed in: (e-mail, ID token). The administrator
    creates it, so no e-mail is sent (``Cognito.admin_customer_token``)."""
    email = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
    return email, cognito.admin_customer_token(email)


def register(
    http: Http, email: str, token: str, customer_type: str = "individual", name: str = "Cliente Teste"
) -> Customer:
    """The signed-in person registers as a customer with its own token: 201, with the token's
    e-mail, or ``UnexpectedReply``. The customer is ``pending`` until the sync opens its account."""
    reply = http.post("/customers", registration(customer_type, name), token)
    if reply.status != 201 or not isinstance(reply.body, dict) or reply.body.get("email") != email:
        raise UnexpectedReply(f"registration answered {reply.status}: {reply.body}")
    return Customer(reply.body["id"], email, customer_type, token, reply.body)


def wait_until_active(
    http: Http,
    customers: Iterable[Customer],
    timeout_seconds: float,
    *,
    pause_seconds: float = 0.3,
    clients: int = 1,
) -> None:
    """Until the sync has opened every customer's account (each reads ``active``), reading
    ``clients`` customers at a time; ``UnexpectedReply`` naming those still waiting after
    ``timeout_seconds``. The sync opens an account within a second or two here, so the
    pause only spares the API needless reads."""
    waiting = list(customers)
    deadline = time.monotonic() + timeout_seconds

    def is_active(customer: Customer) -> bool:
        reply = http.get(f"/customers/{customer.id}", customer.token)
        # A 4xx will not change by waiting (a wrong token or route): say so at once. A 5xx or
        # no answer may be the stack catching up: read again.
        if 400 <= reply.status < 500:
            raise UnexpectedReply(f"GET /customers/{customer.id} answered {reply.status}: {reply.body}")
        return reply.status == 200 and isinstance(reply.body, dict) and reply.body.get("status") == "active"

    with ThreadPoolExecutor(max_workers=clients) as pool:
        while waiting:
            waiting = [
                c for c, active in zip(waiting, pool.map(is_active, waiting), strict=True) if not active
            ]
            if not waiting:
                return
            if time.monotonic() >= deadline:
                raise UnexpectedReply(
                    f"{len(waiting)} customer(s) never became active: {[c.id for c in waiting][:3]}"
                )
            time.sleep(pause_seconds)


# ---------------------------------------------------------------------------- tables


def scan(dynamodb: Any, table: str, index: str | None = None) -> list[dict[str, Any]]:
    """Every item of a table (or of one of its indexes: eventually consistent, as a global
    index is), strongly consistent otherwise, in DynamoDB's wire format."""
    where = (
        {"TableName": table, "ConsistentRead": True}
        if index is None
        else {"TableName": table, "IndexName": index}
    )
    pages = dynamodb.get_paginator("scan").paginate(**where)
    return [item for page in pages for item in page["Items"]]


def plain_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a table, as plain Python values (numbers as Decimal)."""
    deserializer = TypeDeserializer()
    return [
        {name: deserializer.deserialize(value) for name, value in raw.items()}
        for raw in scan(dynamodb, table)
    ]
