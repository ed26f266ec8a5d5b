"""An HTTP client for the load runs, and the customers they move money between.

One keep-alive connection per thread (8 clients must not pay a TCP handshake per call).
A call that gets no answer raises ``NoAnswer``: the caller decides whether that is an
unknown outcome to retry with the same Idempotency-Key or one to resolve afterwards.
"""

import contextlib
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.support.documents import new_cnpj, new_cpf


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


class Http:
    def __init__(self, base_url: str, timeout_seconds: float = 30) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._timeout = timeout_seconds
        self._local = threading.local()

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        sent_headers = {"content-type": "application/json", **(headers or {})}
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

    def get(self, path: str) -> Reply:
        return self.call("GET", path)

    def post(self, path: str, body: object, headers: dict[str, str] | None = None) -> Reply:
        return self.call("POST", path, body, headers)

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
class Customer:
    id: str
    email: str
    type: str

    @property
    def can_send(self) -> bool:
        return self.type == "individual"


def register(http: Http, customer_type: str) -> Customer:
    document = new_cnpj() if customer_type == "merchant" else new_cpf()
    email = f"rel-{uuid.uuid4().hex[:12]}@example.com"
    reply = http.post(
        "/customers",
        {"name": "Cliente Confiável", "email": email, "document": document, "type": customer_type},
    )
    assert reply.status == 201, reply
    return Customer(reply.body["id"], reply.body["email"], customer_type)


def register_customers(http: Http, individuals: int, merchants: int) -> list[Customer]:
    kinds = ["individual"] * individuals + ["merchant"] * merchants
    return [register(http, kind) for kind in kinds]


def wait_until_active(http: Http, customers: Iterable[Customer], timeout_seconds: float) -> None:
    """The sync opens each account a moment after registration; wait (bounded) for all of them."""
    waiting = {customer.id for customer in customers}
    deadline = time.monotonic() + timeout_seconds
    while waiting and time.monotonic() < deadline:
        waiting = {c for c in waiting if http.get(f"/customers/{c}").body.get("status") != "active"}
        if waiting:
            time.sleep(0.3)
    assert not waiting, f"{len(waiting)} customer(s) never became active: {sorted(waiting)[:3]}"
