"""The customers the load runs move money between, over devstack.wallet_client's ``Http``
(its ``Customer``, ``register`` and ``wait_until_active``, with this suite's names and prefix).

One keep-alive connection per thread (8 clients must not pay a TCP handshake per call).
A call that gets no answer raises ``NoAnswer``: the caller decides whether that is an
unknown outcome to retry with the same Idempotency-Key or one to resolve afterwards (so the
client never sends a request again on its own).

Every call carries a bearer token: a customer's ID token (each customer is a person signed
in to the stack's Cognito pool, by ``devstack.identities``) or, for deposits, the payment
rail's access token. Tokens are obtained once, before any load starts.
"""

from dataclasses import dataclass
from functools import cached_property

from devstack import wallet_client
from devstack.identities import Cognito
from devstack.wallet_client import Customer, Http, new_person


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
        return new_person(self.cognito, prefix)


def register(http: Http, identities: Identities, customer_type: str) -> Customer:
    """A person signs in, then registers as a customer with its own token."""
    email, token = identities.person()
    return wallet_client.register(http, email, token, customer_type, "Cliente Confiável")


def register_customers(
    http: Http, identities: Identities, individuals: int, merchants: int
) -> list[Customer]:
    kinds = ["individual"] * individuals + ["merchant"] * merchants
    return [register(http, identities, kind) for kind in kinds]
