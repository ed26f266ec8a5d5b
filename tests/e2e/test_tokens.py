"""``make token`` and ``make rail-token``: devstack.tokens' code path, against the e2e stack."""

import io
import re
import uuid
from urllib.parse import urlsplit

import pytest

from devstack.config import DevStack
from devstack.ses_inbox import VERIFICATION_MESSAGE
from devstack.tokens import DEFAULT_PASSWORD, main
from devstack.wallet_client import registration
from tests.e2e.conftest import Api
from tests.e2e.test_money_flow import active_customer

JWT = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")


def run(api: Api, *argv: str) -> tuple[int, str, str]:
    """``python -m devstack.tokens ...`` on the stack the tests run against: (exit code, stdout, stderr)."""
    stack = DevStack(endpoint_port=urlsplit(api.aws_url).port or 4566, stack_name=api.stack_name)
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stack, out, err)
    return code, out.getvalue(), err.getvalue()


def printed_token(api: Api, *argv: str) -> str:
    code, out, err = run(api, *argv)
    assert (code, err) == (0, ""), err
    assert JWT.fullmatch(out.rstrip("\n")), "stdout holds the token and nothing else"
    return out.strip()


def verification_codes_sent_to(api: Api, address: str) -> int:
    return sum(
        1
        for message in api.sent()
        if message.get("Type") == VERIFICATION_MESSAGE and address in message["To"]
    )


def new_email() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}@example.com"


def test_a_new_email_is_signed_up_confirmed_and_signed_in_and_the_id_token_works(api: Api) -> None:
    email = new_email()

    token = printed_token(api, "customer", email)

    assert verification_codes_sent_to(api, email) == 1
    registered = api.post("/customers", registration(), token=token)
    assert registered.status == 201, registered
    assert registered.body["email"] == email


def test_a_confirmed_user_just_signs_in(api: Api) -> None:
    email = new_email()
    first = printed_token(api, "customer", email, "--password", "Another-password-1")

    again = printed_token(api, "customer", email, "--password", "Another-password-1")

    assert verification_codes_sent_to(api, email) == 1
    assert again != first
    assert api.get("/customers/me", again).body["error"] == "customer_not_found"


def test_a_user_signed_up_elsewhere_but_not_confirmed_is_confirmed_then_signed_in(api: Api) -> None:
    email = new_email()
    api.cognito.sign_up(email, DEFAULT_PASSWORD)

    token = printed_token(api, "customer", email)

    assert verification_codes_sent_to(api, email) == 1
    assert api.post("/customers", registration(), token=token).status == 201


def test_a_wrong_password_prints_no_token_and_says_why(api: Api) -> None:
    email = new_email()
    printed_token(api, "customer", email)

    code, out, err = run(api, "customer", email, "--password", "Not-the-password-1")

    assert (code, out) == (1, "")
    assert "Incorrect username or password" in err


def test_no_email_is_a_usage_error(api: Api) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(api, "customer", "")

    assert exit_.value.code == 2


def test_the_rail_token_deposits(api: Api) -> None:
    customer = active_customer(api)

    token = printed_token(api, "rail")

    reference = {"Idempotency-Key": f"rail-{uuid.uuid4()}"}
    answer = api.post(f"/customers/{customer.id}/deposits", {"amount": "1.00"}, reference, token)
    assert answer.status == 201, answer
