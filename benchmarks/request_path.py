"""Where one transfer's time goes, one client, one request at a time (no figure of its own).

The same transfer, sent sequentially, entering the system at each layer in turn:
- through the local gateway (what ``make run``'s clients use), and through a second instance
  of it with TCP_NODELAY set on its client connections (a one-line change measured here);
- straight to ministack's execute-api (API Gateway's emulation, no gateway);
- as a Lambda ``Invoke`` of send_money with an API Gateway v2 event (no HTTP API);
- the send_money handler called in a process of the benchmark's own, with the built
  function and layer on ``sys.path``, talking to the same ministack and authorizer stub (no
  Lambda plumbing at all: what the code itself costs, warm).
The differences between neighbours are what each layer adds. The last two carry, in the
event, the claims API Gateway's JWT authorizer would hand the function for the payer's ID
token (signed in once, with the population). Beside them, the requests the
handler makes, timed alone from one client: a strongly consistent GetItem, the three-item
TransactWriteItems, and the authorizer stub's GET.

The requests of one committed transfer are counted, not assumed: in the handler's process
by botocore's ``before-send`` hook on every session (each AWS request on the wire, retries
included), and by the authorizer stub's own count of the calls it answered meanwhile. The
handler's warm p50 over the p50s of those requests, timed alone, is what its Python costs
on top of waiting (``handler_vs_own_requests``): the two are timed in turn, ``ROUNDS`` times,
and the figure is the median round's. The sync's stream mappings stay paused while any of
this is timed (its work on the transfers sent here would load the machine under some timings
and not others); the pipeline catches up before and after.
"""

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Result, aws_client, summary_ms
from benchmarks.template import built, function_environment, layer_python_dir
from benchmarks.throughput import RawLedger, function_durations_ms
from benchmarks.wallet_api import WalletApi, gateway_claims
from devstack.authorizer_stub import AuthorizerStub
from devstack.config import ROOT, DevStack
from devstack.event_sources import mappings_paused, outbox_stream_mappings
from devstack.progress import Progress
from devstack.template import LAYER_TYPE, logical_ids
from devstack.wallet_client import Customer, Http

# One client, one request at a time: 40 per layer give stable p50s in seconds per layer;
# the first 5 of the in-process handler (imports, first connections) are not timed.
COUNT = 40
WARM_UP = 5
# The handler and its requests, timed in turn this many times: the ratio of each round, then
# their median (an odd count, so that the median is one round's, whose numbers are reported).
ROUNDS = 3
FUNCTION = "SendMoneyFunction"
EVENT = ROOT / "events" / "send_money.json"

_CHILD = """
import copy, json, os, sys, time, uuid, importlib
sys.path[:0] = json.loads(os.environ["BENCH_SYS_PATH"])
event, pairs = json.loads(os.environ["BENCH_EVENT"]), json.loads(os.environ["BENCH_PAIRS"])
# Every AWS request the handler sends, counted on the wire: botocore copies BUILTIN_HANDLERS
# into every session it builds (PynamoDB's and boto3's alike), so this hook is on all of them.
import botocore.handlers
sent = []
botocore.handlers.BUILTIN_HANDLERS.append(
    ("before-send", lambda event_name, **_: sent.append(".".join(event_name.split(".")[1:3])))
)
module = importlib.import_module("app")


class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + function_name
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "bench"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self):
        return 10000


def call(payer, payee):
    request = copy.deepcopy(event)
    request["headers"]["idempotency-key"] = str(uuid.uuid4())
    request["body"] = json.dumps({"payer": payer, "payee": payee, "value": "1.00"})
    trace = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
    os.environ["_X_AMZN_TRACE_ID"] = trace
    return module.lambda_handler(request, Context())["statusCode"]


timings, requests = [], []
for payer, payee in pairs:
    sent.clear()
    started = time.perf_counter()
    status = call(payer, payee)
    timings.append([status, time.perf_counter() - started])
    requests.append(list(sent))
# The same calls again under cProfile (slower): where the handler's time goes.
import cProfile, pstats
profiler = cProfile.Profile()
profiler.enable()
profiled = [call(payer, payee) for payer, payee in pairs]
profiler.disable()
own = [[file, line, name, stats[2]] for (file, line, name), stats in pstats.Stats(profiler).stats.items()]
with open(os.environ["BENCH_OUT"], "w") as out:
    json.dump({"timings": timings, "requests": requests, "profiled_statuses": profiled, "own_time": own}, out)
"""

