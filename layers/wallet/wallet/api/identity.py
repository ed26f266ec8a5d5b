"""Who is calling: the claims API Gateway's JWT authorizer verified, as an identity.

The gateway has already checked the token's signature, issuer, audience, expiry and, for
deposits, its scope; a request without claims never went through it and is refused. Claims
arrive as strings. Customers call with their ID token (``token_use`` ``id``); the payment rail
with an access token of its own client, granted the deposit scope.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from wallet.domain.customers import customer_id_for
from wallet.domain.errors import Forbidden, Unauthenticated

DEPOSIT_SCOPE = "wallet/deposits"


@dataclass(frozen=True)
class CustomerIdentity:
    """A signed-in person: the customer it owns (registered or not yet) and its e-mail."""

    customer_id: str
    email: str
    email_verified: bool


@dataclass(frozen=True)
class RailIdentity:
    """The payment rail's client: the scope of its deposits' Idempotency-Keys."""

    client_id: str


def _claims_of(request: Request) -> dict[str, Any]:
    event = request.resolved_event
    claims = event.request_context.authorizer.jwt_claim if isinstance(event, APIGatewayProxyEventV2) else {}
    if not claims.get("sub") or not claims.get("iss"):
        raise Unauthenticated("sign in and send your token as Authorization: Bearer <token>")
    return claims


def current_customer(request: Request) -> CustomerIdentity:
    """The customer behind the request's ID token; any other token is refused."""
    claims = _claims_of(request)
    if claims.get("token_use") != "id" or not claims.get("email"):
        raise Forbidden("this route is for customers: send your ID token")
    return CustomerIdentity(
        customer_id=customer_id_for(str(claims["iss"]), str(claims["sub"])),
        email=str(claims["email"]),
        email_verified=str(claims.get("email_verified", "")).lower() == "true",
    )


def current_rail(request: Request) -> RailIdentity:
    """The payment rail, whose access token carries the deposit scope (the gateway checks it
    too: this holds if a route were ever deployed without it)."""
    claims = _claims_of(request)
    scopes = str(claims.get("scope", "")).split()
    if claims.get("token_use") != "access" or DEPOSIT_SCOPE not in scopes:
        raise Forbidden(f"only the payment rail ({DEPOSIT_SCOPE}) may deposit")
    return RailIdentity(client_id=str(claims.get("client_id") or claims["sub"]))


Customer = Annotated[CustomerIdentity, Depends(current_customer)]
PaymentRail = Annotated[RailIdentity, Depends(current_rail)]


# The OpenAPI security schemes the routes declare (wallet.api.docs describes them).
CUSTOMER_TOKEN = "customerIdToken"  # noqa: S105 - a scheme's name, not a secret
RAIL_TOKEN = "paymentRailToken"  # noqa: S105 - a scheme's name, not a secret
CUSTOMER_ONLY: list[dict[str, list[str]]] = [{CUSTOMER_TOKEN: []}]
RAIL_ONLY: list[dict[str, list[str]]] = [{RAIL_TOKEN: []}]

_IDENTITY_OF_SCHEME = {CUSTOMER_TOKEN: current_customer, RAIL_TOKEN: current_rail}


def check_caller(security: list[dict[str, list[str]]] | None, request: Request) -> None:
    """Raise the refusal that a route's declared security makes of this request's caller.

    The routes' ``Depends`` do the same, but Powertools resolves them only after validating
    the request: this lets a refused caller be refused before it learns anything about the
    shape of the request it sent.
    """
    for requirement in security or []:
        for scheme in requirement:
            _IDENTITY_OF_SCHEME[scheme](request)
