"""``transfer_api_vs_raw``: committed transfers per second through the API, over raw TransactWriteItems.

The API side: 8 clients (threads, each with its own keep-alive HTTP connection) send
``POST /transfers`` (with an Idempotency-Key, as a careful client does) until a fixed count
has been sent; only 201s count. Payers and payees are drawn at random from funded pools.
The requests go through the local pass-through gateway (``make run``'s port 3000); the same
run straight to ministack's execute-api shows what that hop costs. While they run, the
event pipeline (sync, SNS, SQS, notify, SES) works through the transfers on the same cores,
as it would on a machine serving real traffic; before each timed run it has caught up.

The baseline: the same count of three-item TransactWriteItems (debit with
``attribute_exists(pk) AND balance >= :amount``, credit with ``attribute_exists(pk)``, the
transaction carrying its event with ``attribute_not_exists(pk)``: the app's own write),
sent with boto3 by 8 threads straight to the same ministack, on a scratch table created
from the template's ledger table definition (same keys, index and stream).

``pipeline_vs_api``: in each run through the gateway, the transfers per second the pipeline
completed (its e-mails in the SES inbox, from the run's first to its last) over the
transfers per second the API committed. Every kind of run (raw, gateway, execute-api) is
taken ``REPEATS`` times, in turn; each figure is the median.
"""

import json
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import Pool, Result, aws_client, run_concurrently, summary_ms
from benchmarks.wallet_api import WalletApi
from devstack.logs import REPORT
from devstack.progress import Progress
from devstack.template import create_table_request
from devstack.wallet_client import Customer

# 8 clients: enough concurrent requests to keep the machine's cores busy while each waits
# on I/O, the same as the reliability suite's load; 480 transfers are 60 per client, a run
# long enough that its start and end weigh little in the rate.
CLIENTS = 8
COUNT = 480
# Each kind of run, the raw baseline included, this many times; the median counts.
REPEATS = 3


@dataclass(frozen=True)
class Measured:
    """One timed run: what was sent, what committed, how fast, how long each took."""

    sent: int
    seconds: float
    statuses: dict[str, int]
    committed_seconds: list[float]
    """How long each committed transfer took, client side."""
    started_at: float
    ended_at: float

    @property
    def committed(self) -> int:
        return len(self.committed_seconds)

    @property
    def per_second(self) -> float:
        return self.committed / self.seconds

    @property
    def latency(self) -> dict[str, float]:
        return summary_ms(self.committed_seconds) if self.committed_seconds else {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "committed": self.committed,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "statuses": self.statuses,
            "latency": self.latency,
        }


# ---------------------------------------------------------------------------- through the API


def api_transfers(
    api: WalletApi, pairs: Sequence[tuple[Customer, str]], clients: int = CLIENTS, value: str = "1.00"
) -> Measured:
    """Each pair is (the payer, whose token the transfer carries; the payee's id)."""
    started_at = time.time()
    run = run_concurrently(pairs, clients, lambda pair: api.transfer(pair[0], pair[1], value))
    ended_at = time.time()
    statuses = Counter(str(reply.status) for reply in run.results)
    committed = [reply.seconds for reply in run.results if reply.status == 201]
    return Measured(len(pairs), run.seconds, dict(statuses), committed, started_at, ended_at)


def spread_pairs(
    payers: Sequence[Customer], payees: Sequence[Customer], count: int
) -> list[tuple[Customer, str]]:
    return [(random.choice(payers), random.choice(payees).id) for _ in range(count)]


def function_durations_ms(
    endpoint: str, function_name: str, started_at: float, ended_at: float
) -> list[float]:
    """The REPORT durations of a function's invocations in a time window (CloudWatch Logs)."""
    logs = aws_client("logs", endpoint)
    durations: list[float] = []
    arguments: dict[str, Any] = {
        "logGroupName": f"/aws/lambda/{function_name}",
        "startTime": int(started_at * 1000),
        "endTime": int(ended_at * 1000) + 1,
    }
    while True:
        page = logs.filter_log_events(**arguments)
        for event in page.get("events", []):
            report = REPORT.search(event["message"])
            if report:
                durations.append(float(report["duration"]))
        token = page.get("nextToken")
        if not token or not page.get("events"):
            return durations
        arguments["nextToken"] = token


# ---------------------------------------------------------------------------- the raw baseline