# A request the handler sends -> the primitive that times it alone (``_primitives``).
PRIMITIVE_OF = {
    "dynamodb.GetItem": "get_item_consistent",
    "dynamodb.TransactWriteItems": "transact_write_items",
}

# Built-ins whose own time is time spent waiting for another process to answer.
_WAITING = ("recv", "send", "connect", "select", "poll", "sleep", "getaddrinfo", "accept")


def _signed_event(payer: Customer) -> dict[str, Any]:
    """The sample send_money event, as the gateway passes it for the payer's token."""
    event: dict[str, Any] = json.loads(EVENT.read_text())
    event["requestContext"]["authorizer"] = {"jwt": {"claims": gateway_claims(payer.token), "scopes": None}}
    return event


def _event(payer: Customer, payee: str) -> dict[str, Any]:
    event = _signed_event(payer)
    event["headers"]["idempotency-key"] = str(uuid.uuid4())
    event["body"] = json.dumps({"payer": payer.id, "payee": payee, "value": "1.00"})
    return event


def _through(api: WalletApi, payer: Customer, payee: Customer, count: int) -> list[float]:
    replies = [api.transfer(payer, payee.id) for _ in range(count)]
    failed = [reply.status for reply in replies if reply.status != 201]
    if failed:
        raise RuntimeError(f"transfers answered {failed}")
    return [reply.seconds for reply in replies]


def _invoked(
    api: WalletApi, endpoint: str, function_name: str, payer: Customer, payee: Customer
) -> list[float]:
    lambda_client = aws_client("lambda", endpoint)
    timings = []
    for _ in range(COUNT):
        payload = json.dumps(_event(payer, payee.id)).encode()
        started = time.perf_counter()
        answer = json.loads(
            lambda_client.invoke(FunctionName=function_name, Payload=payload)["Payload"].read()
        )
        timings.append(time.perf_counter() - started)
        if answer.get("statusCode") != 201:
            raise RuntimeError(f"invoke answered {answer}")
        api.owe_emails(2)
    return timings


@dataclass(frozen=True)
class InProcess:
    """The handler called warm in a process of the benchmark's own."""

    latencies: list[float]
    profile: dict[str, float]
    """Where its time goes by package (percent, profiled)."""
    aws_requests: dict[str, float]
    """AWS requests per transfer by ``service.Operation``, counted by botocore's before-send hook."""
    authorizer_calls: float
    """Authorization requests per transfer, counted by the authorizer stub."""
    transfers: int
    authorizer_connections: int
    """TCP connections the stub accepted over all the transfers (kept alive: one per process)."""


def _in_process(
    api: WalletApi,
    config: DevStack,
    outputs: dict[str, str],
    build_dir: Path,
    authorizer: AuthorizerStub,
    *,
    payer: Customer,
    payee: Customer,
) -> InProcess:
    layers = [str(layer_python_dir(build_dir, layer)) for layer in logical_ids(LAYER_TYPE)]
    environment = {
        **os.environ,
        **function_environment(FUNCTION),
        **config.aws_environment(),
        "CUSTOMERS_TABLE": outputs["CustomersTableName"],
        "LEDGER_TABLE": outputs["LedgerTableName"],
        "AUTHORIZER_URL": config.authorizer_url,
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "LAMBDA_TASK_ROOT": str(built(build_dir, FUNCTION)),
        "BENCH_SYS_PATH": json.dumps([str(built(build_dir, FUNCTION)), *layers]),
        "BENCH_EVENT": json.dumps(_signed_event(payer)),
        "BENCH_PAIRS": json.dumps([[payer.id, payee.id]] * (WARM_UP + COUNT)),
    }
    calls_before, connections_before = authorizer.calls, authorizer.connections
    with tempfile.TemporaryDirectory(prefix="bench-handler-") as scratch:
        out = Path(scratch) / "timings.json"
        environment["BENCH_OUT"] = str(out)
        subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CHILD], env=environment, cwd=scratch, capture_output=True, check=True
        )
        measured: dict[str, Any] = json.loads(out.read_text())
    # Nothing else asks the authorizer meanwhile: the pipeline never does, and no client is sending.
    calls, connections = authorizer.calls - calls_before, authorizer.connections - connections_before
    timings: list[list[float]] = measured["timings"]
    statuses = [int(status) for status, _ in timings] + [
        int(status) for status in measured["profiled_statuses"]
    ]
    if any(status != 201 for status in statuses):
        raise RuntimeError(f"the handler answered {statuses}")
    api.owe_emails(2 * len(statuses))
    timed: list[list[str]] = measured["requests"][WARM_UP:]
    return InProcess(
        latencies=[seconds for _, seconds in timings[WARM_UP:]],
        profile=_by_package(measured["own_time"], build_dir),
        aws_requests={
            operation: round(count / len(timed), 3)
            for operation, count in sorted(Counter(op for one in timed for op in one).items())
        },
        authorizer_calls=round(calls / len(statuses), 3),
        transfers=len(statuses),
        authorizer_connections=connections,
    )


