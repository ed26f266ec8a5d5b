"""A stand-in for the X-Ray daemon that keeps count of the AWS requests the functions make.

The functions trace actively (``Tracing: Active``; Powertools' Tracer patches botocore), so
inside Lambda the X-Ray SDK sends every finished subsegment, one UDP datagram each, to
``AWS_XRAY_DAEMON_ADDRESS``. ministack's functions inherit its environment, so a stack
started with that variable pointing here reports to this server: each AWS call of each
function (``DynamoDB.GetItem``, ``SNS.Publish``, ``SES.SendEmail``...) with its start time.
Nothing is forwarded anywhere. Standard library only.
"""

import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

ADDRESS_VARIABLE = "AWS_XRAY_DAEMON_ADDRESS"
# The largest UDP datagram: a segment never arrives cut.
_MAX_DATAGRAM = 65_535
# Room for the segments of a burst of invocations while the reader thread is busy.
_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Call:
    operation: str
    """``Service.Operation`` as the SDK names them, e.g. ``DynamoDB.GetItem``."""
    started_at: float
    """Epoch seconds, the function's clock (this machine's)."""
    parent: str


class XRayCounter:
    """Listens on a UDP port of its own; ``calls_between`` says what was called when."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Room for bursts (a datagram per AWS call of every function): UDP drops what overflows.
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER_BYTES)
        self._socket.bind((host, 0))
        self._socket.settimeout(0.2)  # so that the receiving thread sees the stop soon
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._calls: dict[str, Call] = {}
        self._thread = threading.Thread(target=self._receive, name="xray-counter", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._thread.join()
        self._socket.close()

    def calls_between(self, started_at: float, ended_at: float) -> Counter[str]:
        """AWS calls that started in the window. The SDK nests a subsegment of the same call
        inside the call's own (botocore's patched request inside the patched API call): only
        the outermost counts."""
        with self._lock:
            calls = dict(self._calls)
        return Counter(
            call.operation
            for call in calls.values()
            if started_at <= call.started_at <= ended_at and call.parent not in calls
        )

    def _receive(self) -> None:
        while not self._stopping.is_set():
            try:
                datagram = self._socket.recv(_MAX_DATAGRAM)
            except TimeoutError:
                continue
            for document in _documents(datagram):
                self._record(document)

    def _record(self, document: dict[str, Any]) -> None:
        for entity in _with_children(document):
            operation = entity.get("aws", {}).get("operation")
            if operation:
                call = Call(
                    f"{entity.get('name')}.{operation}",
                    float(entity.get("start_time", 0)),
                    str(entity.get("parent_id")),
                )
                with self._lock:  # an entity sent twice (a retry of the send) counts once
                    self._calls[str(entity.get("id"))] = call


def _documents(datagram: bytes) -> list[dict[str, Any]]:
    """A datagram is a JSON header line, then one segment or subsegment document."""
    _header, _, body = datagram.partition(b"\n")
    try:
        document = json.loads(body)
    except ValueError:
        return []
    return [document] if isinstance(document, dict) else []


def _with_children(entity: dict[str, Any]) -> list[dict[str, Any]]:
    found = [entity]
    for child in entity.get("subsegments", []):
        found += _with_children(child)
    return found
