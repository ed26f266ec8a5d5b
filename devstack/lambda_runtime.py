"""What the python3.13 Lambda runtime puts on a function's ``sys.path``, modelled on this machine.

On Lambda, a function imports from its own folder (``/var/task``), its layers' ``python/``
folders (``/opt/python``), the runtime's packages (``/var/runtime``: boto3 and what it
requires) and the standard library, and from nothing else. ministack runs functions in its
own venv instead, where anything installed there is importable (docs/local-stack.md, G8), so
a dependency missing from the layer does not show locally. ``runtime_packages`` builds the
stand-in for ``/var/runtime``: tests/unit/test_layer.py imports every handler with only that,
the built layer and the standard library, and the cold-start benchmark measures the same way.
"""

from importlib.metadata import distribution
from pathlib import Path

# boto3 and the packages it requires (not its optional `crt` extra): what the python3.13
# runtime ships, and so what the layer leaves out (layers/wallet/requirements.txt). The
# runtime's versions are AWS's choice; this venv's stand in for them here.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def runtime_packages(folder: Path) -> Path:
    """Fill ``folder`` with links to this venv's copies of ``RUNTIME_DISTRIBUTIONS``, and only
    those: their packages, modules, metadata and the modules' compiled ``.pyc`` (the runtime's
    are precompiled too). Returns ``folder``, to put on ``sys.path`` where ``/var/runtime`` is."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_DISTRIBUTIONS:
        installed = distribution(name)
        for file in installed.files or []:
            top = file.parts[0]
            if top == "..":  # console scripts, outside site-packages
                continue
            # A top-level module's .pyc sits in the shared __pycache__: link the file alone.
            entry = Path(top) if top != "__pycache__" else Path(*file.parts)
            link = folder / entry
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(Path(str(installed.locate_file(entry))).resolve())
    return folder
