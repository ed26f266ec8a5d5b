"""``hot_payee_vs_spread``: transfers that all credit one merchant, over transfers spread out.

Runs through the API with the same clients and payers, the pipeline caught up before each:
transfers that all credit the same merchant's account (a shop at its busiest hour: every
TransactWriteItems updates that one item), and transfers whose payees are drawn from a
pool; in the order spread, hot, hot, spread, spread, hot, a third of the count each, so
that a drift of the machine's speed weighs on both sides alike; the ratio is of the two
medians. The same pair of runs with raw TransactWriteItems on a scratch table says whether
any difference is the engine's.

Locally this can only show the cost of the code path: ministack (1.5.33) serves every
DynamoDB request synchronously on its event loop, one at a time, so two transactions never
overlap and it never answers ``TransactionConflict``. On DynamoDB a single
item takes at most 1,000 write units per second (its partition's limit), a transactional
write costs 2 units per KB, and two transactions touching the same item at the same time
conflict: one is cancelled with ``TransactionConflict`` (the app retries it, bounded, then
answers 503 ``store_busy``). So the local ratio is an upper bound, and it cannot fail here:
on an engine without per-item limits (ministack, DynamoDB Local) a hot item costs what a
cold one does.
"""

import random
from collections.abc import Sequence

from benchmarks.common import Result
from benchmarks.throughput import (
    CLIENTS,
    COUNT,
    REPEATS,
    Measured,
    RawLedger,
    api_transfers,
    median_run,
    spread_pairs,
)
from benchmarks.wallet_api import WalletApi
from devstack.progress import Progress
from devstack.wallet_client import Customer

# Alternating, so that a drift of the machine's speed (other work on it) weighs on both kinds.
ORDER = ("spread", "hot", "hot", "spread", "spread", "hot")


def run(
    api: WalletApi,
    endpoint: str,
    *,
    payers: Sequence[Customer],
    payees: Sequence[Customer],
    merchant: Customer,
    progress: Progress,
    count: int = COUNT,
) -> Result:
    each = count // (len(ORDER) // 2)
    spread_runs: list[Measured] = []
    hot_runs: list[Measured] = []
    for kind in ORDER:
        progress(f"  {kind}: {each} transfers from {CLIENTS} clients")
        if kind == "spread":
            spread_runs.append(api_transfers(api, spread_pairs(payers, payees, each)))
        else:
            hot_runs.append(api_transfers(api, [(random.choice(payers), merchant.id) for _ in range(each)]))
        api.drain()
    spread, hot = median_run(spread_runs), median_run(hot_runs)
    with RawLedger(endpoint) as raw:
        raw_payers, raw_payees = raw.open_accounts(len(payers)), raw.open_accounts(len(payees))
        (raw_merchant,) = raw.open_accounts(1, "merchant")
        raw_spread, raw_hot = [], []
        for _ in range(REPEATS):
            raw_spread.append(
                raw.transfers([(random.choice(raw_payers), random.choice(raw_payees)) for _ in range(count)])
            )
            raw_hot.append(raw.transfers([(random.choice(raw_payers), raw_merchant) for _ in range(count)]))
    raw_spread_median, raw_hot_median = median_run(raw_spread), median_run(raw_hot)
    result = Result()
    result.figures["hot_payee_vs_spread"] = round(hot.per_second / spread.per_second, 3)
    result.figures["hot_payee_raw_vs_spread_raw"] = round(
        raw_hot_median.per_second / raw_spread_median.per_second, 3
    )
    result.raw = {
        "clients": CLIENTS,
        "count": count,
        "payees_in_spread": len(payees),
        "api_spread": spread.as_dict(),
        "api_hot": hot.as_dict(),
        "api_runs_per_s": {
            "order": ", ".join(ORDER),
            "spread": [round(r.per_second, 1) for r in spread_runs],
            "hot": [round(r.per_second, 1) for r in hot_runs],
        },
        "raw_spread_median": raw_spread_median.as_dict(),
        "raw_hot_median": raw_hot_median.as_dict(),
        "raw_spread_runs_per_s": [round(r.per_second, 1) for r in raw_spread],
        "raw_hot_runs_per_s": [round(r.per_second, 1) for r in raw_hot],
    }
    progress(
        f"  API hot {hot.per_second:.1f}/s vs spread {spread.per_second:.1f}/s; "
        f"raw hot {raw_hot_median.per_second:.1f}/s vs spread {raw_spread_median.per_second:.1f}/s"
    )
    return result
