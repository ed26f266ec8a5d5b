"""schemathesis against the deployed API's own ``/openapi.json`` (OpenAPI 3.1, made by Powertools).

Every operation of the spec is fuzzed over HTTP through the local API gateway, with data
that fits the spec (positive) and data that does not (negative), once with random ids
(mostly 404s) and once with ids that exist (a funded customer, a payee, a transfer), so
that the success paths are reached too (registrations get a valid CPF and a person of their
own). Every request carries a valid token, so that it passes API Gateway's JWT authorizer and
reaches the function: the known payer's ID token, the payment rail's access token for
deposits, and for each registration with known parties a person freshly signed in (all
signed in before the fuzzing starts). Each response goes through schemathesis' checks:
``not_a_server_error`` (no 5xx) and conformance (the status code, content type, body
schema and headers are those the spec documents). One fuzzing pass feeds every test below.
"""

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, CheckFunction, GenerationMode
from schemathesis import Case as AnyCase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack.documents import new_cpf
from devstack.wallet_client import Http, bearer, wait_until_active
from tests.reliability import figures
from tests.reliability.client import Identities, register
from tests.reliability.conftest import Deployed
from tests.reliability.suite_sizes import SIZES

Case = AnyCase[Any]

pytestmark = [pytest.mark.stack, pytest.mark.timeout(SIZES.stack_test_timeout_seconds)]

OPERATIONS = (
    "POST /customers",
    "GET /customers/me",
    "GET /customers/{customer_id}",
    "GET /customers/{customer_id}/balance",
    "GET /customers/{customer_id}/transactions",
    "POST /customers/{customer_id}/deposits",
    "POST /transfers",
    "GET /transfers/{transaction_id}",
)
CONFORMANCE: tuple[CheckFunction, ...] = (
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
)
# Failing examples kept per check for the report: enough to see a pattern, short to read.
_EXAMPLES_KEPT = 3


DEPOSITS = "/customers/{customer_id}/deposits"


@dataclass(frozen=True)
class Known:
    """Ids that exist, so that fuzzed requests reach the success paths, and the tokens that
    may use them: the payer's (it owns them) and the payment rail's."""

    payer: str
    payee: str
    transaction: str
    payer_token: str
    rail_token: str

    def path_parameters(self, path: str) -> dict[str, str]:
        parameters = {"customer_id": self.payer, "transaction_id": self.transaction}
        return {name: value for name, value in parameters.items() if "{" + name + "}" in path}

    def token_for(self, path: str) -> str:
        return self.rail_token if path == DEPOSITS else self.payer_token


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(bearer(self.token))
        return request


@dataclass
class People:
    """People signed in ahead, each to register once; more are signed in if they run out."""

    identities: Identities
    ready: list[str] = field(default_factory=list)
    late: int = 0

    def sign_in(self, count: int) -> "People":
        self.ready.extend(self.identities.person("fuzz")[1] for _ in range(count))
        return self

    def take(self) -> str:
        if self.ready:
            return self.ready.pop()
        self.late += 1
        return self.identities.person("fuzz")[1]


@dataclass(frozen=True)
class Finding:
    check: str
    status: int
    request: str
    response: str
    message: str


@dataclass
class Report:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Finding]] = field(default_factory=dict)

    def keep(self, finding: Finding) -> None:
        self.failures[finding.check] += 1
        kept = self.examples.setdefault(finding.check, [])
        if len(kept) < _EXAMPLES_KEPT:
            kept.append(finding)

    def failed(self, checks: tuple[CheckFunction, ...]) -> dict[str, list[Finding]]:
        names = {check.__name__ for check in checks}
        return {name: found for name, found in self.examples.items() if name in names}


