"""Child processes serving on loopback: start, wait until they answer, stop with their children."""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers(path: str) -> Callable[[str], bool]:
    """A readiness check: the server answers ``path`` with anything but a 5xx."""

    def check(url: str) -> bool:
        try:
            with urllib.request.urlopen(url + path, timeout=2) as response:  # a loopback answer is immediate  # noqa: S310 - loopback only
                return bool(response.status < 500)
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    return check


class Server:
    """A child process serving on 127.0.0.1:port, up once its readiness check says so.

    ``env`` is its whole environment (this process's own when None); ``scratch`` a folder
    of its own, removed when it stops.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        log_dir: Path,
        *,
        env: dict[str, str] | None = None,
        scratch: Path | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self._command = command
        self._env = dict(os.environ) if env is None else env
        self._scratch = scratch
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, ready: Callable[[str], bool], timeout_seconds: float = 90) -> Self:
        """Start it and wait until ``ready``. A start takes seconds; 90 s is the margin for a
        busy 2-core machine (a benchmark or a second suite beside it)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # A process group of its own, so stop() also ends the workers the server spawned.
        self._process = subprocess.Popen(  # noqa: S603 - our own command line
            self._command, env=self._env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                raise RuntimeError(f"{self.name} exited with {code}; see {self.log_path}")
            if ready(self.url):
                return self
            time.sleep(0.1)  # servers start in seconds: readiness is seen within a tenth of one
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout_seconds} s; see {self.log_path}")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                # A graceful save of ministack's state took up to 14 s under load
                # (docs/local-stack.md, G10); after that, SIGKILL.
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
