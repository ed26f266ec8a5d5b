"""``make bench``: every benchmark on one local stack; figures, latest.json and docs/benchmarks.md.

The figures go to standard output, one ``name: value`` line each; progress, SAM's own
output and the stack's messages go to standard error. ``--quick`` runs every benchmark
with small counts as a smoke test and writes only ``benchmarks/raw/quick.json``;
``--render`` runs nothing and renders the page again (``make reliability`` does, after it
wrote ``benchmarks/reliability.json``).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from benchmarks import (
    cold_start,
    cost,
    first_burst,
    hot_payee,
    machine,
    notifications,
    package_size,
    pipeline_alone,
    reliability_report,
    report,
    request_path,
    throughput,
    write_cost,
)
from benchmarks.common import Result, run_concurrently
from benchmarks.wallet_api import WalletApi
from devstack import xray_daemon
from devstack.config import ROOT, DevStack
from devstack.deploy import sam
from devstack.identities import Cognito
from devstack.processes import free_port
from devstack.progress import print_progress_to_stderr
from devstack.stack import RunningStack, running_stack
from devstack.wallet_client import Customer
from devstack.xray_daemon import XRayCounter

LATEST = ROOT / "benchmarks" / "latest.json"
QUICK = ROOT / "benchmarks" / "raw" / "quick.json"
DOCS = ROOT / "docs" / "benchmarks.md"
STACK_NAME = "wallet-bench"
# The sync's reservation (template.yaml): the pipeline's two functions on an equal footing.
BENCH_NOTIFY_CONCURRENCY = 10


@contextmanager
def figures_on_stdout() -> Iterator[IO[str]]:
    """Standard output for the figures only: everything else printed meanwhile (this process,
    the SAM CLI, the stack) goes to standard error."""
    sys.stdout.flush()
    figures = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    try:
        yield figures
    finally:
        sys.stdout.flush()
        os.dup2(figures.fileno(), 1)
        figures.close()


class Population:
    """The customers every API benchmark draws from, signed in, registered and funded over the
    API before anything is timed."""

    def __init__(self, api: WalletApi, payers: int, payees: int) -> None:
        print_progress_to_stderr(
            f"registering {payers} payers, {payees} payees and a merchant (pending until the sync opens them)"
        )
        self.payers: list[Customer] = api.register_many(payers)
        self.payees: list[Customer] = api.register_many(payees)
        (self.merchant,) = api.register_many(1, "merchant")
        print_progress_to_stderr("funding the payers (deposits)")
        api.fund(self.payers)


def local_cognito(config: DevStack, outputs: dict[str, str]) -> Cognito:
    """The stack's user pool; its boto3 clients take ministack's credentials and region from this
    process's environment (endpoints stay explicit)."""
    environment = config.aws_environment()
    os.environ.update({k: v for k, v in environment.items() if not k.startswith("AWS_ENDPOINT_URL")})
    return Cognito.of_local_stack(config.endpoint, outputs)


def warm_up(api: WalletApi, pool: Population, count: int) -> None:
    """Start as many send_money workers as there are clients, and the pipeline's, before timing."""
    print_progress_to_stderr(
        f"warming up: {count} transfers from {throughput.CLIENTS} clients, then the pipeline catches up"
    )
    pairs = throughput.spread_pairs(pool.payers, pool.payees, count)
    run_concurrently(pairs, throughput.CLIENTS, lambda pair: api.transfer(*pair))
    api.drain()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small counts; writes only benchmarks/raw/quick.json"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="run nothing: render docs/benchmarks.md again from latest.json and reliability.json",
    )
    options = parser.parse_args(argv)
    if options.render:
        render_docs(json.loads(LATEST.read_text()))
        return
    quick: bool = options.quick
    started = time.monotonic()
    with figures_on_stdout() as figures_out:
        results, machine_info = run_all(
            quick, lambda name, value: print(f"{name}: {value}", file=figures_out)
        )
    machine_info["load_average_at_end"] = machine.load_average()
    machine_info["duration_s"] = round(time.monotonic() - started)
    document = {
        "command": "make bench",
        "machine": machine_info,
        "figures": {name: value for result in results.values() for name, value in result.figures.items()},
        "raw": {name: result.raw for name, result in results.items()},
    }
    target = QUICK if quick else LATEST
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print_progress_to_stderr(f"wrote {target.relative_to(ROOT)}")
    if not quick:
        render_docs(document)


def render_docs(document: dict[str, Any]) -> None:
    DOCS.write_text(report.render(document, reliability_report.load()))
    print_progress_to_stderr(f"wrote {DOCS.relative_to(ROOT)}")