def known_ids(http: Http, identities: Identities) -> Known:
    payer, payee = register(http, identities, "individual"), register(http, identities, "individual")
    wait_until_active(http, [payer, payee], 60)
    rail = identities.rail_token
    funded = http.post(
        f"/customers/{payer.id}/deposits",
        {"amount": "100000.00"},
        rail,
        {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert funded.status == 201, funded
    sent = http.post("/transfers", {"payer": payer.id, "payee": payee.id, "value": "1.00"}, payer.token)
    assert sent.status == 201, sent
    return Known(payer.id, payee.id, sent.body["id"], payer.token, rail)


def registrations_with_known_parties(examples: int) -> int:
    """How many registrations ``fuzz_operation`` sends with a person of their own, at most
    (explicit examples of the spec aside)."""
    return examples + max(1, examples // 2)


def check_response(case: Case, response: Any, report: Report) -> None:
    report.requests += 1
    report.statuses[response.status_code] += 1
    for check in (not_a_server_error, *CONFORMANCE):
        try:
            case.validate_response(response, checks=[check])
        except (Failure, FailureGroup) as failure:
            report.keep(
                Finding(
                    check.__name__,
                    response.status_code,
                    case.as_curl_command(),
                    response.text[:300],
                    str(failure)[:600],
                )
            )


def run_cases(strategy: SearchStrategy[Case], examples: int, send: Callable[[Case], None]) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def fuzz(case: Case) -> None:
        send(case)

    # Unsatisfiable: e.g. negative data for an operation whose only input was fixed to a known id.
    with contextlib.suppress(Unsatisfiable):
        fuzz()


def with_known_parties(case: Case, known: Known) -> Case:
    """Transfers between the known customers; registrations with a valid, unused CPF (the
    e-mail is the token's)."""
    if not isinstance(case.body, dict):
        return case
    if case.path == "/transfers":
        case.body = {**case.body, "payer": known.payer, "payee": known.payee}
    elif case.path == "/customers":
        case.body = {**case.body, "document": new_cpf()}
    return case


def fuzz_operation(
    operation: APIOperation[Any, Any, Any, Any],
    base_url: str,
    known: Known,
    people: People,
    session: requests.Session,
) -> Report:
    """The generated token is replaced by a valid one: the known payer's (a registration with
    known parties: a new person's), or the rail's for deposits. It goes as the session's auth,
    which requests applies last: a negative case that dropped the header gets it back too."""
    report = Report()

    def sender(token: Callable[[], str]) -> Callable[[Case], None]:
        def send(case: Case) -> None:
            session.auth = Bearer(token())
            check_response(case, case.call(base_url=base_url, session=session), report)

        return send

    own = sender(lambda: known.token_for(operation.path))
    fixed = known.path_parameters(operation.path)
    takes_ids = bool(fixed) or operation.path in {"/transfers", "/customers"}
    with_known = sender(people.take) if operation.path == "/customers" else own
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        examples = (
            SIZES.fuzz_examples if mode is GenerationMode.POSITIVE else max(1, SIZES.fuzz_examples // 2)
        )
        run_cases(operation.as_strategy(generation_mode=mode), examples, own)
        if takes_ids:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
            run_cases(strategy.map(lambda case: with_known_parties(case, known)), examples, with_known)
    return report


@pytest.fixture(scope="module")
def known(deployed: Deployed) -> Known:
    return known_ids(deployed.http, deployed.identities)


@pytest.fixture(scope="module")
def fuzzed(deployed: Deployed, known: Known) -> dict[str, Report]:
    base_url = deployed.http.base_url
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    people = People(deployed.identities).sign_in(registrations_with_known_parties(SIZES.fuzz_examples))
    started = time.monotonic()
    reports: dict[str, Report] = {}
    with requests.Session() as session:
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result
            operation = result.ok()
            reports[f"{operation.method.upper()} {operation.path}"] = fuzz_operation(
                operation, base_url, known, people, session
            )
    seconds = time.monotonic() - started
    figures.record(
        "api_fuzzing",
        schemathesis=schemathesis.__version__,
        requests=sum(r.requests for r in reports.values()),
        seconds=round(seconds, 1),
        requests_per_operation={label: r.requests for label, r in reports.items()},
        statuses={label: dict(sorted(r.statuses.items())) for label, r in reports.items()},
        failing_checks={label: dict(r.failures) for label, r in reports.items() if r.failures},
        people_signed_in_on_the_spot=people.late,
    )
    return reports


def describe(found: dict[str, list[Finding]]) -> str:
    return "\n".join(
        f"{check}: [{f.status}] {f.request}\n    -> {f.response}\n    {f.message}"
        for check, findings in found.items()
        for f in findings
    )


def test_the_fuzzer_covered_every_operation_of_the_spec(fuzzed: dict[str, Report]) -> None:
    assert sorted(fuzzed) == sorted(OPERATIONS)


def test_the_fuzzer_sent_enough_requests(fuzzed: dict[str, Report]) -> None:
    assert sum(r.requests for r in fuzzed.values()) >= SIZES.fuzz_requests_at_least


def test_every_request_passed_the_gateways_jwt_authorizer(fuzzed: dict[str, Report]) -> None:
    """A valid token went with each: none was turned away (401) before reaching its function."""
    refused = {label: r.statuses[401] for label, r in fuzzed.items() if r.statuses[401]}
    assert not refused, refused


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_generated_request_gets_a_server_error(fuzzed: dict[str, Report], operation: str) -> None:
    found = fuzzed[operation].failed((not_a_server_error,))
    assert not found, describe(found)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_response_is_one_the_spec_documents(fuzzed: dict[str, Report], operation: str) -> None:
    found = fuzzed[operation].failed(CONFORMANCE)
    assert not found, describe(found)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def test_a_method_outside_the_spec_is_a_4xx_not_a_server_error(
    deployed: Deployed, known: Known, method: str
) -> None:
    """What schemathesis' CLI coverage phase (``st run``) sends besides the documented operations
    (with a customer's token: it reaches the function)."""
    answer = deployed.http.call(method, "/transfers", token=known.payer_token)
    assert 400 <= answer.status < 500, answer
