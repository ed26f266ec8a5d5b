"""End-to-end: the whole stack, deployed with SAM exactly as to AWS, driven only over HTTP.

By default a fresh ministack is started on free ports and the app deployed to it once per
session. ``WALLET_E2E_API_URL=http://127.0.0.1:3000`` attaches to a running ``make run``
instead. ``--stack localstack`` deploys to a running LocalStack (see localstack/README.md).
"""

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from devstack.authorizer_stub import AuthorizerStub
from devstack.config import LocalStack
from devstack.deploy import outputs
from devstack.gateway import Gateway
from devstack.identities import Cognito
from devstack.processes import free_port
from devstack.stack import running_stack


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stack",
        choices=["ministack", "localstack"],
        default="ministack",
        help="which local AWS the end-to-end tests deploy to (localstack needs Docker)",
    )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any = field(default=None)


@dataclass(frozen=True)
class Api:
    url: str
    aws_url: str
    cognito: Cognito

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Answer:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return _answer(error.code, dict(error.headers), error.read())

    def post(self, path: str, body: object, headers: dict[str, str] | None = None) -> Answer:
        return self.call("POST", path, body, headers)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def emails_to(self, address: str) -> list[dict[str, Any]]:
        """What the local AWS's SES sent to ``address`` (ministack's capture endpoint)."""
        with urllib.request.urlopen(f"{self.aws_url}/_ministack/ses/messages", timeout=10) as response:
            sent: dict[str, list[dict[str, Any]]] = json.loads(response.read())["messages"]
        return [message for messages in sent.values() for message in messages if address in message["To"]]

    def authorizer(self, mode: str, error_rate: float = 0.0) -> None:
        answer = self.call("PUT", "/_local/authorizer", {"mode": mode, "error_rate": error_rate})
        assert answer.status == 200, answer


def _answer(status: int, headers: dict[str, str], raw: bytes) -> Answer:
    lowered = {name.lower(): value for name, value in headers.items()}
    body: Any = raw.decode(errors="replace")
    if lowered.get("content-type", "").startswith("application/json"):
        body = json.loads(raw)
    return Answer(status, lowered, body)


def eventually[T](probe: Callable[[], T | None], timeout_seconds: float = 30) -> T:
    """Poll until ``probe`` returns something: the pipeline is asynchronous by design."""
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
        stack = LocalStack(endpoint_port=int(aws_url.rsplit(":", 1)[1]))
        yield Api(attached.rstrip("/"), aws_url, Cognito.of_local_stack(aws_url, outputs(stack)))
        return
    if request.config.getoption("--stack") == "localstack":
        yield from _localstack_api()
        return
    config = LocalStack(
        endpoint_port=free_port(), api_port=free_port(), authorizer_port=free_port(), stack_name="wallet-e2e"
    )
    with running_stack(config, None, print) as running:
        yield Api(running.api_url, config.endpoint, Cognito.of_local_stack(config.endpoint, running.outputs))


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
            yield Api(gateway.url, endpoint, Cognito.of_local_stack(endpoint, stack_outputs))
        finally:
            gateway.stop()


@pytest.fixture(autouse=True)
def authorizer_allows(api: Api) -> Iterator[None]:
    api.authorizer("allow")
    yield
    api.authorizer("allow")
