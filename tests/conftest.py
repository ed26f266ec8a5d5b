"""Fixtures shared by every test folder: credentials, the real engines, fresh tables.

Engines are started once per session on free loopback ports and stopped at the end:
ministack (the local AWS) and DynamoDB Local (AWS's own engine). Tables are created from
template.yaml's definitions, with a unique name per test, so tests never share state.
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest

from devstack.template import create_table_request
from tests.support.servers import Server, start_dynamodb_local, start_ministack

# Set before any client exists, so no test can reach a real AWS account.
os.environ.update(
    AWS_ACCESS_KEY_ID="test",
    AWS_SECRET_ACCESS_KEY="test",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_SERVICE_NAME="wallet",
    POWERTOOLS_METRICS_NAMESPACE="Wallet",
    POWERTOOLS_TRACE_DISABLED="1",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
for variable in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[variable]


@dataclass(frozen=True)
class Tables:
    endpoint: str
    customers: str
    ledger: str


@pytest.fixture(scope="session")
def ministack() -> Iterator[Server]:
    with start_ministack() as server:
        yield server


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[Server]:
    with start_dynamodb_local() as server:
        yield server


@pytest.fixture(params=["ministack", "dynamodb_local"])
def engine(request: pytest.FixtureRequest) -> Server:
    """Both engines, for the tests whose guarantees the money relies on."""
    server: Server = request.getfixturevalue(request.param)
    return server


def create_tables(endpoint: str) -> Tables:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    suffix = uuid.uuid4().hex[:8]
    tables = Tables(endpoint, customers=f"customers-{suffix}", ledger=f"ledger-{suffix}")
    client.create_table(**create_table_request("CustomersTable", tables.customers))
    client.create_table(**create_table_request("LedgerTable", tables.ledger))
    return tables


@pytest.fixture
def engine_tables(engine: Server) -> Tables:
    return create_tables(engine.url)


@pytest.fixture
def ministack_tables(ministack: Server) -> Tables:
    return create_tables(ministack.url)
