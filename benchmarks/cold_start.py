"""``cold_start_vs_boto3``: a fresh process loading each function's handler, over one importing boto3.

Each sample is a new interpreter (the venv's Python 3.13, started with ``-S``: no
site-packages) whose ``sys.path`` is what Lambda gives a function: its built folder
(``/var/task``), the layer's ``python/`` folder (``/opt/python``), the runtime's packages
(``/var/runtime``: boto3 and what it requires, linked from the venv by
``devstack.lambda_runtime``) and the standard library. Nothing else from the venv is
importable, so the X-Ray SDK finds no psycopg2 or requests to patch and botocore no awscrt,
as on Lambda. The environment is the one the template gives the function (stand-in values;
the endpoint points at a closed port, so nothing is reached) plus Lambda's own variables.
The child imports the handler module, which runs its module-level initialisation (routers,
resolver, batch processors), checks the handler is callable, and reports its import time,
peak RSS (``VmHWM``) and the CPU time the whole process used. The ratio is on that CPU time
(median of the repeats): an import is single-threaded and CPU-bound, so on an idle core CPU
time is the cold start's wall time, and unlike wall time it does not grow when other work
shares the machine. The parent's wall time of each process is reported beside. The baseline
is the same interpreter importing boto3 from the runtime's packages alone.

Two variants, each against its own boto3 baseline:
- ``as shipped``: ``PYTHONDONTWRITEBYTECODE=1`` and the build as ``sam build`` leaves it:
  like Lambda, where ``/opt`` and ``/var/task`` are read-only, so whatever the build did not
  compile is compiled again on every cold start (the layer's Makefile ships ``.pyc``; the
  functions' folders hold one small module each). The runtime's packages come with their
  ``.pyc``, compiled at install, as the runtime's are. This is the headline figure.
- ``precompiled``: a warm ``PYTHONPYCACHEPREFIX`` (which replaces every ``__pycache__``):
  everything compiled, the functions' own modules included.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Result
from benchmarks.template import built, function_environment, handler_of, layer_python_dir
from devstack.lambda_runtime import runtime_packages
from devstack.progress import Progress
from devstack.template import FUNCTION_TYPE, LAYER_TYPE, logical_ids

BASELINE = "boto3"
# No site-packages (-S): the child's sys.path is the standard library and what it is given.
_INTERPRETER = (sys.executable, "-S")
_CHILD = """
import importlib, json, os, resource, sys, time
started = time.perf_counter()
sys.path[:0] = json.loads(os.environ["BENCH_SYS_PATH"])
module = importlib.import_module(os.environ["BENCH_MODULE"])
attribute = os.environ.get("BENCH_HANDLER")
if attribute and not callable(getattr(module, attribute)):
    raise SystemExit(f"{attribute} is not callable")
