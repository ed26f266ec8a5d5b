"""Start the real engines the tests run against, on free loopback ports, and stop them.

ministack (the local AWS) and DynamoDB Local (AWS's own engine) are separate processes;
nothing here emulates anything.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

ROOT = Path(__file__).resolve().parents[2]
DYNAMODB_LOCAL = ROOT / ".cache" / "dynamodb-local"
LOGS = ROOT / ".local" / "test-logs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A child process serving on 127.0.0.1:port, up once ``ready()`` says so."""

    def __init__(self, name: str, command: list[str], port: int, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._command = command
        self._env = {**os.environ, **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, ready: Callable[[str], bool], timeout_seconds: float = 90) -> Self:
        LOGS.mkdir(parents=True, exist_ok=True)
        self._log = (LOGS / f"{self.name}-{self.port}.log").open("wb")
        # A process group of its own, so stop() also ends whatever the server spawned.
        self._process = subprocess.Popen(
            self._command, env=self._env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self._process.returncode}; see {self._log.name}"
                )
            if ready(self.url):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout_seconds} s; see {LOGS}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def answers(path: str) -> Callable[[str], bool]:
    def check(url: str) -> bool:
        try:
            with urllib.request.urlopen(url + path, timeout=2) as response:
                return bool(response.status < 500)
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    return check


def ministack_environment(port: int, state_dir: Path | None = None) -> dict[str, str]:
    env = {
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
    }
    if state_dir is not None:
        env |= {"PERSIST_STATE": "1", "STATE_DIR": str(state_dir)}
    return env


def start_ministack(state_dir: Path | None = None) -> Server:
    port = free_port()
    command = [str(Path(sys.executable).with_name("ministack"))]
    server = Server("ministack", command, port, ministack_environment(port, state_dir))
    return server.start(answers("/_ministack/health"))


def start_dynamodb_local() -> Server:
    java = shutil.which("java")
    jar = DYNAMODB_LOCAL / "DynamoDBLocal.jar"
    if java is None or not jar.exists():
        raise RuntimeError("DynamoDB Local needs java and `make install` (it fetches the jar)")
    port = free_port()
    command = [
        java,
        f"-Djava.library.path={DYNAMODB_LOCAL / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-port",
        str(port),
        "-inMemory",
    ]
    return Server("dynamodb-local", command, port).start(answers("/"))
