"""``package_mb``: what ``sam build`` produces for each function and for the layer.

Unzipped bytes of each folder ``sam build`` wrote (to a build folder of the benchmark's own,
so that another build in the same tree cannot change it midway) and the size of the zip that
``sam deploy`` would upload (deflated, built in memory). Lambda's limits: 50 MB zipped
per direct upload, 250 MB unzipped for a function and all its layers together.
"""

import io
import zipfile
from importlib import metadata
from pathlib import Path

from benchmarks.common import Result
from benchmarks.template import built
from devstack.progress import Progress
from devstack.template import FUNCTION_TYPE, LAYER_TYPE, logical_ids

MB = 1024 * 1024
# What the python3.13 Lambda runtime already has: boto3 and what it brings.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _zipped_bytes(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getbuffer().nbytes


def _largest_packages(folder: Path, top: int = 6) -> dict[str, float]:
    """The biggest top-level entries of a layer's ``python/`` folder, in MB (unzipped)."""
    root = folder / "python"
    if not root.is_dir():
        return {}
    sizes = {
        entry.name: sum(p.stat().st_size for p in (_files(entry) if entry.is_dir() else [entry]))
        for entry in root.iterdir()
    }
    largest = sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:top]
    return {name: round(size / MB, 2) for name, size in largest}


def _runtime_provided_mb(folder: Path) -> float:
    """How much of a layer the Lambda runtime already provides (boto3, botocore and their deps)."""
    root = folder / "python"
    total = 0
    for name in RUNTIME_PROVIDED:
        entry = root / name
        if entry.is_dir():
            total += sum(path.stat().st_size for path in _files(entry))
        elif entry.is_file():
            total += entry.stat().st_size
    return round(total / MB, 3)


def _dist_versions(folder: Path, distribution: str) -> list[str]:
    """Versions of ``distribution`` installed in a layer, from its ``.dist-info`` folders."""
    found = (folder / "python").glob(f"{distribution}-*.dist-info")
    return sorted(path.name.removesuffix(".dist-info").split("-", 1)[1] for path in found)


def run(build_dir: Path, progress: Progress) -> Result:
    result = Result()
    sizes: dict[str, dict[str, float]] = {}
    for logical_id in [*logical_ids(FUNCTION_TYPE), *logical_ids(LAYER_TYPE)]:
        folder = built(build_dir, logical_id)
        if not folder.is_dir():
            raise RuntimeError(f"{folder} is missing: sam build did not produce it")
        files = _files(folder)
        unzipped = sum(path.stat().st_size for path in files)
        zipped = _zipped_bytes(folder)
        sizes[logical_id] = {
            "bytes": unzipped,
            "files": len(files),
            "unzipped_mb": round(unzipped / MB, 3),
            "zipped_mb": round(zipped / MB, 3),
            "python_files": sum(1 for path in files if path.suffix == ".py"),
            "pyc_files": sum(1 for path in files if path.suffix == ".pyc"),
            "pyc_mb": round(sum(path.stat().st_size for path in files if path.suffix == ".pyc") / MB, 3),
        }
        result.figures[f"package_mb.{logical_id}"] = round(unzipped / MB, 4)
        progress(f"  {logical_id}: {unzipped / MB:.3f} MB unzipped, {zipped / MB:.3f} MB zipped")
    layers = logical_ids(LAYER_TYPE)
    result.raw = {
        "sizes": sizes,
        "largest_in_layer_mb": {layer: _largest_packages(built(build_dir, layer), top=8) for layer in layers},
        "runtime_provided_in_layer_mb": {
            layer: _runtime_provided_mb(built(build_dir, layer)) for layer in layers
        },
        "botocore_in_layer": {layer: _dist_versions(built(build_dir, layer), "botocore") for layer in layers},
        "botocore_beside_boto3_here": metadata.version("botocore"),
        "biggest_function_with_layers_unzipped_mb": round(
            max(sizes[f]["unzipped_mb"] for f in logical_ids(FUNCTION_TYPE))
            + sum(sizes[layer]["unzipped_mb"] for layer in layers),
            3,
        ),
    }
    return result
