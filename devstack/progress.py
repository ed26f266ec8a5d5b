"""Progress lines of the long-running commands (``make run``, ``make bench``, ``make iam-check``).

A step that takes a while (deploying, registering customers, one benchmark) reports what it
is doing through a ``Progress`` it is handed: one line at a time, time-stamped by the
printer. ``make run``'s console is its output, so it prints to standard output; the
benchmarks and the IAM check keep standard output for their results and print progress to
standard error.
"""

import sys
import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[str], None]
"""Where a long step reports what it is doing, one line at a time."""


def _print_timestamped(line: str, stream: TextIO) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", file=stream, flush=True)


def print_progress(line: str) -> None:
    """A time-stamped line on standard output (``make run``)."""
    _print_timestamped(line, sys.stdout)


def print_progress_to_stderr(line: str) -> None:
    """A time-stamped line on standard error (commands whose standard output is their result)."""
    _print_timestamped(line, sys.stderr)
