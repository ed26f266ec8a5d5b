"""End-to-end: the whole stack, deployed with SAM exactly as to AWS, driven only over HTTP.

By default a fresh ministack is started on free ports and the app deployed to it once per
session. ``WALLET_E2E_API_URL=http://127.0.0.1:3000`` attaches to a running ``make run``
instead. ``--stack localstack`` deploys to a running LocalStack (see localstack/README.md).

Every route but the spec and its UI wants a token: ``api.person()`` is a new signed-in person
(an administrator-created, verified user: no e-mail is sent), ``api.rail_token`` the payment
rail's access token. Sign-ins happen before any timed loop.
"""

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
import pytest

from devstack.authorizer_stub import AuthorizerStub
from devstack.config import DevStack
from devstack.deploy import outputs
from devstack.gateway import Gateway
from devstack.identities import Cognito
from devstack.processes import free_port
from devstack.ses_inbox import ses_messages
from devstack.stack import running_stack
from devstack.wallet_client import Http, Reply, deposit_request, new_person, scan


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stack",
        choices=["ministack", "localstack"],
        default="ministack",
        help="which local AWS the end-to-end tests deploy to (localstack needs Docker)",
    )


@dataclass(frozen=True)
class Person:
    """A signed-in person: the e-mail they signed in with and their ID token."""

    email: str
    token: str


@dataclass(frozen=True)
class Api:
    url: str
    aws_url: str
    cognito: Cognito
    outputs: dict[str, str]
    stack_name: str

    @cached_property
    def http(self) -> Http:
        # Sessions are long and servers close idle kept-alive connections: reconnect then.
        return Http(self.url, reconnect_when_stale=True)

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        """``token`` goes as ``Authorization: Bearer <token>``; none, and no such header is sent."""
        return self.http.call(method, path, body, headers, token)

    def post(
        self, path: str, body: object, headers: dict[str, str] | None = None, token: str | None = None
    ) -> Reply:
        return self.call("POST", path, body, headers, token)

    def get(self, path: str, token: str | None = None) -> Reply:
        return self.call("GET", path, token=token)

    def person(self) -> Person:
        """A new verified user of the stack's pool, signed in (the administrator creates it)."""
        return Person(*new_person(self.cognito, "e2e"))

    @cached_property
    def rail_token(self) -> str:
        """The payment rail's access token (it lives an hour: longer than the suite)."""
        return self.cognito.rail_token()

    def deposit(self, customer_id: str, amount: str, reference: str | None = None) -> Reply:
        """What the payment rail reports; its reference is the required Idempotency-Key."""
        path, body, key = deposit_request(customer_id, amount, reference)
        return self.post(path, body, key, self.rail_token)

    def sent(self) -> list[dict[str, Any]]:
        """Every e-mail in the local AWS's SES capture (ministack's): Cognito's codes too."""
        return ses_messages(self.aws_url)

    def emails(self) -> list[dict[str, Any]]:
        """The app's e-mails: those from the stack's SenderEmail."""
        return [message for message in self.sent() if message["Source"] == self.outputs["SenderEmail"]]

    def emails_to(self, address: str) -> list[dict[str, Any]]:
        return [message for message in self.emails() if address in message["To"]]

    def table_items(self, output: str) -> list[dict[str, Any]]:
        """Every item of the stack's table named by ``output`` (e.g. ``CustomersTableName``)."""
        return scan(boto3.client("dynamodb", endpoint_url=self.aws_url), self.outputs[output])

    def authorizer(self, mode: str, error_rate: float = 0.0) -> None:
        answer = self.call("PUT", "/_local/authorizer", {"mode": mode, "error_rate": error_rate})
        assert answer.status == 200, answer


def eventually[T](probe: Callable[[], T | None], timeout_seconds: float = 30) -> T:
    """Poll until ``probe`` returns something: the pipeline is asynchronous by design. It
    finishes a step in a second or two here; 30 s is a stuck pipeline, not a slow one, and
    a fifth of a second between polls keeps the API and SES capture lightly loaded."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        time.sleep(0.2)
    raise AssertionError(f"nothing after {timeout_seconds} s")


@pytest.fixture(scope="session")
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    attached = os.environ.get("WALLET_E2E_API_URL")
    if attached:
        aws_url = os.environ.get("WALLET_E2E_AWS_URL", "http://127.0.0.1:4566")
        stack = DevStack(endpoint_port=int(aws_url.rsplit(":", 1)[1]))
        yield _api(attached.rstrip("/"), aws_url, outputs(stack), stack.stack_name)
        return
    if request.config.getoption("--stack") == "localstack":
        yield from _localstack_api()
        return
    config = DevStack(
        endpoint_port=free_port(), api_port=free_port(), authorizer_port=free_port(), stack_name="wallet-e2e"
    )
    with running_stack(config, None, print) as running:
        yield _api(running.api_url, config.endpoint, running.outputs, config.stack_name)


def _api(url: str, aws_url: str, stack_outputs: dict[str, str], stack_name: str) -> Api:
    return Api(url, aws_url, Cognito.of_local_stack(aws_url, stack_outputs), stack_outputs, stack_name)


def _localstack_api() -> Iterator[Api]:
    """The stack deployed to LocalStack by localstack/README.md's commands (needs Docker).

    The authorizer stub runs here on 3001 (the functions reach it as host.docker.internal),
    and the same pass-through gateway fronts LocalStack's execute-api.
    """
    import boto3
    from localstack_client.config import get_service_endpoint

    endpoint = get_service_endpoint("cloudformation")
    stack = boto3.client("cloudformation", endpoint_url=endpoint).describe_stacks(StackName="wallet")[
        "Stacks"
    ][0]
    stack_outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    api_id = stack_outputs["ApiId"]
    execute_api = f"http://{api_id}.execute-api.localhost.localstack.cloud:4566"
    with AuthorizerStub(host="0.0.0.0", port=3001) as stub:  # noqa: S104 - the containers must reach it
        gateway = Gateway(free_port(), execute_api, stub.url).start()
        try:
            yield _api(gateway.url, endpoint, stack_outputs, "wallet")
        finally:
            gateway.stop()


@pytest.fixture(autouse=True)
def authorizer_allows(api: Api) -> Iterator[None]:
    api.authorizer("allow")
    yield
    api.authorizer("allow")
