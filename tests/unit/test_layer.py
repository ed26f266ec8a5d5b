"""The layer as its Makefile builds it, imported the way Lambda imports it.

ministack runs functions in its own venv, where a package missing from the layer still
imports (docs/local-stack.md, G8). Here a fresh interpreter (``-I -S -B``: no site-packages,
no PYTHON* variables, nothing written) gets only what Lambda gives a function on its
``sys.path``: the function's folder, the built layer's ``python/``, the runtime's packages
(boto3 and what it requires, ``devstack.lambda_runtime``) and the standard library.
"""

import dis
import json
import marshal
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import PathDistribution, distribution
from pathlib import Path
from types import CodeType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from benchmarks.cold_start import BASELINE, Target, targets
from devstack.config import ROOT
from devstack.lambda_runtime import RUNTIME_DISTRIBUTIONS, runtime_packages
from devstack.template import FUNCTION_TYPE, LAYER_TYPE, logical_ids, template_document

NOT_IMPORTED = ROOT / "layers" / "wallet" / "not-imported.txt"
_ISOLATED = (sys.executable, "-I", "-S", "-B")
# The .pyc flags word (PEP 552): bit 0 hash-based, bit 1 check the source. 0b01: unchecked hash.
_UNCHECKED_HASH = 0b01

_IMPORT_HANDLER = """
import importlib, json, sys
paths, module, attribute = json.loads(sys.argv[1])
sys.path[:0] = paths
if not callable(getattr(importlib.import_module(module), attribute)):
    raise SystemExit(f"{module}.{attribute} is not callable")
"""

# What a handler's cold start loads, beyond the standard library's own modules.
_MODULES_AFTER_IMPORT = (
    _IMPORT_HANDLER
    + """
print(json.dumps(sorted(sys.modules)))
"""
)

# Modules that cost a cold start time and serve none of its requests: each is loaded on first
# use instead (benchmarks/cold_start.py measured what each one cost).
_NOT_AT_COLD_START = {
    # 41 pydantic classes, ~200 ms: only the spec (/openapi.json, /docs) needs them.
    "aws_lambda_powertools.event_handler.openapi.models",
    # X-Ray's PynamoDB patch (PynamoDB 6 sends through botocore, which is patched) and its
    # sqlite3 patch (the app has no database): X-Ray patches only what the app calls through.
    "aws_xray_sdk.ext.pynamodb.patch",
    "sqlite3",
}

