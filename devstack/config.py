"""Where the local stack lives: ports, folders, the stack's name. Override ports by environment.

The local stack is the app deployed to ministack (the local AWS this project runs; not
LocalStack, which ``localstack/`` is about), with devstack's pass-through API gateway and
authorizer stub beside it.
"""

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DevStack:
    """One local stack: ministack's port, the API's and the authorizer stub's, the
    CloudFormation stack's name, where state and logs go, and the template parameters a
    local deployment sets. ``make run`` uses the defaults; the tests and benchmarks start
    theirs on free ports with stack names of their own."""

    endpoint_port: int = int(os.environ.get("WALLET_ENDPOINT_PORT", "4566"))
    api_port: int = int(os.environ.get("WALLET_API_PORT", "3000"))
    authorizer_port: int = int(os.environ.get("WALLET_AUTHORIZER_PORT", "3001"))
    stack_name: str = os.environ.get("WALLET_STACK_NAME", "wallet")
    state_dir: Path = ROOT / ".local" / "ministack-state"
    log_dir: Path = ROOT / ".local" / "logs"
    # The API's throttles (template parameter ThrottleRoutes); off only for a stack whose
    # clients measure capacity (the benchmarks, the reliability suite) and must not meet them.
    throttle_routes: bool = True
    # Concurrent notify batches (template parameter NotifyConcurrency): the template's 2 match
    # SES's default quota on AWS; ministack's SES has none, so a benchmark of the pipeline's
    # own capacity raises it.
    notify_concurrency: int = 2

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.endpoint_port}"

    @property
    def authorizer_url(self) -> str:
        return f"http://127.0.0.1:{self.authorizer_port}/"

    @property
    def parameter_overrides(self) -> list[str]:
        """What ``sam deploy`` is told besides template.yaml's defaults."""
        return [
            f"AuthorizerUrl={self.authorizer_url}",
            f"ThrottleRoutes={str(self.throttle_routes).lower()}",
            f"NotifyConcurrency={self.notify_concurrency}",
        ]

    def aws_environment(self) -> dict[str, str]:
        """What boto3 and the SAM CLI need to talk to ministack instead of AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "SAM_CLI_TELEMETRY": "0",
        }


def scratch_dir(port: int) -> Path:
    """Where ministack's workers unpack the functions (~64 MB each).

    Workers killed with ministack's process group leave theirs behind (docs/local-stack.md,
    G9): one folder per ministack, removed when it stops, and all under .local/.
    """
    return ROOT / ".local" / "tmp" / f"ministack-{port}"


def ministack_environment(port: int, state_dir: Path | None = None, *, auth: bool = True) -> dict[str, str]:
    """ministack's whole environment: loopback only, no listeners beyond its gateway port.

    Functions inherit ministack's environment (docs/local-stack.md, G8), so no endpoint
    variable of this process may leak into it: ministack then points them at itself.

    With ``auth`` (AUTH=true) ministack enforces IAM: each function runs with its execution
    role's session credentials, so it can do only what the template's policies allow. The
    local credentials (``test``) are the account's root, as on AWS an administrator's, so
    SAM and the tests keep every right.
    """
    scratch = scratch_dir(port)
    scratch.mkdir(parents=True, exist_ok=True)
    environment = {
        "TMPDIR": str(scratch),
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "IOT_MTLS_ENABLED": "0",
        "SFTP_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
        # Surplus workers a burst leaves behind (~100 MB each) go after two idle minutes, not five.
        "LAMBDA_WARM_TTL_SECONDS": "120",
        "AUTH": "true" if auth else "false",
    }
    if state_dir is not None:
        environment |= {"PERSIST_STATE": "1", "STATE_DIR": str(state_dir)}
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
    return inherited | environment
