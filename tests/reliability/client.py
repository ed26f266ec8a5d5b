"""The customers the load runs move money between, over devstack.wallet_client's ``Http``.

One keep-alive connection per thread (8 clients must not pay a TCP handshake per call).
A call that gets no answer raises ``NoAnswer``: the caller decides whether that is an
unknown outcome to retry with the same Idempotency-Key or one to resolve afterwards (so the
client never sends a request again on its own).

Every call carries a bearer token: a customer's ID token (each customer is a person signed
in to the stack's Cognito pool, by ``devstack.identities``) or, for deposits, the payment
rail's access token. Tokens are obtained once, before any load starts.
"""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from devstack.identities import Cognito
from devstack.wallet_client import Http, registration


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
    email, token = identities.person()
    reply = http.post("/customers", registration(customer_type, "Cliente Confiável"), token)
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
