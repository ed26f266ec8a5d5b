"""``usd_per_million_transfers``: what a million transfers would cost on AWS, service by service.

Every quantity is counted or measured in the write cost benchmark's window (transfers sent
one after another, then everything they cause left to finish), divided by its transfers:
- API Gateway: the HTTP API requests the benchmark sent (one ``POST /transfers`` each);
- Lambda: the invocations of every function (their REPORT lines in CloudWatch Logs) and
  their GB-seconds (each REPORT's duration, rounded up to the millisecond as Lambda bills
  it, times the memory template.yaml gives the function);
- DynamoDB: write units as ``write_cost`` measures them from the tables' streams; read
  requests as the functions' X-Ray SDK reports them (``devstack.xray_daemon``), each at one
  read unit (every item read is under 4 KB; an eventually consistent read costs half);
- SNS: the publish requests the functions made (X-Ray), each message under 64 KB;
- SQS: one request per message SNS delivers to the queue (as many as e-mails sent), and a
  ReceiveMessage and a DeleteMessageBatch per batch notify is invoked with. The mapping's
  empty long polls are a fixed cost by the hour, not per transfer, and left out;
- SES: the e-mails in ministack's SES inbox;
- CloudWatch Logs: the bytes of every log event of every function (26 bytes each on top,
  as CloudWatch Logs sizes an event).
At ``PRICES``: AWS's published us-east-1 list prices, beyond any free tier, with the date
they were read (``PRICES_AS_OF``); write_cost takes DynamoDB's from the same table.
"""

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Result, aws_client
from benchmarks.wallet_api import WalletApi
from devstack.logs import REPORT
from devstack.progress import Progress
from devstack.template import FUNCTION_TYPE, logical_ids, template_document
from devstack.xray_daemon import XRayCounter

# No pricing page was read for this: the list prices as this table's writer knew them in 2025.
PRICES_AS_OF = (
    "us-east-1 list prices as known in 2025, from AWS's pricing pages; not re-read since, "
    "so check them before quoting"
)


@dataclass(frozen=True)
class Price:
    usd: float
    per: str


PRICES: dict[str, Price] = {
    "api_gateway_requests": Price(1.00 / 1_000_000, "HTTP API request (first 300 million a month)"),
    "lambda_requests": Price(0.20 / 1_000_000, "Lambda request"),
    "lambda_gb_seconds": Price(0.0000166667, "Lambda GB-second (x86)"),
    "dynamodb_write_units": Price(0.625 / 1_000_000, "DynamoDB on-demand write request unit"),
    "dynamodb_read_units": Price(0.125 / 1_000_000, "DynamoDB on-demand read request unit"),
    "dynamodb_storage_gb_month": Price(0.25, "GB-month of DynamoDB storage (Standard table class)"),
    "sns_requests": Price(0.50 / 1_000_000, "SNS publish request (standard topic; delivery to SQS free)"),
    "sqs_requests": Price(0.40 / 1_000_000, "SQS request (standard queue)"),
    "ses_emails": Price(0.10 / 1_000, "SES e-mail sent"),
    "logs_gb": Price(0.50, "GB of CloudWatch Logs ingested (standard class)"),
}
# Reads billed one unit a request (every item here is under 4 KB).
SINGLE_READS = ("GetItem", "Query", "Scan")
# A BatchGetItem bills each key it asks. notify's, once per batch, asks per e-mail its
# statement entry and the two profiles it names: about 3 (a profile two e-mails of a batch
# name is asked once; a duplicate or a forged message, not e-mailed, is read too).
KEYS_READ_PER_EMAIL = 3
PUBLISHES = ("Publish", "PublishBatch")
# CloudWatch Logs counts each event's message plus 26 bytes (PutLogEvents' batch size rule).
LOG_EVENT_OVERHEAD_BYTES = 26
NOTIFY = "NotifyFunction"


@dataclass(frozen=True)
class Window:
    """What the write cost benchmark sent, and when."""

    transfers: int
    started_at: float
    ended_at: float


def deployed_functions(endpoint: str, stack_name: str) -> dict[str, str]:
    """Each of the template's functions, by logical id -> its deployed name."""
    resources = aws_client("cloudformation", endpoint).describe_stack_resources(StackName=stack_name)
    ours = set(logical_ids(FUNCTION_TYPE))
    return {
        resource["LogicalResourceId"]: resource["PhysicalResourceId"]
        for resource in resources["StackResources"]
        if resource["LogicalResourceId"] in ours
    }


def memory_mb(logical_id: str) -> int:
    template = template_document()
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return int(template["Resources"][logical_id]["Properties"].get("MemorySize", default))


@dataclass(frozen=True)
class FunctionUse:
    invocations: int
    billed_ms: int
    log_bytes: int