print(json.dumps({
    "import_s": time.perf_counter() - started,
    # VmHWM: this process image's peak RSS (ru_maxrss would carry over the parent's across fork).
    "max_rss_kb": next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")),
    "modules": len(sys.modules),
    # CPU time of the whole process so far, interpreter start-up included.
    "cpu_s": (lambda usage: usage.ru_utime + usage.ru_stime)(resource.getrusage(resource.RUSAGE_SELF)),
}))
"""


@dataclass(frozen=True)
class Target:
    name: str
    sys_path: list[str]
    module: str
    handler: str | None
    environment: dict[str, str]


def _aws_environment() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # the discard port: nothing answers
    }


def targets(build_dir: Path, runtime_dir: Path) -> list[Target]:
    """The baseline and every function; ``runtime_dir`` holds ``runtime_packages``."""
    layers = [str(layer_python_dir(build_dir, layer)) for layer in logical_ids(LAYER_TYPE)]
    runtime = str(runtime_dir)
    found = [Target(BASELINE, [runtime], "boto3", None, _aws_environment())]
    for logical_id in logical_ids(FUNCTION_TYPE):
        module, _, handler = handler_of(logical_id).rpartition(".")
        task_root = str(built(build_dir, logical_id))
        lambda_variables = {
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "LAMBDA_TASK_ROOT": task_root,
            "_HANDLER": handler_of(logical_id),
        }
        environment = {**_aws_environment(), **lambda_variables, **function_environment(logical_id)}
        found.append(Target(logical_id, [task_root, *layers, runtime], module, handler, environment))
    return found


def _sample(target: Target, bytecode: dict[str, str], cwd: str) -> dict[str, float]:
    environment = {
        **target.environment,
        **bytecode,
        "BENCH_SYS_PATH": json.dumps(target.sys_path),
        "BENCH_MODULE": target.module,
        "BENCH_HANDLER": target.handler or "",
    }
    started = time.perf_counter()
    finished = subprocess.run(  # noqa: S603 - our own interpreter and code
        [*_INTERPRETER, "-c", _CHILD], env=environment, cwd=cwd, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"cold start of {target.name} failed:\n{finished.stderr[-2000:]}")
    reported: dict[str, float] = json.loads(finished.stdout.strip().splitlines()[-1])
    return {**reported, "wall_s": wall}


def _measure(
    found: list[Target], bytecode: dict[str, str], repeats: int, warm_up: bool, cwd: str
) -> dict[str, dict[str, Any]]:
    if warm_up:
        for target in found:
            _sample(target, bytecode, cwd)
    samples: dict[str, list[dict[str, float]]] = {target.name: [] for target in found}
    for _ in range(repeats):  # round-robin, so that a slow moment hits every target alike
        for target in found:
            samples[target.name].append(_sample(target, bytecode, cwd))
    measured: dict[str, dict[str, Any]] = {}
    for name, runs in samples.items():
        measured[name] = {
            "cpu_ms_median": round(statistics.median(r["cpu_s"] for r in runs) * 1000, 1),
            "wall_ms_median": round(statistics.median(r["wall_s"] for r in runs) * 1000, 1),
            "import_ms_median": round(statistics.median(r["import_s"] for r in runs) * 1000, 1),
            "max_rss_mb": round(max(r["max_rss_kb"] for r in runs) / 1024, 1),
            "modules": int(max(r["modules"] for r in runs)),
            "cpu_ms_samples": [round(r["cpu_s"] * 1000, 1) for r in runs],
            "wall_ms_samples": [round(r["wall_s"] * 1000, 1) for r in runs],
        }
    cpu_baseline, wall_baseline = measured[BASELINE]["cpu_ms_median"], measured[BASELINE]["wall_ms_median"]
    for figures in measured.values():
        figures["vs_boto3"] = round(figures["cpu_ms_median"] / cpu_baseline, 2)
        figures["wall_vs_boto3"] = round(figures["wall_ms_median"] / wall_baseline, 2)
    return measured


def import_profile(target: Target, cwd: str, top: int = 10) -> dict[str, float]:
    """Where one cold start's import time goes: ``-X importtime``'s own ("self") time of the
    modules of each top-level package, in ms, as shipped (compiling included), biggest first."""
    environment = {
        **target.environment,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPROFILEIMPORTTIME": "1",
        "BENCH_SYS_PATH": json.dumps(target.sys_path),
        "BENCH_MODULE": target.module,
        "BENCH_HANDLER": target.handler or "",
    }
    finished = subprocess.run(  # noqa: S603 - our own interpreter and code
        [*_INTERPRETER, "-c", _CHILD], env=environment, cwd=cwd, capture_output=True, text=True, check=True
    )
    packages: dict[str, float] = defaultdict(float)
    for line in finished.stderr.splitlines():
        # "import time:      self [us] |  cumulative | imported package" (nesting indents the name)
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            packages[parts[2].strip().split(".")[0]] += int(parts[0]) / 1000
    ranked = sorted(packages.items(), key=lambda item: item[1], reverse=True)[:top]
    return {name: round(ms, 1) for name, ms in ranked}


def _interpreter_only_ms(cwd: str, repeats: int) -> float:
    """A fresh interpreter that imports nothing: the floor under both sides of the ratio."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([*_INTERPRETER, "-c", "pass"], cwd=cwd, check=True, env=_aws_environment())  # noqa: S603
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def run(build_dir: Path, progress: Progress, repeats: int = 7, precompiled_repeats: int = 5) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        found = targets(build_dir, runtime_packages(Path(scratch) / "runtime"))
        cwd = str(Path(scratch) / "cwd")
        Path(cwd).mkdir()
        progress(f"  as shipped (read-only, like /opt and /var/task): {repeats} fresh processes per target")
        shipped = _measure(found, {"PYTHONDONTWRITEBYTECODE": "1"}, repeats, warm_up=False, cwd=cwd)
        progress(f"  precompiled (warm PYTHONPYCACHEPREFIX): {precompiled_repeats} per target")
        prefix = {"PYTHONPYCACHEPREFIX": str(Path(scratch) / "pycache")}
        precompiled = _measure(found, prefix, precompiled_repeats, warm_up=True, cwd=cwd)
        interpreter_ms = _interpreter_only_ms(cwd, repeats)
        functions = [target.name for target in found if target.name != BASELINE]
        worst = max(functions, key=lambda name: shipped[name]["vs_boto3"])
        profile = import_profile(next(target for target in found if target.name == worst), cwd)
    worst_precompiled = max(functions, key=lambda name: precompiled[name]["vs_boto3"])
    result = Result()
    result.figures["cold_start_vs_boto3"] = shipped[worst]["vs_boto3"]
    for name in functions:
        result.figures[f"cold_start_vs_boto3.{name}"] = shipped[name]["vs_boto3"]
        progress(
            f"  {name}: {shipped[name]['cpu_ms_median']:.0f} ms CPU as shipped, "
            f"{precompiled[name]['cpu_ms_median']:.0f} ms precompiled, {shipped[name]['max_rss_mb']} MB RSS"
        )
    result.figures["cold_start_precompiled_vs_boto3"] = precompiled[worst_precompiled]["vs_boto3"]
    result.raw = {
        "worst": worst,
        "worst_precompiled": worst_precompiled,
        "as_shipped": shipped,
        "precompiled": precompiled,
        "interpreter_only_ms": interpreter_ms,
        "import_profile_of_worst_ms": profile,
        "repeats": repeats,
        "precompiled_repeats": precompiled_repeats,
        "python": sys.version.split()[0],
    }
    return result
