"""Tokens for the deployed stack: a customer's ID token and the payment rail's access token.

Every call is Cognito's public API, the same on AWS: sign-up, confirmation with the code the
user receives by e-mail, USER_PASSWORD_AUTH, and the client-credentials grant at the pool
domain's token endpoint. On the local stack the code's e-mail lands in ministack's SES
capture, and the token endpoint is served by ministack itself (docs/local-stack.md).

Suites that need many customers use ``admin_customer_token``: the administrator creates the
user with a verified e-mail and a permanent password (no code, no e-mail), then it signs in.
"""

import base64
import json
import re
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from devstack.ses_inbox import VERIFICATION_MESSAGE, ses_messages

_CODE = re.compile(r"\b(\d{6})\b")
# Cognito's token endpoint and the SES capture answer within a second, on AWS or locally:
# 10 s is an endpoint that hangs, not a slow one.
_CALL_TIMEOUT_SECONDS = 10


def jwt_part(part: str) -> dict[str, Any]:
    """A JWT's header or payload, decoded (base64url without padding, then JSON); unverified."""
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, read without checking its signature (the caller trusts where it came from)."""
    return jwt_part(token.split(".")[1])


def new_password() -> str:
    """Random, and within the pool's policy (12+ characters, lower, upper, digit)."""
    # 18 random bytes are 24 characters (144 bits); the suffix makes any draw meet the policy.
    return f"{secrets.token_urlsafe(18)}Aa1"


@dataclass(frozen=True)
class Cognito:
    endpoint: str
    user_pool_id: str
    client_id: str
    rail_client_id: str
    token_endpoint: str

    @classmethod
    def of_local_stack(cls, endpoint: str, outputs: dict[str, str]) -> "Cognito":
        """The stack's pool on ministack at ``endpoint``, which serves the token endpoint too."""
        return cls(
            endpoint=endpoint,
            user_pool_id=outputs["UserPoolId"],
            client_id=outputs["UserPoolClientId"],
            rail_client_id=outputs["PaymentRailClientId"],
            token_endpoint=f"{endpoint}/oauth2/token",
        )

    # ----------------------------------------------------------------- customers
    def sign_up(self, email: str, password: str) -> None:
        """Self-service sign-up: Cognito e-mails a confirmation code; sign-in waits for it."""
        self._idp().sign_up(
            ClientId=self.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )

    def confirm(self, email: str, code: str) -> None:
        self._idp().confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode=code)

    def sign_in(self, email: str, password: str) -> str:
        """The customer's ID token (what the API takes), by USER_PASSWORD_AUTH."""
        answer = self._idp().initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        token: str = answer["AuthenticationResult"]["IdToken"]
        return token

    def admin_customer_token(self, email: str) -> str:
        """A verified user created by the administrator, signed in: no e-mail is sent."""
        password = new_password()
        idp = self._idp()
        idp.admin_create_user(
            UserPoolId=self.user_pool_id,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        idp.admin_set_user_password(
            UserPoolId=self.user_pool_id, Username=email, Password=password, Permanent=True
        )
        return self.sign_in(email, password)

    def confirmation_code(self, email: str) -> str:
        """The latest code Cognito e-mailed to ``email``, from ministack's SES capture."""
        codes = [
            match.group(1)
            for message in ses_messages(self.endpoint, timeout_seconds=_CALL_TIMEOUT_SECONDS)
            if message.get("Type") == VERIFICATION_MESSAGE and email in message.get("To", [])
            if (match := _CODE.search(message.get("BodyText") or message.get("Body", {}).get("text", "")))
        ]
        if not codes:
            raise LookupError(f"no confirmation code was e-mailed to {email}")
        return codes[-1]

    # ----------------------------------------------------------------- payment rail
    def rail_token(self) -> str:
        """The payment rail's access token (scope wallet/deposits), by the client-credentials grant."""
        client = self._idp().describe_user_pool_client(
            UserPoolId=self.user_pool_id, ClientId=self.rail_client_id
        )["UserPoolClient"]
        credentials = base64.b64encode(f"{self.rail_client_id}:{client['ClientSecret']}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the stack's own https or local endpoint
            self.token_endpoint,
            data=urllib.parse.urlencode(
                {"grant_type": "client_credentials", "scope": "wallet/deposits"}
            ).encode(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=_CALL_TIMEOUT_SECONDS) as response:  # noqa: S310 - the stack's own endpoint
            token: str = json.loads(response.read())["access_token"]
        return token

    def _idp(self) -> Any:
        return boto3.client("cognito-idp", endpoint_url=self.endpoint)
