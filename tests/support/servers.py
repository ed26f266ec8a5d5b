"""Start the real engines the tests run against, on free loopback ports.

ministack (the local AWS, with the project's gap fixes: devstack/ministack_gaps.py) and
DynamoDB Local (AWS's own engine) are separate processes; nothing here emulates anything.
"""

import shutil
from pathlib import Path

from devstack.config import ROOT, DevStack
from devstack.processes import Server, answers, free_port
from devstack.stack import start_ministack as start_ministack_on

DYNAMODB_LOCAL = ROOT / ".cache" / "dynamodb-local"
LOGS = ROOT / ".local" / "test-logs"

__all__ = ["Server", "start_dynamodb_local", "start_ministack"]


def start_ministack(state_dir: Path | None = None, *, auth: bool = False) -> Server:
    """A bare ministack for the tests that drive AWS themselves (stores, handlers, gap
    reproductions). Without IAM by default: they call it with the local credentials, which
    are the account's root under AUTH=true too, so enforcement would check nothing there."""
    return start_ministack_on(DevStack(endpoint_port=free_port(), log_dir=LOGS), state_dir, auth=auth)


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
    return Server(f"dynamodb-local-{port}", command, port, LOGS).start(answers("/"))