# Every module of the package, those the functions import only on first use included.
_IMPORT_PACKAGE = """
import importlib, json, pkgutil, sys
paths, package = json.loads(sys.argv[1])
sys.path[:0] = paths
root = importlib.import_module(package)
for module in pkgutil.walk_packages(root.__path__, package + "."):
    importlib.import_module(module.name)
"""


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as `sam build` lays it out: the layer built by its own Makefile (as
    `BuildMethod: makefile` runs it), each function's folder as it is (they have no
    dependencies of their own, so `sam build` only copies them)."""
    build = tmp_path_factory.mktemp("build")
    (layer,) = logical_ids(LAYER_TYPE)
    source = ROOT / template_document()["Resources"][layer]["Properties"]["ContentUri"]
    # The venv's python3.13 first on PATH, as `make build` and devstack run `sam build`.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    finished = subprocess.run(
        ["make", "--no-print-directory", "-C", str(source), f"build-{layer}"],  # noqa: S607 - as sam build runs it
        env={**os.environ, "PATH": path, "ARTIFACTS_DIR": str(build / layer)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    for function in logical_ids(FUNCTION_TYPE):
        (build / function).symlink_to(
            ROOT / template_document()["Resources"][function]["Properties"]["CodeUri"]
        )
    return build


@pytest.fixture(scope="module")
def functions(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Target]:
    runtime = runtime_packages(tmp_path_factory.mktemp("runtime"))
    return {target.name: target for target in targets(build_dir, runtime) if target.name != BASELINE}


def _layer(build_dir: Path) -> Path:
    (layer,) = logical_ids(LAYER_TYPE)
    return build_dir / layer / "python"


def _isolated(code: str, argument: object, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_ISOLATED, "-c", code, json.dumps(argument)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("function", logical_ids(FUNCTION_TYPE))
def test_each_handler_imports_with_only_its_folder_the_layer_and_the_runtime(
    functions: dict[str, Target], function: str
) -> None:
    target = functions[function]
    finished = _isolated(
        _IMPORT_HANDLER, [target.sys_path, target.module, target.handler], target.environment
    )
    assert finished.returncode == 0, finished.stderr[-3000:]


@pytest.mark.parametrize("function", logical_ids(FUNCTION_TYPE))
def test_no_handler_loads_at_cold_start_what_none_of_its_requests_needs(
    functions: dict[str, Target], function: str
) -> None:
    target = functions[function]
    finished = _isolated(
        _MODULES_AFTER_IMPORT, [target.sys_path, target.module, target.handler], target.environment
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert not _NOT_AT_COLD_START & set(json.loads(finished.stdout))


def test_every_module_of_the_wallet_package_imports_with_only_the_layer_and_the_runtime(
    functions: dict[str, Target],
) -> None:
    """Also what the handlers import on first use only (the pipeline, the notifier)."""
    target = next(iter(functions.values()))
    layer_and_runtime = target.sys_path[1:]  # without the function's own folder
    finished = _isolated(_IMPORT_PACKAGE, [layer_and_runtime, "wallet"], target.environment)
    assert finished.returncode == 0, finished.stderr[-3000:]


_RENDER_DOCS_PAGE = """
import json, sys
paths, _ = json.loads(sys.argv[1])
sys.path[:0] = paths
from wallet.api.docs import swagger_page
print(len(swagger_page()))
"""


def test_the_docs_page_renders_from_the_gzipped_swagger_ui_the_layer_ships(
    functions: dict[str, Target],
) -> None:
    target = functions["QueriesFunction"]
    finished = _isolated(_RENDER_DOCS_PAGE, [target.sys_path, None], target.environment)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert int(finished.stdout) > 1_500_000  # the script and style, inlined


def test_the_runtime_packages_are_boto3_and_what_it_requires() -> None:
    """What the layer leaves out is exactly what the runtime brings: boto3's closure."""
    closure: set[str] = set()
    pending = ["boto3"]
    while pending:
        name = canonicalize_name(pending.pop())
        if name not in closure:
            closure.add(name)
            required = (Requirement(text) for text in distribution(name).requires or [])
            pending += [
                req.name for req in required if req.marker is None or req.marker.evaluate({"extra": ""})
            ]
    assert closure == {canonicalize_name(name) for name in RUNTIME_DISTRIBUTIONS}


def test_the_layer_holds_none_of_the_runtime_packages_and_needs_nothing_else(build_dir: Path) -> None:
    """requirements.txt is installed with --no-deps: every requirement of what is in the layer
    must be in the layer too, at a matching version, or be one of the runtime's packages (this
    venv's copies standing in for the runtime's)."""
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist
        for dist in (PathDistribution(path) for path in _layer(build_dir).glob("*.dist-info"))
    }
    runtime = {canonicalize_name(name) for name in RUNTIME_DISTRIBUTIONS}
    assert not runtime & installed.keys()
    unmet = []
    for name, dist in installed.items():
        for requirement in (Requirement(text) for text in dist.requires or []):
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            wanted = canonicalize_name(requirement.name)
            provider = installed.get(wanted) or (distribution(wanted) if wanted in runtime else None)
            if provider is None or not requirement.specifier.contains(provider.version, prereleases=True):
                unmet.append(f"{name} needs {requirement}, has {provider.version if provider else 'nothing'}")
    assert not unmet


def test_the_wallet_package_ships_its_sources_each_with_unchecked_hash_bytecode(build_dir: Path) -> None:
    """/opt is read-only: a module without its .pyc would be compiled on every cold start."""
    tag = sys.implementation.cache_tag
    missing, not_unchecked = [], []
    for source in (_layer(build_dir) / "wallet").rglob("*.py"):
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not compiled.is_file():
            missing.append(str(source))
        elif int.from_bytes(compiled.read_bytes()[4:8], "little") != _UNCHECKED_HASH:
            not_unchecked.append(str(compiled))
    assert not missing
    assert not not_unchecked


def test_the_pinned_packages_ship_as_bytecode_alone(build_dir: Path) -> None:
    """Sources beside their bytecode would double the layer; bytecode in __pycache__ without its
    source is never imported."""
    layer = _layer(build_dir)
    outside_wallet = [path for path in layer.rglob("*") if path.relative_to(layer).parts[0] != "wallet"]
    assert not [str(path) for path in outside_wallet if path.suffix == ".py"]
    assert not [str(path) for path in outside_wallet if path.name == "__pycache__"]