def _function_use(logs: Any, function_name: str, window: Window) -> FunctionUse:
    invocations = billed_ms = log_bytes = 0
    arguments: dict[str, Any] = {
        "logGroupName": f"/aws/lambda/{function_name}",
        "startTime": int(window.started_at * 1000),
        "endTime": int(window.ended_at * 1000) + 1,
    }
    while True:
        try:
            page = logs.filter_log_events(**arguments)
        except logs.exceptions.ResourceNotFoundException:  # never invoked: no log group
            return FunctionUse(0, 0, 0)
        for event in page.get("events", []):
            log_bytes += len(event["message"].encode()) + LOG_EVENT_OVERHEAD_BYTES
            report = REPORT.search(event["message"])
            if report:
                invocations += 1
                billed_ms += math.ceil(float(report["duration"]))
        token = page.get("nextToken")
        if not token or not page.get("events"):
            return FunctionUse(invocations, billed_ms, log_bytes)
        arguments["nextToken"] = token


def _emails_in(api: WalletApi, window: Window) -> int:
    return sum(
        1 for message in api.emails() if window.started_at <= float(message["Timestamp"]) <= window.ended_at
    )


def _calls(counted: Counter[str], operations: tuple[str, ...]) -> int:
    return sum(count for name, count in counted.items() if name.split(".")[-1] in operations)


def quantities(
    uses: Mapping[str, FunctionUse], aws_calls: Counter[str], emails: int, wru: float, window: Window
) -> dict[str, float]:
    """Per transfer, in the units ``PRICES`` are given in."""
    gb_seconds = sum(use.billed_ms / 1000 * memory_mb(name) / 1024 for name, use in uses.items())
    notify_batches = uses[NOTIFY].invocations if NOTIFY in uses else 0
    per_window = {
        "api_gateway_requests": window.transfers,
        "lambda_requests": sum(use.invocations for use in uses.values()),
        "lambda_gb_seconds": gb_seconds,
        "dynamodb_read_units": _calls(aws_calls, SINGLE_READS) + KEYS_READ_PER_EMAIL * emails,
        "sns_requests": _calls(aws_calls, PUBLISHES),
        "sqs_requests": emails + 2 * notify_batches,
        "ses_emails": emails,
        "logs_gb": sum(use.log_bytes for use in uses.values()) / 1024**3,
    }
    per_transfer = {name: value / window.transfers for name, value in per_window.items()}
    return {**per_transfer, "dynamodb_write_units": wru}


def one_email_usd_per_million(
    per_transfer: Mapping[str, float], uses: Mapping[str, FunctionUse], window: Window
) -> float:
    """What each of a transfer's e-mails costs per million transfers: SES, and its share of the
    queue's requests and of notify's GB-seconds."""
    emails = per_transfer["ses_emails"]
    if not emails:
        return 0.0
    notify = uses.get(NOTIFY, FunctionUse(0, 0, 0))
    notify_gb_seconds = notify.billed_ms / 1000 * memory_mb(NOTIFY) / 1024 / window.transfers
    one_email = (
        PRICES["ses_emails"].usd
        + per_transfer["sqs_requests"] / emails * PRICES["sqs_requests"].usd
        + notify_gb_seconds / emails * PRICES["lambda_gb_seconds"].usd
        + notify.invocations / window.transfers / emails * PRICES["lambda_requests"].usd
    )
    return round(one_email * 1_000_000, 2)


def run(
    api: WalletApi,
    endpoint: str,
    stack_name: str,
    xray: XRayCounter,
    window: Window,
    *,
    wru_per_transfer: float,
    progress: Progress,
) -> Result:
    logs = aws_client("logs", endpoint)
    functions = deployed_functions(endpoint, stack_name)
    uses = {name: _function_use(logs, function, window) for name, function in functions.items()}
    aws_calls = xray.calls_between(window.started_at, window.ended_at)
    per_transfer = quantities(uses, aws_calls, _emails_in(api, window), wru_per_transfer, window)
    usd = {name: round(value * PRICES[name].usd * 1_000_000, 2) for name, value in per_transfer.items()}
    result = Result()
    result.figures["usd_per_million_transfers"] = round(sum(usd.values()), 2)
    result.figures.update({f"usd_per_million_transfers.{name}": value for name, value in usd.items()})
    # The payer's receipt is one of the e-mails: what a deployment saves by not sending it.
    result.figures["payer_receipt_usd_per_million_transfers"] = one_email_usd_per_million(
        per_transfer, uses, window
    )
    result.raw = {
        "transfers": window.transfers,
        "per_transfer": {name: round(value, 9) for name, value in per_transfer.items()},
        "aws_calls_per_transfer": {
            name: round(count / window.transfers, 3) for name, count in sorted(aws_calls.items())
        },
        "functions": {
            name: {
                "invocations_per_transfer": round(use.invocations / window.transfers, 3),
                "billed_ms_per_transfer": round(use.billed_ms / window.transfers, 1),
                "memory_mb": memory_mb(name),
                "log_bytes_per_transfer": round(use.log_bytes / window.transfers),
            }
            for name, use in sorted(uses.items())
        },
        "prices": {name: {"usd": price.usd, "per": price.per} for name, price in PRICES.items()},
        "prices_as_of": PRICES_AS_OF,
    }
    progress(f"  ${result.figures['usd_per_million_transfers']} per million transfers: {usd}")
    return result
