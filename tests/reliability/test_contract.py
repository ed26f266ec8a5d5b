"""The contract is exact: schemathesis' CLI, run as a new user would, finds nothing.

``schemathesis run <api>/openapi.json --checks all --mode all`` against the whole stack
deployed on ministack (its own, on free ports), with every check schemathesis has: no 5xx;
every status, content type, header and body as the spec documents them; every request the
spec calls valid accepted and every one it calls invalid refused; 405 with ``Allow`` for a
method a path does not take; 401 without the token; and the stateful phase following the
spec's links from what it created to where it is read.

The tokens are those real clients hold, each given to the security scheme the spec names
for it (``schemathesis.toml`` beside this file): a registered, funded, active customer's ID
token, and the payment rail's access token for deposits. This run's config adds the ids
that exist (the customer, a payee) and valid documents, which schemathesis mixes with what
it generates, so that transfers, deposits and reads reach their success paths too.

A second, stateful run signs in as a newcomer, who registers: the links from its 201 lead
to its customer, balance and statement, which exist.
"""

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from devstack.config import DevStack
from devstack.documents import new_cnpj, new_cpf
from devstack.identities import Cognito
from devstack.processes import free_port
from devstack.stack import RunningStack, running_stack
from devstack.wallet_client import Customer, Http, deposit_request, new_person, register, wait_until_active

# A deploy and one schemathesis CLI run of EXAMPLES per operation, with a wide margin: ten
# minutes is a hang, not a slow run.
pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Examples per operation: every operation meets each kind of bad input at least once, in a
# run short enough for every ``make test``; the fixed seed makes it the same run each time.
EXAMPLES = 25
SEED = 20240601
# How often a generated id or document is replaced by one that exists or is valid.
KNOWN_VALUES_PROBABILITY = 0.5


@dataclass(frozen=True)
class Stack:
    running: RunningStack
    cognito: Cognito
    rail_token: str

    @property
    def url(self) -> str:
        return self.running.api_url

    @cached_property
    def http(self) -> Http:
        return Http(self.url, reconnect_when_stale=True)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    config = DevStack(
        endpoint_port=free_port(),
        api_port=free_port(),
        authorizer_port=free_port(),
        stack_name=f"wallet-contract-{uuid.uuid4().hex[:6]}",
        throttle_routes=False,  # its clients send more than a route allows, on purpose
    )
    with running_stack(config, None, print) as running:
        cognito = Cognito.of_local_stack(config.endpoint, running.outputs)
        yield Stack(running, cognito, cognito.rail_token())


def signed_in(stack: Stack) -> str:
    """A new person's ID token: signed in, not registered."""
    _email, token = new_person(stack.cognito, "contract")
    return token


def active_customer(stack: Stack, balance: str | None = None) -> Customer:
    """Registered, active (its ledger account open) and, given a balance, funded by the rail."""
    email, token = new_person(stack.cognito, "contract")
    customer = register(stack.http, email, token, name="Ana Lima")
    wait_until_active(stack.http, [customer], 60, pause_seconds=0.5)
    if balance is not None:
        path, body, headers = deposit_request(customer.id, balance)
        deposited = stack.http.post(path, body, stack.rail_token, headers)
        assert deposited.status == 201, deposited
    return customer


def run_config(directory: Path, customers: list[str], payers: list[str]) -> Path:
    """``schemathesis.toml`` plus this run's ids that exist and valid documents."""
    documents = [new_cpf(), new_cpf(), new_cnpj()]
    known = f"""
[dictionaries.customers]
values = {json.dumps(customers)}

[dictionaries.payers]
values = {json.dumps(payers)}

[dictionaries.documents]
values = {json.dumps(documents)}

[parameters]
"path.customer_id" = {{ dictionary = "customers", probability = {KNOWN_VALUES_PROBABILITY} }}
"body.payee" = {{ dictionary = "customers", probability = {KNOWN_VALUES_PROBABILITY} }}
"body.payer" = {{ dictionary = "payers", probability = {KNOWN_VALUES_PROBABILITY} }}
"body.document" = {{ dictionary = "documents", probability = {KNOWN_VALUES_PROBABILITY} }}
"""
    path = directory / "schemathesis.toml"
    path.write_text(CONFIG.read_text() + known)
    return path


def schemathesis(stack: Stack, config: Path, customer_token: str, *options: str) -> str:
    """The CLI as a new user runs it, plus a bounded size and a seed; its output, printed."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{stack.url}/openapi.json",
        "--checks",
        "all",
        "--mode",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--no-color",
        *options,
    ]
    environment = {**os.environ, "CUSTOMER_TOKEN": customer_token, "RAIL_TOKEN": stack.rail_token}
    started = time.monotonic()
    run = subprocess.run(  # its cache (.schemathesis/) stays in the run's own folder
        command, cwd=config.parent, env=environment, capture_output=True, text=True, timeout=420, check=False
    )
    print(
        run.stdout,
        run.stderr,
        f"schemathesis: exit {run.returncode} in {time.monotonic() - started:.0f} s",
        sep="\n",
    )
    assert run.returncode == 0, "schemathesis found failures: see its summary above"
    assert re.search(r"\d+ generated, \d+ passed", run.stdout), "schemathesis ran no test case"
    return run.stdout


def test_schemathesis_finds_nothing_the_spec_does_not_say(stack: Stack, tmp_path: Path) -> None:
    customer, payee = active_customer(stack, balance="1000.00"), active_customer(stack)
    config = run_config(tmp_path, customers=[customer.id, payee.id], payers=[customer.id])

    output = schemathesis(stack, config, customer.token)

    assert "Stateful" in output


def test_a_newcomers_registration_links_to_its_customer_balance_and_statement(
    stack: Stack, tmp_path: Path
) -> None:
    """The stateful phase alone, as a person who has not registered yet: its first valid
    registration is a 201, whose links the phase follows to data that exists."""
    config = run_config(tmp_path, customers=[str(uuid.uuid4())], payers=[str(uuid.uuid4())])

    output = schemathesis(stack, config, signed_in(stack), "--phases", "stateful")

    covered = re.search(r"API Links:\s+(\d+) covered", output)
    assert covered is not None and int(covered[1]) >= 3, output
