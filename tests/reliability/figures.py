"""The figures each reliability test measured: printed at the end of the run and kept as JSON.

A full form run that passed every test writes ``benchmarks/reliability.json`` (committed;
docs/benchmarks.md is rendered from it, docs/reliability.md quotes it); any other run, a
short one (every ``make test``), a failing or a partial one, writes
``.local/reliability/figures-<form>.json`` and leaves the published figures alone.
"""

import json
import time
from pathlib import Path
from typing import Any

from benchmarks import machine
from devstack.config import ROOT
from tests.reliability.suite_sizes import FULL, SIZES

PUBLISHED = ROOT / "benchmarks" / "reliability.json"
# Every test of the suite records under one of these names.
SECTIONS = {"api_fuzzing", "crash", "load_with_faults", "worker_kill", "ledger_state_machine"}

FIGURES: dict[str, dict[str, Any]] = {}
# From the suite's collection on: the run's duration, for the record.
STARTED = time.monotonic()
LOAD_AT_START = machine.load_average()


def record(test: str, **figures: Any) -> None:
    FIGURES.setdefault(test, {}).update(figures)


def write(complete: bool) -> Path:
    """Where the figures went: published only if the full form ran whole and passed."""
    recorded = {name.split("[")[0] for name in FIGURES}
    publish = SIZES is FULL and complete and recorded == SECTIONS
    target = PUBLISHED if publish else ROOT / ".local" / "reliability" / f"figures-{SIZES.name}.json"
    run = {
        **machine.describe(),
        "duration_s": round(time.monotonic() - STARTED),
        "load_average_at_start": LOAD_AT_START,
        "load_average_at_end": machine.load_average(),
    }
    document = {"command": "make reliability", "form": SIZES.name, "machine": run, "tests": FIGURES}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    return target


def lines() -> list[str]:
    return [f"{test}: {json.dumps(values, sort_keys=True, default=str)}" for test, values in FIGURES.items()]


class Stopwatch:
    """Seconds spent in each phase of a test, for the figures (never asserted on)."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.laps[phase] = round(now - self._last, 1)
        self._last = now
