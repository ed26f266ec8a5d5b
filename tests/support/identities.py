"""The claims API Gateway's JWT authorizer hands a function, for tests that call handlers.

As the gateway passes them: every value a string. A customer calls with its ID token; the
payment rail with its client-credentials access token, scope ``wallet/deposits``.
"""

import itertools
import uuid
from dataclasses import dataclass

from wallet.domain.customers import customer_id_for

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1"
CUSTOMER_CLIENT_ID = "testcustomerclient0000000001"
RAIL_CLIENT_ID = "testpaymentrailclient0000001"
_EMAILS = itertools.count(1)


@dataclass(frozen=True)
class Person:
    """A signed-in person: the claims of its ID token, and the customer id they own."""

    subject: str
    email: str
    email_verified: bool = True

    @classmethod
    def new(cls, *, email: str | None = None, email_verified: bool = True) -> "Person":
        return cls(str(uuid.uuid4()), email or f"person{next(_EMAILS)}@example.com", email_verified)

    @property
    def customer_id(self) -> str:
        return customer_id_for(ISSUER, self.subject)

    @property
    def claims(self) -> dict[str, str]:
        return {
            "sub": self.subject,
            "iss": ISSUER,
            "aud": CUSTOMER_CLIENT_ID,
            "token_use": "id",
            "email": self.email,
            "email_verified": "true" if self.email_verified else "false",
            "cognito:username": self.subject,
        }

    @property
    def access_token_claims(self) -> dict[str, str]:
        """The same person's access token: not what the API takes."""
        return {
            "sub": self.subject,
            "iss": ISSUER,
            "client_id": CUSTOMER_CLIENT_ID,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "username": self.subject,
        }


def rail_claims(scope: str = "wallet/deposits") -> dict[str, str]:
    return {
        "sub": RAIL_CLIENT_ID,
        "iss": ISSUER,
        "client_id": RAIL_CLIENT_ID,
        "token_use": "access",
        "scope": scope,
    }
