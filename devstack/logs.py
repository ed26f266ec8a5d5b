"""Follow the deployed functions' logs (CloudWatch Logs on ministack) on the console.

One line per invocation from each REPORT record (function, request id, duration,
outcome), plus the functions' own warnings and errors.
"""

import json
import re
import threading
import time
from typing import Any

import boto3

from devstack.progress import Progress

REPORT = re.compile(r"REPORT RequestId: (?P<request>\S+)\s+Duration: (?P<duration>[\d.]+) ms")
_LOUD_LEVELS = {"WARNING", "ERROR", "CRITICAL"}


class LogFollower:
    def __init__(self, endpoint: str, functions: dict[str, str], console: Progress) -> None:
        """``functions`` maps a short name (send_money) to the deployed function's name."""
        self._logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")
        self._functions = functions
        self._console = console
        self._since = int(time.time() * 1000)
        self._failed: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="logs", daemon=True)

    def start(self) -> "LogFollower":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # one poll of the logs at most; Ctrl-C must not hang on it

    def _follow(self) -> None:
        while not self._stop.wait(1.0):
            for short_name, function_name in self._functions.items():
                for event in self._new_events(function_name):
                    line = self._describe(short_name, event["message"])
                    if line:
                        self._console(line)

    def _new_events(self, function_name: str) -> list[dict[str, Any]]:
        try:
            answer = self._logs.filter_log_events(
                logGroupName=f"/aws/lambda/{function_name}", startTime=self._since
            )
        except self._logs.exceptions.ResourceNotFoundException:
            return []
        events: list[dict[str, Any]] = answer.get("events", [])
        if events:
            self._since = max(self._since, max(e["timestamp"] for e in events) + 1)
        return events

    def _describe(self, function: str, message: str) -> str | None:
        report = REPORT.search(message)
        if report:
            request = report["request"]
            outcome = "error" if request in self._failed else "ok"
            self._failed.discard(request)
            return f"[{function}] {request} {float(report['duration']):.0f} ms {outcome}"
        record = _json(message)
        # Metrics (EMF) blobs and INFO lines stay in CloudWatch Logs; the console shows problems.
        if record is None or record.get("level") not in _LOUD_LEVELS:
            return None
        request = str(record.get("function_request_id", "-"))
        if record.get("level") in {"ERROR", "CRITICAL"}:
            self._failed.add(request)
        return f"[{function}] {request} {record.get('level')}: {record.get('message')}"


def _json(message: str) -> dict[str, Any] | None:
    try:
        record = json.loads(message)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
