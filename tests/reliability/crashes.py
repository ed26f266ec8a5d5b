"""Crashes, for real: ``kill -9`` of ministack's Lambda workers, or of the whole local AWS.

ministack runs each function in warm worker processes it spawns itself (children of the
ministack process, in its process group); killing one mid-invocation is a Lambda crash
between two steps of the code. Only processes whose parent is the ministack this test
started are ever signalled, by pid.
"""

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

_PROC = Path("/proc")


def stat_fields(pid: int) -> list[str]:
    """``/proc/<pid>/stat`` from its 3rd field (state) on; empty if the process is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return stat[stat.rfind(")") + 2 :].split()


def children_of(parent_pid: int) -> dict[int, str]:
    """pid -> command line of each live child process of ``parent_pid``."""
    children: dict[int, str] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = stat_fields(int(entry.name))
        if len(fields) > 1 and int(fields[1]) == parent_pid:
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            children[int(entry.name)] = command
    return children


def workers_of(ministack_pid: int, function_name: str, older_than_seconds: float = 0) -> list[int]:
    """The worker processes ministack runs for the deployed function ``function_name``."""
    marker = f"ministack-lambda-{function_name}-"
    return [
        pid
        for pid, command in children_of(ministack_pid).items()
        if marker in command and age_seconds(pid) >= older_than_seconds
    ]


def age_seconds(pid: int) -> float:
    """How long the process has run (0 if it is gone)."""
    fields = stat_fields(pid)
    if not fields:
        return 0.0
    uptime = float((_PROC / "uptime").read_text().split()[0])
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """User + system CPU time the process has used, in clock ticks (0 if it is gone)."""
    fields = stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0


def busy(pids: list[int], window_seconds: float = 0.05) -> list[int]:
    """Those of ``pids`` that used CPU within the window: most likely in the middle of an invocation."""
    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(window_seconds)
    return [pid for pid in pids if cpu_ticks(pid) > before[pid]]


def kill_hard(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


class WorkerKiller:
    """While active, ``kill -9`` a busy warm worker of one of ``functions`` every ``interval`` seconds.

    Busy: it used CPU in the last 50 ms, so the kill most likely lands mid-invocation (an
    idle worker that dies is just started again by ministack on its next call).

    Only workers that have run for ``warm_after_seconds`` are chosen: those are past their
    start, so the kill lands in an invocation, the crash between two steps this suite is
    after. (A kill during a start used to make ministack kill every worker of the function,
    gap G11 in docs/local-stack.md, now closed in devstack/ministack_gaps.py.)
    """

    def __init__(
        self,
        ministack_pid: int,
        functions: Iterable[str],
        interval_seconds: float,
        rng: random.Random,
        warm_after_seconds: float = 10.0,
    ) -> None:
        self._ministack_pid = ministack_pid
        self._functions = list(functions)
        self._interval = interval_seconds
        self._rng = rng
        self._warm_after = warm_after_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-killer", daemon=True)
        self.kills: Counter[str] = Counter()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            function = self._rng.choice(self._functions)
            working = busy(workers_of(self._ministack_pid, function, self._warm_after))
            if working and kill_hard(self._rng.choice(working)):
                self.kills[function] += 1

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
