"""The reliability section of docs/benchmarks.md, rendered from ``benchmarks/reliability.json``.

That file is what the full form of the reliability suite (``make reliability``) measured;
docs/reliability.md explains each test and finding.
"""

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devstack.config import ROOT

RELIABILITY = ROOT / "benchmarks" / "reliability.json"

ReliabilityRun = dict[str, Any]
"""What the full form of the reliability suite recorded: ``benchmarks/reliability.json``."""


def load(path: Path = RELIABILITY) -> ReliabilityRun | None:
    """The last full run's figures, or None if the suite's full form never ran here."""
    if not path.exists():
        return None
    document: ReliabilityRun = json.loads(path.read_text())
    return document


def render(run: ReliabilityRun | None) -> str:
    if run is None:
        return (
            "## Reliability\n\n`make reliability` has not written `benchmarks/reliability.json` yet; "
            "see [docs/reliability.md](reliability.md).\n"
        )
    tests, machine = run["tests"], run["machine"]
    sections: list[tuple[str, Callable[[Any], tuple[str, str]]]] = [
        ("load_with_faults", _load_with_faults),
        ("worker_kill", _worker_kill),
        ("api_fuzzing", _fuzzing),
        ("crash", _crash),
    ]
    rows = [_state_machine(tests)] + [row(tests[name]) for name, row in sections if name in tests]
    table = "\n".join(f"| {name} | {result} |" for name, result in rows)
    return f"""## Reliability

The full form of the reliability suite, `make reliability` (`tests/reliability`, about
{round(machine["duration_s"] / 60)} minutes here), on **{machine["date"]}** at commit `{machine["commit"]}`; raw
figures in [`benchmarks/reliability.json`](../benchmarks/reliability.json), each test and
finding explained in [docs/reliability.md](reliability.md). A short form of the same tests
runs in every `make test`. These are counts, not timings: each row is asserted by its test.

| test | result |
| --- | --- |
{table}
"""


def _state_machine(tests: Mapping[str, Any]) -> tuple[str, str]:
    engines = {name.split("[")[1].rstrip("]"): v["outcomes"] for name, v in tests.items() if "[" in name}
    steps = {engine: sum(outcomes.values()) for engine, outcomes in engines.items()}
    said = ", ".join(f"{n:,} steps on {engine}" for engine, n in steps.items())
    return (
        "ledger as a Hypothesis state machine",
        f"{said}: total conserved, no negative balance, replays idempotent, one event per "
        "committed transaction, after every step",
    )


def _load_with_faults(figures: Mapping[str, Any]) -> tuple[str, str]:
    return (
        "load with faults",
        f"{figures['transfers_sent']:,} transfers from {figures['clients']} clients; authorizer failing "
        f"{_pct(figures['authorizer_call_failure_rate'])} of calls, SES refusing {_pct(figures['ses_refused_rate'])} "
        f"of e-mails; {figures['committed_transfers']:,} committed, {figures['rejected_transfers']:,} rejected, "
        f"{figures['calls_without_answer']} without an answer; {figures['dead_lettered']} dead-lettered messages "
        f"re-driven; money {_centavos(figures['deposited_centavos'])} deposited = "
        f"{_centavos(figures['total_balance_centavos'])} in the balances; {figures['statement_entries']:,} "
        f"statement entries and {figures['emails']:,} e-mails, each exactly once",
    )


def _worker_kill(figures: Mapping[str, Any]) -> tuple[str, str]:
    killed = ", ".join(
        f"{n} {name.removesuffix('Function')}" for name, n in figures["workers_killed"].items()
    )
    return (
        "Lambda workers killed mid-load (`kill -9`)",
        f"{killed} workers killed during {figures['transfers_sent']:,} transfers; {figures['calls_without_answer']} "
        f"calls without an answer, retried with the same Idempotency-Key; money "
        f"{_centavos(figures['deposited_centavos'])} = {_centavos(figures['total_balance_centavos'])}; "
        f"{figures['statement_entries']:,} statement entries = {figures['emails']:,} e-mails",
    )


def _fuzzing(figures: Mapping[str, Any]) -> tuple[str, str]:
    statuses = [int(status) for per_operation in figures["statuses"].values() for status in per_operation]
    server_errors = sum(
        n
        for per_operation in figures["statuses"].values()
        for status, n in per_operation.items()
        if int(status) >= 500
    )
    failed = sum(n for per_check in figures["failing_checks"].values() for n in per_check.values())
    return (
        f"schemathesis {figures['schemathesis']} against `/openapi.json`",
        f"{figures['requests']:,} requests over {len(figures['statuses'])} operations, statuses "
        f"{', '.join(str(s) for s in sorted(set(statuses)))}: {server_errors} 5xx, "
        f"{failed} failed checks (status, content type, schema, headers: every response is one the spec documents)",
    )


def _crash(figures: Mapping[str, Any]) -> tuple[str, str]:
    return (
        "`kill -9` of the whole local stack mid-load",
        f"{figures['transfers_sent']:,} transfers; restarted ledger of {figures['restored_transactions']:,} "
        f"transactions, money {_centavos(figures['restored_deposited_centavos'])} deposited = "
        f"{_centavos(figures['restored_total_centavos'])} in the balances; "
        f"{figures['backlog_after_restart']['pending_events']} outbox events pending after the restart, "
        f"{sum(figures['sweeper_events_applied'])} of them finished by the sweeper in {figures['sweeper_runs']} "
        "run(s), the rest by the stream; every notification of the restored ledger e-mailed, "
        f"{figures['emails_sent_again_after_the_rollback']} of them twice because ministack's rollback "
        "erased their idempotency records (docs/local-stack.md, G10: state saved only at a graceful stop; AWS does not forget acknowledged writes)",
    )


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def _centavos(amount: int) -> str:
    return f"R$ {amount / 100:,.2f}"
