"""The figures each reliability test measured: printed at the end of the run and kept as JSON.

docs/reliability.md quotes them; ``.local/reliability/figures-<form>.json`` holds the last run's.
"""

import json
import time
from pathlib import Path
from typing import Any

from tests.reliability.form import FORM

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / ".local" / "reliability" / f"figures-{FORM.name}.json"

FIGURES: dict[str, dict[str, Any]] = {}


def record(test: str, **figures: Any) -> None:
    FIGURES.setdefault(test, {}).update(figures)


def write() -> Path:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps({"form": FORM.name, "tests": FIGURES}, indent=2, sort_keys=True, default=str)
    )
    return OUTPUT


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
