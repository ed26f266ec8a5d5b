"""docs/benchmarks.md: the hand-written docs/benchmarks.template.md with one run's numbers put in.

The prose is written by hand in the template; only numbers come from the run's
``latest.json`` (and the reliability suite's ``reliability.json``), through placeholders:
- ``{{name}}``: a figure, by its name in ``figures``;
- ``{{raw:benchmark.key.key}}`` and ``{{machine:key}}``: a value the run recorded (a list
  is written comma-separated, a mapping as ``key: value`` pairs);
- ``{{latency:benchmark.key}}``: the p50, p95, p99 and max cells of a latency summary;
- ``{{calc:name}}``: a number computed from the run (``CALCULATED``);
- ``{{rows:name}}``: table rows whose count depends on the run, one per function or per
  kind of write (``ROWS``); ``{{section:reliability}}``: the reliability suite's table.
A value the document does not hold (a figure added after the run) reads "not measured
yet"; a placeholder the renderer does not know is an error.
"""

import math
import re
from collections.abc import Callable
from typing import Any

from benchmarks import reliability_report
from devstack.config import ROOT

BenchmarkRun = dict[str, Any]
"""What one ``make bench`` recorded: ``benchmarks/latest.json`` (figures, raw values, machine)."""

TEMPLATE = ROOT / "docs" / "benchmarks.template.md"
NOT_MEASURED = "not measured yet"
PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_.:]+)\}\}")
ROWS_LINE = re.compile(r"^\{\{rows:(\w+)\}\}\n", re.MULTILINE)


class NotMeasured(Exception):
    """The run's document holds no such value."""


# ---------------------------------------------------------------------------- lookups


def _path(document: Any, path: str) -> Any:
    value = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise NotMeasured(path)
        value = value[key]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_text(item)}" for key, item in value.items()) or "none"
    return str(value)


def _latency(summary: Any) -> str:
    if not isinstance(summary, dict) or not summary:
        raise NotMeasured("latency")
    return " | ".join(str(summary[key]) for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))


def _figure(run: BenchmarkRun, name: str) -> float:
    figures: dict[str, float] = run["figures"]
    if name not in figures:
        raise NotMeasured(name)
    return figures[name]


# ---------------------------------------------------------------------------- computed values


def _core_wru(run: BenchmarkRun) -> float:
    """Write units of the transfer's own TransactWriteItems (accounts, the transaction with its event)."""
    kinds = _path(run, "raw.write_cost.per_kind")
    core = ("ledger account MODIFY", "ledger transaction INSERT")
    return float(
        sum(kinds[k]["wru_per_transfer"] - kinds[k]["gsi_wru_per_transfer"] for k in core if k in kinds)
    )


def _runtime_share(run: BenchmarkRun) -> float:
    sizes = _path(run, "raw.package_size")
    layer = next(iter(sizes["runtime_provided_in_layer_mb"]))
    share: float = sizes["runtime_provided_in_layer_mb"][layer] / sizes["sizes"][layer]["unzipped_mb"]
    return share


def _spread_of(rates: list[float]) -> float:
    """How far apart runs of the same kind are, in percent: (max - min) / mean."""
    return 100 * (max(rates) - min(rates)) / (sum(rates) / len(rates)) if len(rates) > 1 else 0.0


def _functions(run: BenchmarkRun) -> list[str]:
    return sorted(name for name in _path(run, "raw.cold_start.as_shipped") if name != "boto3")


def _layers(run: BenchmarkRun) -> list[str]:
    return sorted(_path(run, "raw.package_size.runtime_provided_in_layer_mb"))


CALCULATED: dict[str, Callable[[BenchmarkRun], object]] = {
    "duration_min": lambda run: round(_path(run, "machine.duration_s") / 60),
    "uncommitted": lambda run: (
        " (with uncommitted changes)" if _path(run, "machine.uncommitted_changes") else ""
    ),
    "core_wru": lambda run: round(_core_wru(run)),
    "raw_ms_per_transfer": lambda run: round(1000 / _path(run, "raw.throughput.raw_median.per_second"), 1),
    "runtime_provided_percent": lambda run: round(100 * _runtime_share(run)),
    "hot_payee_runs_spread_percent": lambda run: round(
        max(_spread_of(_path(run, f"raw.hot_payee.api_runs_per_s.{kind}")) for kind in ("spread", "hot"))
    ),
    "hot_payee_difference_percent": lambda run: round(100 * abs(1 - _figure(run, "hot_payee_vs_spread"))),
    "handler_rounds": lambda run: "; ".join(
        f"{one['handler_p50_ms']} / {one['requests_ms']}"
        for one in _path(run, "raw.request_path.handler_rounds")
    ),
    "reads_per_transfer": lambda run: round(_path(run, "raw.cost.per_transfer.dynamodb_read_units"), 2),
    "write_bytes_per_item": lambda run: round(
        _path(run, "raw.write_cost.kb_written_per_transfer")
        * 1024
        / _path(run, "raw.write_cost.item_writes_per_transfer")
    ),
    "layer_mb": lambda run: _figure(run, f"package_mb.{_layers(run)[0]}"),
    "layer_pyc_files": lambda run: _path(run, f"raw.package_size.sizes.{_layers(run)[0]}.pyc_files"),
    "layer_runtime_provided_mb": lambda run: _path(
        run, f"raw.package_size.runtime_provided_in_layer_mb.{_layers(run)[0]}"
    ),
    "layer_largest": lambda run: _text(_path(run, f"raw.package_size.largest_in_layer_mb.{_layers(run)[0]}")),
    "cold_start_import_profile": lambda run: ", ".join(
        f"{name} {ms:.0f}" for name, ms in _path(run, "raw.cold_start.import_profile_of_worst_ms").items()
    ),
    "cold_start_worst_modules": lambda run: _path(
        run, f"raw.cold_start.as_shipped.{_path(run, 'raw.cold_start.worst')}.modules"
    ),
    "handler_profile_top": lambda run: ", ".join(
        f"{package} {share}"
        for package, share in list(_path(run, "raw.request_path.handler_profile_percent").items())[:12]
    ),
}