def _left_out() -> list[str]:
    """not-imported.txt's paths, each as the layer's python/ folder would hold it."""
    lines = (line.split("#", 1)[0].strip() for line in NOT_IMPORTED.read_text().splitlines())
    return [line for line in lines if line]


def _module_name(path: Path) -> str:
    """The module a path of the layer (or of a package's RECORD) holds: ``a/b/__init__.py`` is a.b."""
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_the_pinned_packages_install_is_in_the_layer_as_bytecode(build_dir: Path) -> None:
    """Also the modules no handler imports at cold start (the OpenAPI models, the Swagger page,
    idempotency's DynamoDB layer): each module a package's RECORD lists has its .pyc where its
    source was, but for what the build leaves out on purpose (test suites, type stubs,
    not-imported.txt), and each path not-imported.txt names is one the packages install."""
    layer = _layer(build_dir)
    left_out = _left_out()
    missing, installed = [], set()
    for record in layer.glob("*.dist-info/RECORD"):
        for line in record.read_text().splitlines():
            path = Path(line.split(",", 1)[0])
            installed |= {str(path.with_suffix(".pyc")), *(str(parent) for parent in path.parents)}
            on_purpose = (
                {"tests", "__pycache__"} & set(path.parts)
                or path.parts[0].endswith("-stubs")
                or any(path.with_suffix(".pyc").is_relative_to(entry) for entry in left_out)
            )
            if path.suffix == ".py" and not on_purpose and not (layer / path.with_suffix(".pyc")).is_file():
                missing.append(str(path))
    assert not missing
    assert set(left_out) <= installed
    assert not [entry for entry in left_out if (layer / entry).exists()]


def _imports_named(code: CodeType, package: str) -> Iterator[str]:
    """Every module an IMPORT_NAME in ``code`` (its nested functions and classes too) may load:
    the module, and each name of a ``from`` import, which may be a submodule."""
    instructions = list(dis.get_instructions(code))
    for at, instruction in enumerate(instructions):
        if instruction.opname != "IMPORT_NAME":
            continue
        # Python 3.13 loads the level and the names just before; a later Python that loads them
        # otherwise fails here rather than going unread.
        loads = instructions[at - 2 : at]
        assert [load.opname for load in loads] == ["LOAD_CONST", "LOAD_CONST"], loads
        level, names = (load.argval for load in loads)
        module = str(instruction.argval)
        if level:  # relative: from the package, one level up per extra dot
            base = package.split(".")[: len(package.split(".")) - level + 1]
            module = ".".join([*base, module] if module else base)
        yield module
        yield from (f"{module}.{name}" for name in names or () if name != "*")
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _imports_named(constant, package)


def _shipped_code(build_dir: Path) -> Iterator[tuple[str, str, CodeType]]:
    """(module, its package, its code) for every module of the layer and every handler."""
    layer = _layer(build_dir)
    for compiled in layer.rglob("*.pyc"):
        relative = compiled.relative_to(layer)
        if relative.parent.name == "__pycache__":  # the wallet package's: module.cpython-313.pyc
            relative = relative.parent.parent / f"{relative.name.split('.', 1)[0]}.py"
        module = _module_name(relative)
        package = module if relative.stem == "__init__" else module.rpartition(".")[0]
        # The layer this test just built, after its 16-byte header (PEP 552).
        yield module, package, marshal.loads(compiled.read_bytes()[16:])  # noqa: S302
    for handler in (ROOT / "functions").glob("*/app.py"):
        yield str(handler.relative_to(ROOT)), "", compile(handler.read_text(), str(handler), "exec")


def test_nothing_the_layer_keeps_imports_what_it_leaves_out(build_dir: Path) -> None:
    """Not even lazily, inside a function: every IMPORT_NAME of every module the layer ships,
    and of every handler, is read from its bytecode. What this cannot see: a module imported by
    a name built at run time (X-Ray's patcher does that for the libraries it patches: the
    handlers' import test above runs it for the two the Tracer patches), one loaded by a
    module's ``__getattr__`` (pydantic's lazy names, Powertools' parser models) or a
    ``LazyLoader``, and files read through ``importlib.resources`` (the docs page's test above
    reads Swagger UI's)."""
    left_out = {_module_name(Path(entry)) for entry in _left_out()}
    reaching = []
    for module, package, code in _shipped_code(build_dir):
        for imported in _imports_named(code, package):
            if any(imported == gone or imported.startswith(f"{gone}.") for gone in left_out):
                reaching.append(f"{module} imports {imported}")
    assert not reaching
