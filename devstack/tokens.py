"""``make token`` and ``make rail-token``: tokens for the running ``make run`` stack, on stdout only.

``python -m devstack.tokens customer ana@example.com [--password ...]`` signs the e-mail up
(self-service SignUp), confirms it with the code Cognito e-mailed (read from ministack's SES
capture), signs in with USER_PASSWORD_AUTH and prints the ID token; a step already done is
skipped, so a confirmed user just signs in. ``python -m devstack.tokens rail`` prints the
payment rail's access token (client credentials, scope ``wallet/deposits``).

Only the token goes to stdout (``ANA=$(make -s token EMAIL=ana@example.com)``); whatever
went wrong goes to stderr with a non-zero exit. Ports and the stack's name are those of
``devstack.config.DevStack``.
"""

import argparse
import os
import sys
import urllib.error
from collections.abc import Sequence
from typing import TextIO

import boto3
import botocore.exceptions

from devstack.config import DevStack
from devstack.deploy import outputs
from devstack.identities import Cognito

# The local stack's fixed password for ``make token`` (the pool's policy: 12+ characters,
# lower and upper case, a digit). For the local stack only: never use it anywhere real.
DEFAULT_PASSWORD = "Wallet-local-2024"  # noqa: S105 - a documented local development default


def cognito_of(stack: DevStack) -> Cognito:
    """The stack's user pool and clients, from its outputs on the local AWS."""
    return Cognito.of_local_stack(stack.endpoint, outputs(stack))


def customer_token(cognito: Cognito, email: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign up, confirm with the e-mailed code and sign in, skipping what is already done."""
    try:
        cognito.sign_up(email, password)
        _confirm(cognito, email)
    except botocore.exceptions.ClientError as error:
        _unless(error, "UsernameExistsException")
    try:
        return cognito.sign_in(email, password)
    except botocore.exceptions.ClientError as error:
        _unless(error, "UserNotConfirmedException")
    _confirm(cognito, email)
    return cognito.sign_in(email, password)


def _confirm(cognito: Cognito, email: str) -> None:
    """With the latest code sent; a new one is asked for if none can be found (a reset capture)."""
    try:
        code = cognito.confirmation_code(email)
    except LookupError:
        idp = boto3.client("cognito-idp", endpoint_url=cognito.endpoint)
        idp.resend_confirmation_code(ClientId=cognito.client_id, Username=email)
        code = cognito.confirmation_code(email)
    cognito.confirm(email, code)


def _unless(error: botocore.exceptions.ClientError, expected: str) -> None:
    """Re-raise ``error`` unless it is Cognito's ``expected`` one: a step already done."""
    if error.response.get("Error", {}).get("Code") != expected:
        raise error


def _email(text: str) -> str:
    if "@" not in text:
        raise argparse.ArgumentTypeError(
            f"not an e-mail address: {text!r} (make -s token EMAIL=ana@example.com)"
        )
    return text


def _local_credentials(stack: DevStack) -> None:
    """ministack's credentials and region for this process's clients; endpoints stay explicit."""
    environment = stack.aws_environment()
    os.environ.update({k: v for k, v in environment.items() if not k.startswith("AWS_ENDPOINT_URL")})


def main(
    argv: Sequence[str] | None = None,
    stack: DevStack | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.tokens", description=__doc__.split("\n")[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    customer = kinds.add_parser("customer", help="a customer's ID token (signs up and confirms if needed)")
    customer.add_argument("email", type=_email, help="the e-mail to sign up or sign in with")
    customer.add_argument("--password", default=DEFAULT_PASSWORD, help="default: the documented local one")
    kinds.add_parser("rail", help="the payment rail's access token (scope wallet/deposits)")
    arguments = parser.parse_args(argv)
    stack = stack or DevStack()
    out, err = out or sys.stdout, err or sys.stderr
    _local_credentials(stack)
    try:
        cognito = cognito_of(stack)
        if arguments.kind == "customer":
            token = customer_token(cognito, arguments.email, arguments.password)
        else:
            token = cognito.rail_token()
    except (botocore.exceptions.EndpointConnectionError, urllib.error.URLError) as error:
        print(f"no local stack at {stack.endpoint} ({error}): is `make run` running?", file=err)
        return 1
    except (botocore.exceptions.ClientError, LookupError) as error:
        # KeyError (a LookupError): a stack deployed before identity, without the pool's outputs.
        print(f"stack {stack.stack_name} on {stack.endpoint}: {error!s}", file=err)
        return 1
    print(token, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