def run_all(quick: bool, emit: Callable[[str, float], None]) -> tuple[dict[str, Result], dict[str, Any]]:
    scale = 0.25 if quick else 1.0
    machine_info = machine.describe()
    results: dict[str, Result] = {}

    def record(name: str, result: Result) -> None:
        results[name] = result
        for figure, value in result.figures.items():
            emit(figure, value)

    # Unthrottled: 8 clients measure what the stack serves, above the routes' limits on purpose.
    # ministack's SES has no sending quota: notify runs as many batches as the sync may, so
    # pipeline_vs_api is the code's capacity rather than the default quota's (14 e-mails/s).
    config = DevStack(
        endpoint_port=free_port(),
        api_port=free_port(),
        authorizer_port=free_port(),
        stack_name=STACK_NAME,
        throttle_routes=False,
        notify_concurrency=BENCH_NOTIFY_CONCURRENCY,
    )
    with tempfile.TemporaryDirectory(prefix="wallet-bench-") as scratch, XRayCounter() as xray:
        # The functions inherit ministack's environment, hence this process's: their X-Ray
        # SDK reports each AWS call they make to the counter (see cost).
        os.environ[xray_daemon.ADDRESS_VARIABLE] = xray.address
        os.environ.pop("POWERTOOLS_TRACE_DISABLED", None)  # as deployed: the template traces
        build_dir = Path(scratch) / "build"
        print_progress_to_stderr(f"sam build into a folder of this run's own ({build_dir})")
        sam(config, "build", "--config-env", "local", "--build-dir", str(build_dir))
        print_progress_to_stderr("package size")
        record("package_size", package_size.run(build_dir, print_progress_to_stderr))
        print_progress_to_stderr("cold start")
        # Fresh processes per target, as shipped and precompiled: 7 keep the median within a
        # few percent of the next run's here; precompiled only checks the bytecode is used.
        repeats = (3, 2) if quick else (7, 5)
        record("cold_start", cold_start.run(build_dir, print_progress_to_stderr, *repeats))
        print_progress_to_stderr(
            "starting the local stack (ministack on free ports, the app deployed with SAM)"
        )
        with running_stack(config, None, print_progress_to_stderr) as stack:
            api = WalletApi(stack.api_url, config.endpoint, local_cognito(config, stack.outputs))
            try:
                run_on_stack(api, stack, build_dir, xray, scale=scale, record=record)
            finally:
                api.close()
    return results, machine_info


def run_on_stack(
    api: WalletApi,
    stack: RunningStack,
    build_dir: Path,
    xray: XRayCounter,
    *,
    scale: float,
    record: Callable[[str, Result], None],
) -> None:
    config, outputs = stack.config, stack.outputs
    direct_url = f"{config.endpoint}/_aws/execute-api/{outputs['ApiId']}"
    pool = Population(api, payers=24, payees=48)
    api.drain()  # the deposits' e-mails sent: the first burst has the machine to itself
    print_progress_to_stderr("the first burst: send_money's first transfers, 8 clients at once")
    record(
        "first_burst",
        first_burst.run(
            api,
            config.endpoint,
            outputs,
            payers=pool.payers,
            payees=pool.payees,
            progress=print_progress_to_stderr,
        ),
    )
    warm_up(api, pool, count=int(96 * scale) or 16)
    print_progress_to_stderr("notification latency")
    record(
        "notifications",
        notifications.run(
            api,
            config.endpoint,
            outputs,
            payers=pool.payers,
            payees=pool.payees,
            progress=print_progress_to_stderr,
            count=int(notifications.COUNT * scale),
        ),
    )
    print_progress_to_stderr("write cost")
    written = write_cost.run(
        api,
        config.endpoint,
        outputs,
        payers=pool.payers,
        payees=pool.payees,
        progress=print_progress_to_stderr,
        transfers=int(write_cost.TRANSFERS * scale) or 5,
    )
    record("write_cost", written)
    print_progress_to_stderr(
        "cost per million transfers, from what the write cost benchmark's transfers used"
    )
    window = written.raw["window"]
    record(
        "cost",
        cost.run(
            api,
            config.endpoint,
            config.stack_name,
            xray,
            cost.Window(written.raw["transfers"], window["started_at"], window["ended_at"]),
            wru_per_transfer=written.figures["wru_per_transfer"],
            progress=print_progress_to_stderr,
        ),
    )
    print_progress_to_stderr("where one transfer's time goes")
    record(
        "request_path",
        request_path.run(
            api,
            direct_url,
            config,
            outputs,
            build_dir,
            payer=pool.payers[0],
            payee=pool.payees[0],
            authorizer=stack.authorizer,
            progress=print_progress_to_stderr,
        ),
    )
    print_progress_to_stderr("throughput: API against raw TransactWriteItems")
    record(
        "throughput",
        throughput.run(
            api,
            direct_url,
            config.endpoint,
            outputs,
            payers=pool.payers,
            payees=pool.payees,
            progress=print_progress_to_stderr,
            count=int(throughput.COUNT * scale),
            notify_concurrency=config.notify_concurrency,
        ),
    )
    print_progress_to_stderr(
        "each half alone: the API with the sync paused, then the pipeline draining its backlog"
    )
    record(
        "pipeline_alone",
        pipeline_alone.run(
            api,
            config.endpoint,
            outputs,
            payers=pool.payers,
            payees=pool.payees,
            progress=print_progress_to_stderr,
            count=int(pipeline_alone.COUNT * scale),
        ),
    )
    print_progress_to_stderr("hot payee against spread payees")
    record(
        "hot_payee",
        hot_payee.run(
            api,
            config.endpoint,
            payers=pool.payers,
            payees=pool.payees,
            merchant=pool.merchant,
            progress=print_progress_to_stderr,
            count=int(throughput.COUNT * scale),
        ),
    )


if __name__ == "__main__":
    main()