# ---------------------------------------------------------------------------- rows


# figure -> (is it poor?, the threshold in words)
POOR: dict[str, tuple[Callable[[BenchmarkRun], bool], str]] = {
    "transfer_api_vs_raw": (lambda run: _figure(run, "transfer_api_vs_raw") < 0.5, "below 0.5"),
    "pipeline_vs_api": (
        lambda run: _figure(run, "pipeline_vs_api") < 1,
        "below 1 (the pipeline falls behind)",
    ),
    "handler_vs_own_requests": (lambda run: _figure(run, "handler_vs_own_requests") > 1.5, "above 1.5"),
    "notification_p95_ms": (lambda run: _figure(run, "notification_p95_ms") > 1000, "above 1 s"),
    "cold_start_vs_boto3": (lambda run: _figure(run, "cold_start_vs_boto3") > 2, "above 2"),
    "package_mb": (
        lambda run: _runtime_share(run) > 0.25,
        "more than a quarter of the layer is what the Lambda runtime already provides",
    ),
    "wru_per_transfer": (
        lambda run: _figure(run, "wru_per_transfer") > 2 * _core_wru(run),
        "more than twice the write units of the transfer's own TransactWriteItems",
    ),
    "hot_payee_vs_spread": (
        lambda run: _figure(run, "hot_payee_vs_spread") < 0.8,
        "below 0.8 (cannot happen locally: see hot payee)",
    ),
}


def _poor_rows(run: BenchmarkRun) -> list[str]:
    rows = []
    for name, (check, threshold) in POOR.items():
        try:
            verdict = "**poor**" if check(run) else "no"
        except NotMeasured:
            verdict = NOT_MEASURED
        rows.append(f"| `{name}` | {threshold} | {verdict} |")
    return rows


def _cold_start_figure_rows(run: BenchmarkRun) -> list[str]:
    shipped = _path(run, "raw.cold_start.as_shipped")
    return [
        f"| `cold_start_vs_boto3.{name}` | {_figure(run, f'cold_start_vs_boto3.{name}')} "
        f"| {shipped[name]['cpu_ms_median']:.0f} ms of CPU, peak RSS {shipped[name]['max_rss_mb']} MB |"
        for name in _functions(run)
    ]


def _package_figure_rows(run: BenchmarkRun) -> list[str]:
    sizes = _path(run, "raw.package_size.sizes")
    return [
        f"| `package_mb.{name}` | {_figure(run, f'package_mb.{name}')} | unzipped ({sizes[name]['bytes']:,} bytes); "
        f"{sizes[name]['zipped_mb']} MB zipped, {sizes[name]['files']} files |"
        for name in [*_functions(run), *_layers(run)]
    ]


def _cost_figure_rows(run: BenchmarkRun) -> list[str]:
    prices = _path(run, "raw.cost.prices")
    return [
        f"| `usd_per_million_transfers.{name}` | {_figure(run, f'usd_per_million_transfers.{name}')} "
        f"| of which: {prices[name]['per']} |"
        for name in _path(run, "raw.cost.per_transfer")
    ]


def _cold_start_rows(run: BenchmarkRun) -> list[str]:
    shipped, precompiled = _path(run, "raw.cold_start.as_shipped"), _path(run, "raw.cold_start.precompiled")
    return [
        f"| {name} | {shipped[name]['cpu_ms_median']} | **{shipped[name]['vs_boto3']}** "
        f"| {shipped[name]['wall_ms_median']} | {shipped[name]['wall_vs_boto3']} "
        f"| {precompiled[name]['cpu_ms_median']} | {precompiled[name]['vs_boto3']} "
        f"| {shipped[name]['import_ms_median']} | {shipped[name]['max_rss_mb']} | {shipped[name]['modules']} |"
        for name in ["boto3", *_functions(run)]
    ]