class RawLedger:
    """A scratch table shaped like the ledger table, written with the app's three-item transaction."""

    def __init__(self, endpoint: str) -> None:
        self.table = f"bench-raw-ledger-{uuid.uuid4().hex[:8]}"
        self._admin = aws_client("dynamodb", endpoint)
        # No retries: a failed transaction counts as failed, as a non-201 does on the API side.
        self._clients = Pool(lambda: aws_client("dynamodb", endpoint, pool=2, attempts=1))

    def __enter__(self) -> "RawLedger":
        self._admin.create_table(**create_table_request("LedgerTable", self.table))
        self._admin.get_waiter("table_exists").wait(TableName=self.table)
        return self

    def __exit__(self, *_: object) -> None:
        self._admin.delete_table(TableName=self.table)

    def open_accounts(self, count: int, customer_type: str = "individual") -> list[str]:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        now = datetime.now(UTC).isoformat()
        for customer_id in ids:
            self._admin.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"ACCOUNT#{customer_id}"},
                    "sk": {"S": "ACCOUNT"},
                    "entity": {"S": "account"},
                    "customer_type": {"S": customer_type},
                    "balance": {"N": "100000000000"},
                    "opened_at": {"S": now},
                },
            )
        return ids

    def transfer(self, payer: str, payee: str, amount: int = 100) -> bool:
        items = self._items(payer, payee, amount)
        with self._clients.borrow() as client:
            try:
                client.transact_write_items(TransactItems=items)
            except Exception:  # a failed write is counted, not raised
                return False
        return True

    def _items(self, payer: str, payee: str, amount: int) -> list[dict[str, Any]]:
        transaction_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        payload = json.dumps(
            {
                "event_id": event_id,
                "event_type": "TransactionCreated",
                "version": 1,
                "occurred_at": now,
                "transaction_id": transaction_id,
                "kind": "transfer",
                "payer_id": payer,
                "payee_id": payee,
                "amount": amount,
            }
        )
        table, amount_value = self.table, {"N": str(amount)}

        def account(customer_id: str) -> dict[str, Any]:
            return {"pk": {"S": f"ACCOUNT#{customer_id}"}, "sk": {"S": "ACCOUNT"}}

        return [
            {
                "Update": {
                    "TableName": table,
                    "Key": account(payer),
                    "UpdateExpression": "ADD balance :debit",
                    "ConditionExpression": "attribute_exists(pk) AND balance >= :amount",
                    "ExpressionAttributeValues": {":debit": {"N": str(-amount)}, ":amount": amount_value},
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": account(payee),
                    "UpdateExpression": "ADD balance :credit",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":credit": amount_value},
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "pk": {"S": f"TRANSACTION#{transaction_id}"},
                        "sk": {"S": "TRANSACTION"},
                        "entity": {"S": "transaction"},
                        "kind": {"S": "transfer"},
                        "payer_id": {"S": payer},
                        "payee_id": {"S": payee},
                        "amount": amount_value,
                        "status": {"S": "completed"},
                        "created_at": {"S": now},
                        "request_fingerprint": {"S": uuid.uuid4().hex * 2},
                        "event_id": {"S": event_id},
                        "payload": {"S": payload},
                        "pending_kind": {"S": "outbox"},
                        "pending_since": {"S": now},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]

    def transfers(self, pairs: Sequence[tuple[str, str]], clients: int = CLIENTS) -> Measured:
        def one(pair: tuple[str, str]) -> tuple[bool, float]:
            started = time.perf_counter()
            return self.transfer(*pair), time.perf_counter() - started

        self._clients.prefill(clients)
        started_at = time.time()
        run = run_concurrently(pairs, clients, one)
        ended_at = time.time()
        committed = [seconds for ok, seconds in run.results if ok]
        statuses = {"ok": len(committed), "failed": len(pairs) - len(committed)}
        return Measured(len(pairs), run.seconds, statuses, committed, started_at, ended_at)


def median_run(runs: Sequence[Measured]) -> Measured:
    middle = statistics.median_low([run.per_second for run in runs])
    return next(run for run in runs if run.per_second == middle)


# ---------------------------------------------------------------------------- the benchmark


@dataclass(frozen=True)
class ApiRun:
    """One timed API run and the pipeline behind it, caught up before the next run starts."""

    measured: Measured
    caught_up_at: float
    pipeline_per_second: float
    """Transfers the pipeline completed per second: the run's committed transfers over the time
    from its first e-mail to its last (the API's rate is over the time from its first request
    to its last answer)."""

    @property
    def pipeline_vs_api(self) -> float:
        return self.pipeline_per_second / self.measured.per_second


def pipeline_completed_per_second(api: WalletApi, run: Measured, caught_up_at: float) -> float:
    stamps = [
        float(message["Timestamp"])
        for message in api.emails()
        if run.started_at <= float(message["Timestamp"]) <= caught_up_at
    ]
    span = max(stamps) - min(stamps) if len(stamps) > 1 else 0.0
    return run.committed / span if span else 0.0


def _api_run(api: WalletApi, pairs: Sequence[tuple[Customer, str]]) -> ApiRun:
    measured = api_transfers(api, pairs)
    api.drain()
    caught_up_at = time.time()
    return ApiRun(measured, caught_up_at, pipeline_completed_per_second(api, measured, caught_up_at))


def _median_api_run(runs: Sequence[ApiRun]) -> ApiRun:
    middle = median_run([run.measured for run in runs])
    return next(run for run in runs if run.measured is middle)


def run(
    api: WalletApi,
    direct_url: str,
    endpoint: str,
    outputs: dict[str, str],
    *,
    payers: Sequence[Customer],
    payees: Sequence[Customer],
    progress: Progress,
    count: int = COUNT,
    notify_concurrency: int,
) -> Result:
    direct_api = api.with_url(direct_url)
    gateway_runs: list[ApiRun] = []
    direct_runs: list[ApiRun] = []
    raw_runs: list[Measured] = []
    try:
        with RawLedger(endpoint) as raw:
            raw_payers, raw_payees = raw.open_accounts(len(payers)), raw.open_accounts(len(payees))
            # Taken in turn, so that a slower moment of the machine weighs on every side alike.
            for repeat in range(REPEATS):
                progress(
                    f"  round {repeat + 1} of {REPEATS}: {count} raw, via the gateway, straight to execute-api"
                )
                raw_runs.append(
                    raw.transfers(
                        [(random.choice(raw_payers), random.choice(raw_payees)) for _ in range(count)]
                    )
                )
                gateway_runs.append(_api_run(api, spread_pairs(payers, payees, count)))
                direct_runs.append(_api_run(direct_api, spread_pairs(payers, payees, count)))
    finally:
        direct_api.close()
    baseline, gateway, direct = (
        median_run(raw_runs),
        _median_api_run(gateway_runs),
        _median_api_run(direct_runs),
    )
    durations = function_durations_ms(
        endpoint, outputs["SendMoneyFunctionName"], gateway.measured.started_at, gateway.measured.ended_at
    )
    result = Result()
    result.figures["transfer_api_vs_raw"] = round(gateway.measured.per_second / baseline.per_second, 4)
    result.figures["transfer_api_per_s"] = round(gateway.measured.per_second, 1)
    result.figures["transfer_raw_per_s"] = round(baseline.per_second, 1)
    result.figures["transfer_api_direct_vs_raw"] = round(direct.measured.per_second / baseline.per_second, 4)
    result.figures["pipeline_vs_api"] = round(
        statistics.median(one.pipeline_vs_api for one in gateway_runs), 3
    )
    result.raw = {
        "clients": CLIENTS,
        "count": count,
        "repeats": REPEATS,
        "api_via_gateway": gateway.measured.as_dict(),
        "api_direct_execute_api": direct.measured.as_dict(),
        "api_via_gateway_runs_per_s": [round(one.measured.per_second, 1) for one in gateway_runs],
        "api_direct_runs_per_s": [round(one.measured.per_second, 1) for one in direct_runs],
        "raw_runs": [raw_run.as_dict() for raw_run in raw_runs],
        "raw_runs_per_s": [round(raw_run.per_second, 1) for raw_run in raw_runs],
        "raw_median": baseline.as_dict(),
        "send_money_duration_ms": summary_ms([d / 1000 for d in durations]) if durations else {},
        "pipeline_per_s_gateway_runs": [round(one.pipeline_per_second, 1) for one in gateway_runs],
        "pipeline_vs_api_gateway_runs": [round(one.pipeline_vs_api, 3) for one in gateway_runs],
        "notify_concurrency": notify_concurrency,
        # When the last e-mail of the median run was in the inbox, after its last 201 (polled every 0.5 s).
        "pipeline_lag_after_gateway_run_s": round(gateway.caught_up_at - gateway.measured.ended_at, 1),
        "pipeline_lag_after_direct_run_s": round(direct.caught_up_at - direct.measured.ended_at, 1),
    }
    progress(
        f"  API {gateway.measured.per_second:.1f}/s (direct {direct.measured.per_second:.1f}/s), "
        f"raw {baseline.per_second:.1f}/s, pipeline {gateway.pipeline_per_second:.1f}/s; API p50 "
        f"{gateway.measured.latency.get('p50_ms')} ms, send_money p50 "
        f"{result.raw['send_money_duration_ms'].get('p50_ms')} ms inside the function"
    )
    return result