@dataclass(frozen=True)
class HandlerRound:
    """The handler in a process of its own, then the requests it makes, each timed alone."""

    handler: InProcess
    primitives: dict[str, Any]

    @property
    def handler_p50_ms(self) -> float:
        return float(summary_ms(self.handler.latencies)["p50_ms"])

    @property
    def requests_ms(self) -> float:
        """What the handler's requests of one transfer take, at their p50s timed alone."""
        return float(
            sum(
                count * self.primitives[PRIMITIVE_OF[operation]]["p50_ms"]
                for operation, count in self.handler.aws_requests.items()
                if operation in PRIMITIVE_OF
            )
            + self.handler.authorizer_calls * self.primitives["authorizer_get"]["p50_ms"]
        )

    @property
    def ratio(self) -> float:
        return self.handler_p50_ms / self.requests_ms


def _by_package(own_time: list[list[Any]], build_dir: Path) -> dict[str, float]:
    """Share of the handler's time (profiled) per top-level package, waiting on I/O apart."""
    totals: dict[str, float] = defaultdict(float)
    for file, _line, name, seconds in own_time:
        totals[_package_of(str(file), str(name), build_dir)] += float(seconds)
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return {
        package: round(100 * seconds / whole, 1) for package, seconds in ranked if seconds / whole >= 0.005
    }


def _package_of(file: str, name: str, build_dir: Path) -> str:
    if file == "~":  # a built-in function or method
        return "waiting on sockets (I/O)" if any(word in name for word in _WAITING) else "built-ins (C)"
    path = Path(file)
    for root in (*(layer_python_dir(build_dir, layer) for layer in logical_ids(LAYER_TYPE)), build_dir):
        if path.is_relative_to(root):
            return path.relative_to(root).parts[0].removesuffix(".py")
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    standard_library = Path(sysconfig.get_paths()["stdlib"])
    if path.is_relative_to(standard_library):
        return f"standard library: {path.relative_to(standard_library).parts[0].removesuffix('.py')}"
    return "other"


def _primitives(
    endpoint: str, outputs: dict[str, str], authorizer_url: str, payer: Customer
) -> dict[str, Any]:
    dynamodb = aws_client("dynamodb", endpoint)
    key = {"pk": {"S": f"ACCOUNT#{payer.id}"}, "sk": {"S": "ACCOUNT"}}
    reads = []
    for _ in range(COUNT):
        started = time.perf_counter()
        dynamodb.get_item(TableName=outputs["LedgerTableName"], Key=key, ConsistentRead=True)
        reads.append(time.perf_counter() - started)
    authorizer = Http(authorizer_url)
    asks = [authorizer.call("GET", "/").seconds for _ in range(COUNT)]
    authorizer.close()
    with RawLedger(endpoint) as raw:
        payers, payees = raw.open_accounts(1), raw.open_accounts(1)
        writes = raw.transfers([(payers[0], payees[0])] * COUNT, clients=1)
    return {
        "get_item_consistent": summary_ms(reads),
        "transact_write_items": writes.latency,
        "authorizer_get": summary_ms(asks),
    }


