"""``first_burst_max_ms``: the slowest of the first transfers a freshly deployed stack serves,
sent by 8 clients at once.

Nothing has called send_money before (the population was registered and funded through the
other functions, and the pipeline has sent the deposits' e-mails): each of these requests
that finds no idle worker waits while one starts, that is a new process importing the
handler, on the same 2 cores as the 7 others. The figure is the slowest call as its client
saw it (sending the request to reading the whole answer); the target is under 2 s. One
sample per run by nature: only a fresh stack has a first burst.
Beside it: every call's time and status, and send_money's own REPORT durations in the window.
"""

import time
from collections.abc import Sequence

from benchmarks.common import Result, run_concurrently
from benchmarks.throughput import CLIENTS, function_durations_ms, spread_pairs
from benchmarks.wallet_api import WalletApi
from devstack.progress import Progress
from devstack.wallet_client import Customer


def run(
    api: WalletApi,
    endpoint: str,
    outputs: dict[str, str],
    *,
    payers: Sequence[Customer],
    payees: Sequence[Customer],
    progress: Progress,
) -> Result:
    pairs = spread_pairs(payers, payees, CLIENTS)
    started_at = time.time()
    burst = run_concurrently(pairs, CLIENTS, lambda pair: api.transfer(*pair))
    ended_at = time.time()
    milliseconds = sorted(round(reply.seconds * 1000, 1) for reply in burst.results)
    statuses = sorted(reply.status for reply in burst.results)
    progress(f"  {CLIENTS} first transfers at once: {milliseconds} ms, statuses {statuses}")
    result = Result()
    result.figures["first_burst_max_ms"] = max(milliseconds)
    result.raw = {
        "clients": CLIENTS,
        "call_ms": milliseconds,
        "statuses": statuses,
        "send_money_report_ms": sorted(
            function_durations_ms(endpoint, outputs["SendMoneyFunctionName"], started_at, ended_at)
        ),
    }
    return result