def _package_rows(run: BenchmarkRun) -> list[str]:
    return [
        f"| {name} | {size['bytes']:,} | {size['unzipped_mb']} | {size['zipped_mb']} | {size['files']} "
        f"| {size['pyc_files']} |"
        for name, size in _path(run, "raw.package_size.sizes").items()
    ]


def _write_cost_rows(run: BenchmarkRun) -> list[str]:
    return [
        f"| {name} | {kind['per_transfer']} | {kind['avg_bytes']} | {_text(kind['transactional'])} "
        f"| {kind['wru_per_transfer']} | {kind['gsi_wru_per_transfer']} | {kind['what']} |"
        for name, kind in _path(run, "raw.write_cost.per_kind").items()
    ]


def _cost_rows(run: BenchmarkRun) -> list[str]:
    per_transfer, prices = _path(run, "raw.cost.per_transfer"), _path(run, "raw.cost.prices")
    return [
        f"| {prices[name]['per']} | {_sig(quantity)} | {_sig(prices[name]['usd'])} "
        f"| {_figure(run, f'usd_per_million_transfers.{name}')} |"
        for name, quantity in per_transfer.items()
    ]


def _price_rows(run: BenchmarkRun) -> list[str]:
    return [f"| {price['per']} | {_sig(price['usd'])} |" for price in _path(run, "raw.cost.prices").values()]


def _sig(value: float) -> str:
    """A quantity with three significant digits, however small."""
    if value == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"


def _function_use_rows(run: BenchmarkRun) -> list[str]:
    return [
        f"| {name} | {use['invocations_per_transfer']} | {use['billed_ms_per_transfer']} | {use['memory_mb']} "
        f"| {use['log_bytes_per_transfer']} |"
        for name, use in _path(run, "raw.cost.functions").items()
    ]


def _stage_rows(run: BenchmarkRun) -> list[str]:
    stages = _path(run, "raw.notifications.stages")
    return [f"| {STAGES.get(name, name)} | {_latency(summary)} |" for name, summary in stages.items()]


STAGES = {
    "request_sent_to_send_money_started": "request sent -> send_money starts moving money (`created_at`)",
    "send_money_started_to_201_received": "`created_at` -> 201 read by the client",
    "send_money_started_to_sync_recorded_entry": "`created_at` -> sync records the statement entry",
    "201_received_to_sync_recorded_entry": "201 read by the client -> sync records the entry",
    "sync_recorded_entry_to_ses_sent": "entry recorded -> SNS -> SQS -> notify -> SES accepted the e-mail",
}

ROWS: dict[str, Callable[[BenchmarkRun], list[str]]] = {
    "poor": _poor_rows,
    "cold_start_figures": _cold_start_figure_rows,
    "package_figures": _package_figure_rows,
    "cost_figures": _cost_figure_rows,
    "cold_start": _cold_start_rows,
    "package_size": _package_rows,
    "write_cost": _write_cost_rows,
    "cost": _cost_rows,
    "prices": _price_rows,
    "function_use": _function_use_rows,
    "notification_stages": _stage_rows,
}


# ---------------------------------------------------------------------------- the page


def render(
    run: BenchmarkRun, reliability: reliability_report.ReliabilityRun | None, template: str | None = None
) -> str:
    page = TEMPLATE.read_text() if template is None else template
    # A rows placeholder is a line of its own: with no rows, the line goes (a blank line would
    # end the table).
    page = ROWS_LINE.sub(lambda match: "".join(f"{row}\n" for row in _rows(run, match[1])), page)
    return PLACEHOLDER.sub(lambda match: _value(run, reliability, match[1]), page)


def _rows(run: BenchmarkRun, name: str) -> list[str]:
    if name not in ROWS:
        raise KeyError(f"docs/benchmarks.template.md: unknown placeholder {{{{rows:{name}}}}}")
    try:
        return ROWS[name](run)
    except NotMeasured:
        return [f"| {NOT_MEASURED} |"]


def _value(run: BenchmarkRun, reliability: reliability_report.ReliabilityRun | None, placeholder: str) -> str:
    kind, _, name = placeholder.rpartition(":")
    lookups: dict[str, Callable[[], str]] = {
        "": lambda: _text(_figure(run, name)),
        "raw": lambda: _text(_path(run["raw"], name)),
        "machine": lambda: _text(_path(run["machine"], name)),
        "latency": lambda: _latency(_path(run["raw"], name)),
        "calc": lambda: _text(CALCULATED[name](run)),
        "section": lambda: reliability_report.render(reliability).rstrip("\n"),
    }
    if kind not in lookups or (kind == "calc" and name not in CALCULATED):
        raise KeyError(f"docs/benchmarks.template.md: unknown placeholder {{{{{placeholder}}}}}")
    try:
        return lookups[kind]()
    except NotMeasured:
        return NOT_MEASURED
