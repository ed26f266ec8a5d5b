"""``pipeline_alone_vs_api_alone`` and ``pipeline_cpu_vs_api_cpu``: each half of a transfer
with the machine to itself.

``pipeline_vs_api`` runs both halves at once, on the same cores. Here they take turns: the
sync's stream mappings are disabled (UpdateEventSourceMapping, as an operator pauses a
consumer; the mapping keeps its place in the stream) while the API commits ``COUNT``
transfers; then they are enabled again, and the pipeline (sync, SNS, SQS, notify, SES)
drains that backlog with nothing else running. Each half's rate is its transfers over its
own time (the API: first request to last answer; the pipeline: first e-mail to last), and
its CPU is the whole machine's busy CPU time during it (ministack, the functions' workers,
the gateway, the authorizer stub and the clients alike), per transfer. The pipeline's end is
seen by reading the SES inbox every ``POLL_SECONDS``; each read lists the whole inbox, which
is the benchmark's own work, not the pipeline's: its CPU is measured alone and taken off.

When the machine is busy throughout (the busy fractions beside the figures), its cores are
what each half is waiting for, and ``pipeline_cpu_vs_api_cpu`` is what bounds
``pipeline_vs_api`` on one machine: both halves share the cores.
"""

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Result, aws_client
from benchmarks.machine import cpu_seconds
from benchmarks.throughput import api_transfers, pipeline_completed_per_second, spread_pairs
from benchmarks.wallet_api import WalletApi
from devstack.event_sources import mappings_paused, outbox_stream_mappings
from devstack.progress import Progress
from devstack.wallet_client import Customer

COUNT = 240
REPEATS = 3
# Reads of the inbox while the pipeline drains: often enough to see the end within a second
# (the rate itself is from the e-mails' own timestamps), rare enough to cost little.
POLL_SECONDS = 1.0
DRAIN_TIMEOUT_SECONDS = 240
# Reads timed alone, the pipeline idle, for the cost of one.
LISTINGS_TIMED = 3


@dataclass(frozen=True)
class Half:
    """One half of one round: how fast, and how much of the machine it used."""

    per_second: float
    cpu_ms_per_transfer: float
    busy_fraction: float

    def as_dict(self) -> dict[str, float]:
        return {
            "per_second": round(self.per_second, 1),
            "cpu_ms_per_transfer": round(self.cpu_ms_per_transfer, 1),
            "busy_fraction": round(self.busy_fraction, 2),
        }


@dataclass(frozen=True)
class Round:
    api: Half
    pipeline: Half


class CpuMeter:
    """The machine's busy and total CPU seconds since it was started."""

    def __init__(self) -> None:
        self._busy, self._total = cpu_seconds()

    def half(self, transfers: int, per_second: float, not_its_own_seconds: float = 0.0) -> Half:
        """``not_its_own_seconds``: busy CPU of the meter's reader in the window, taken off."""
        busy, total = cpu_seconds()
        used, elapsed = max(busy - self._busy - not_its_own_seconds, 0.0), total - self._total
        return Half(per_second, used * 1000 / max(transfers, 1), used / elapsed if elapsed else 0.0)


def _listing_cpu_seconds(api: WalletApi) -> float:
    """The machine's busy CPU time of one read of the whole inbox (ministack's and ours)."""
    busy_before, _ = cpu_seconds()
    for _ in range(LISTINGS_TIMED):
        api.emails()
    busy_after, _ = cpu_seconds()
    return (busy_after - busy_before) / LISTINGS_TIMED


def _round(
    api: WalletApi, lambda_client: Any, mappings: Sequence[str], pairs: Sequence[tuple[Customer, str]]
) -> Round:
    with mappings_paused(lambda_client, mappings):
        meter = CpuMeter()
        measured = api_transfers(api, pairs)
        api_half = meter.half(measured.committed, measured.per_second)
        listing_seconds = _listing_cpu_seconds(api)  # the pipeline paused: the inbox holds still
    meter = CpuMeter()
    reads = api.drain(DRAIN_TIMEOUT_SECONDS, POLL_SECONDS)
    per_second = pipeline_completed_per_second(api, measured, time.time())  # one more read
    return Round(api_half, meter.half(measured.committed, per_second, (reads + 1) * listing_seconds))


def run(
    api: WalletApi,
    endpoint: str,
    outputs: dict[str, str],
    *,
    payers: Sequence[Customer],
    payees: Sequence[Customer],
    progress: Progress,
    count: int = COUNT,
) -> Result:
    lambda_client = aws_client("lambda", endpoint)
    mappings = outbox_stream_mappings(lambda_client, outputs)
    rounds = []
    for repeat in range(REPEATS):
        progress(
            f"  round {repeat + 1} of {REPEATS}: {count} transfers with the sync paused, then its backlog"
        )
        rounds.append(_round(api, lambda_client, mappings, spread_pairs(payers, payees, count)))
        progress(f"    API {rounds[-1].api.as_dict()}, pipeline {rounds[-1].pipeline.as_dict()}")
    result = Result()
    result.figures["pipeline_alone_vs_api_alone"] = round(
        statistics.median(one.pipeline.per_second / one.api.per_second for one in rounds), 3
    )
    result.figures["pipeline_cpu_vs_api_cpu"] = round(
        statistics.median(one.pipeline.cpu_ms_per_transfer / one.api.cpu_ms_per_transfer for one in rounds), 2
    )
    result.raw = {
        "count": count,
        "repeats": REPEATS,
        "rounds": [{"api": one.api.as_dict(), "pipeline": one.pipeline.as_dict()} for one in rounds],
    }
    for side in ("api", "pipeline"):
        halves = [getattr(one, side) for one in rounds]
        result.raw[f"{side}_per_s_rounds"] = [half.as_dict()["per_second"] for half in halves]
        result.raw[f"{side}_busy_rounds"] = [half.as_dict()["busy_fraction"] for half in halves]
        result.raw[f"{side}_cpu_ms_per_transfer"] = round(
            statistics.median(half.cpu_ms_per_transfer for half in halves), 1
        )
    return result
