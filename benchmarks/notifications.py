"""``notification_p50_ms`` / ``notification_p95_ms``: from a transfer's 201 to the payee's e-mail.

One client sends the transfers one after another (a steady, modest load, below what the
pipeline can absorb), each with its own payer and payee from funded pools. The 201's
moment is the client's wall clock when the answer was read; the e-mail's is the
``Timestamp`` ministack's SES stamps on a message when ``SendEmail`` accepts it (its
``time.time()``, the same clock on the same machine, so no polling interval blurs it).
The payee's e-mail is the one addressed to the payee that names the transaction.

The baseline, measured in the same run: the p50 of the transfer call itself (client to
201), so ``notification_p50_vs_transfer_p50`` says how many API round trips the
asynchronous path costs. The stages come from the transaction's ``created_at`` (stamped
by send_money as it starts moving the money) and the payee's statement entry in the
customers table: ``recorded_at`` (the sync applying the stream record) and ``notified_at``
(the notification handed to SNS).
"""

import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from benchmarks.common import Result, Say, aws_client, summary_ms
from benchmarks.throughput import function_durations_ms
from benchmarks.wallet_api import Customer, WalletApi

COUNT = 210
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _timestamp(value: str) -> float:
    """An ISO 8601 instant (the API's ``...Z``, PynamoDB's ``...+0000``) as epoch seconds."""
    return datetime.fromisoformat(value).timestamp()


def _entries(endpoint: str, table: str, payee_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Statement entries of these payees, by transaction id."""
    dynamodb = aws_client("dynamodb", endpoint)
    entries: dict[str, dict[str, Any]] = {}
    for payee_id in payee_ids:
        arguments: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :entry)",
            "ExpressionAttributeValues": {":pk": {"S": f"CUSTOMER#{payee_id}"}, ":entry": {"S": "ENTRY#"}},
        }
        while True:
            page = dynamodb.query(**arguments)
            for item in page["Items"]:
                if "transaction_id" in item:
                    entries[item["transaction_id"]["S"]] = item
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return entries


@dataclass(frozen=True)
class Sent:
    transaction_id: str
    payee: Customer
    requested_at: float
    answered_at: float
    created_at: float
    """The transaction's ``created_at``: stamped by send_money when it starts moving the money."""


def _stages(
    sent: Sequence[Sent], emailed: dict[tuple[str, str], float], entries: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Where the time goes, on one clock: the client's, the functions' and ministack's are the
    same machine's."""
    stages: dict[str, list[float]] = defaultdict(list)
    for one in sent:
        entry = entries.get(one.transaction_id)
        email_at = emailed.get((one.payee.email, one.transaction_id))
        stages["request_sent_to_send_money_started"].append(one.created_at - one.requested_at)
        stages["send_money_started_to_201_received"].append(one.answered_at - one.created_at)
        if entry is None or email_at is None or "notified_at" not in entry or "recorded_at" not in entry:
            continue
        recorded = _timestamp(entry["recorded_at"]["S"])
        notified = _timestamp(entry["notified_at"]["S"])
        stages["send_money_started_to_sync_recorded_entry"].append(recorded - one.created_at)
        stages["201_received_to_sync_recorded_entry"].append(recorded - one.answered_at)
        stages["sync_recorded_entry_to_sns_published"].append(notified - recorded)
        stages["sns_published_to_ses_sent"].append(email_at - notified)
    return {name: summary_ms(values) for name, values in stages.items()}


def run(
    api: WalletApi,
    endpoint: str,
    outputs: dict[str, str],
    *,
    payers: Sequence[Customer],
    payees: Sequence[Customer],
    say: Say,
    count: int = COUNT,
) -> Result:
    api.drain()
    say(f"  {count} transfers, one client, one after another")
    sent: list[Sent] = []
    call_seconds: list[float] = []
    started_at = time.time()
    for number in range(count):
        payer, payee = payers[number % len(payers)], payees[number % len(payees)]
        reply = api.transfer(payer, payee.id, "1.00")
        if reply.status == 201:
            created = _timestamp(reply.body["created_at"])
            sent.append(Sent(reply.body["id"], payee, reply.at - reply.seconds, reply.at, created))
            call_seconds.append(reply.seconds)
    ended_at = time.time()
    first_sent = min(one.requested_at for one in sent)
    api.drain()
    emailed: dict[tuple[str, str], float] = {}
    for message in api.emails():
        if float(message["Timestamp"]) < first_sent:
            continue
        for transaction_id in _UUID.findall(message.get("BodyText", "")):
            for address in message["To"]:
                emailed[(address, transaction_id)] = float(message["Timestamp"])
    latencies = [
        emailed[(one.payee.email, one.transaction_id)] - one.answered_at
        for one in sent
        if (one.payee.email, one.transaction_id) in emailed
    ]
    if len(latencies) < len(sent):
        say(f"  warning: {len(sent) - len(latencies)} payee e-mails not found")
    entries = _entries(endpoint, outputs["CustomersTableName"], {one.payee.id for one in sent})
    durations = function_durations_ms(endpoint, outputs["SendMoneyFunctionName"], started_at, ended_at)
    notification, call = summary_ms(latencies), summary_ms(call_seconds)
    result = Result()
    result.figures["notification_p50_ms"] = notification["p50_ms"]
    result.figures["notification_p95_ms"] = notification["p95_ms"]
    result.figures["notification_p50_vs_transfer_p50"] = round(notification["p50_ms"] / call["p50_ms"], 2)
    result.raw = {
        "transfers": count,
        "committed": len(sent),
        "emails_matched": len(latencies),
        "clients": 1,
        "notification": notification,
        "transfer_call": call,
        "send_money_duration_ms": summary_ms([d / 1000 for d in durations]) if durations else {},
        "stages": _stages(sent, emailed, entries),
        "transfers_per_s": round(len(sent) / (ended_at - started_at), 1),
    }
    say(
        f"  201 -> payee's e-mail: p50 {notification['p50_ms']} ms, p95 {notification['p95_ms']} ms, "
        f"max {notification['max_ms']} ms; the 201 itself: p50 {call['p50_ms']} ms"
    )
    return result