def run(
    api: WalletApi,
    direct_url: str,
    config: DevStack,
    outputs: dict[str, str],
    build_dir: Path,
    *,
    payer: Customer,
    payee: Customer,
    authorizer: AuthorizerStub,
    progress: Progress,
) -> Result:
    progress(
        f"  one transfer at a time, {COUNT} each: gateway, execute-api, Lambda Invoke, handler in a process"
    )
    api.drain()
    function_name = outputs[f"{FUNCTION.removesuffix('Function')}FunctionName"]
    reported: dict[str, dict[str, float]] = {}

    def timed(name: str, measure: Callable[[], list[float]]) -> dict[str, float]:
        """Client-side latencies, and ministack's REPORT durations of send_money meanwhile."""
        started_at = time.time()
        latencies = measure()
        durations = function_durations_ms(config.endpoint, function_name, started_at, time.time())
        reported[name] = summary_ms([duration / 1000 for duration in durations]) if durations else {}
        return summary_ms(latencies)

    # The sync paused throughout (the pipeline caught up first): its work on the transfers sent
    # here would otherwise share the cores with some of the timings and not with others.
    lambda_client = aws_client("lambda", config.endpoint)
    rounds = []
    with mappings_paused(lambda_client, outbox_stream_mappings(lambda_client, outputs)):
        layers = {"via_gateway": timed("via_gateway", lambda: _through(api, payer, payee, COUNT))}
        direct = api.with_url(direct_url)
        try:
            layers["via_execute_api"] = timed(
                "via_execute_api", lambda: _through(direct, payer, payee, COUNT)
            )
        finally:
            direct.close()
        layers["lambda_invoke"] = timed(
            "lambda_invoke", lambda: _invoked(api, config.endpoint, function_name, payer, payee)
        )
        for _ in range(ROUNDS):
            handler = _in_process(api, config, outputs, build_dir, authorizer, payer=payer, payee=payee)
            primitives = _primitives(config.endpoint, outputs, config.authorizer_url, payer)
            rounds.append(HandlerRound(handler, primitives))
    api.drain()
    median_round = sorted(rounds, key=lambda one: one.ratio)[ROUNDS // 2]  # ROUNDS is odd
    handler, primitives = median_round.handler, median_round.primitives
    layers["handler_in_process"] = summary_ms(handler.latencies)
    p50 = {name: summary["p50_ms"] for name, summary in layers.items()}
    untimed = sorted(set(handler.aws_requests) - set(PRIMITIVE_OF))
    handler_io = median_round.requests_ms
    result = Result()
    result.raw = {
        "count": COUNT,
        "layers": layers,
        "send_money_report_duration": reported,
        "handler_profile_percent": handler.profile,
        "handler_rounds_count": ROUNDS,
        "handler_rounds": [
            {"handler_p50_ms": round(one.handler_p50_ms, 1), "requests_ms": round(one.requests_ms, 1)}
            for one in rounds
        ],
        "primitives": primitives,
        "requests_per_transfer": {
            **handler.aws_requests,
            "authorizer.GET": handler.authorizer_calls,
        },
        "in_process_transfers": handler.transfers,
        "authorizer_connections": handler.authorizer_connections,
        "requests_without_a_timing": untimed,
        "p50_added_ms": {
            "gateway": round(p50["via_gateway"] - p50["via_execute_api"], 1),
            "execute_api": round(p50["via_execute_api"] - p50["lambda_invoke"], 1),
            "lambda_invoke_plumbing": round(p50["lambda_invoke"] - p50["handler_in_process"], 1),
            # Of that plumbing: inside the Duration ministack reports (worker pipe, stderr drain)
            # and around it (the Invoke API call itself).
            "invoke_inside_report_duration": round(
                reported["lambda_invoke"].get("p50_ms", 0.0) - p50["handler_in_process"], 1
            ),
            "invoke_around_report_duration": round(
                p50["lambda_invoke"] - reported["lambda_invoke"].get("p50_ms", 0.0), 1
            ),
            "handler": p50["handler_in_process"],
            "handler_requests": round(handler_io, 1),
            "handler_python": round(p50["handler_in_process"] - handler_io, 1),
        },
    }
    result.figures["round_trips_per_transfer"] = round(
        sum(handler.aws_requests.values()) + handler.authorizer_calls, 3
    )
    if not untimed:  # a request with no timing of its own alone would make the ratio a guess
        result.figures["handler_vs_own_requests"] = round(median_round.ratio, 2)
    progress(f"  p50 ms: {p50}; added by each layer: {result.raw['p50_added_ms']}")
    progress(f"  requests per transfer: {result.raw['requests_per_transfer']}")
    return result
