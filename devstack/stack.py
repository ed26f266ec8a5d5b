"""The whole local system as one context manager: ministack, the app deployed, the stub, the API.

``make run`` uses it on the fixed ports; the end-to-end tests use it on free ports.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.authorizer_stub import AuthorizerStub
from devstack.config import DevStack, ministack_environment, scratch_dir
from devstack.deploy import deploy, verify
from devstack.gateway import Gateway
from devstack.processes import Server, answers
from devstack.progress import Progress


@dataclass(frozen=True)
class RunningStack:
    config: DevStack
    ministack: Server
    authorizer: AuthorizerStub
    gateway: Gateway
    outputs: dict[str, str]

    @property
    def api_url(self) -> str:
        return self.gateway.url


def start_ministack(stack: DevStack, state_dir: Path | None = None, *, auth: bool = True) -> Server:
    """ministack, with the project's gap fixes (devstack/ministack_gaps.py), on the stack's port.

    With IAM enforced (AUTH=true) unless ``auth`` is False: see ``ministack_environment``.
    """
    port = stack.endpoint_port
    command = [sys.executable, "-m", "devstack.ministack_gaps"]
    environment = ministack_environment(port, state_dir, auth=auth)
    server = Server(
        f"ministack-{port}", command, port, stack.log_dir, env=environment, scratch=scratch_dir(port)
    )
    return server.start(answers("/_ministack/health"))


@contextmanager
def running_stack(stack: DevStack, state_dir: Path | None, progress: Progress) -> Iterator[RunningStack]:
    with (
        start_ministack(stack, state_dir) as ministack,
        AuthorizerStub(port=stack.authorizer_port) as authorizer,
    ):
        where = f"state in {state_dir}" if state_dir else "state in memory"
        progress(f"ministack (local AWS) on {ministack.url}, {where}, log {ministack.log_path}")
        progress(f"authorizer stub on {authorizer.url} (PUT /_local/authorizer on the API switches it)")
        outputs = deploy(stack, progress)
        verify(stack, progress)
        execute_api = f"{stack.endpoint}/_aws/execute-api/{outputs['ApiId']}"
        gateway = Gateway(stack.api_port, execute_api, authorizer.url).start()
        progress(f"API on {gateway.url} -> {execute_api}")
        try:
            yield RunningStack(stack, ministack, authorizer, gateway, outputs)
        finally:
            gateway.stop()
