"""What the benchmarks read from template.yaml (through devstack.template) and from the build."""

from pathlib import Path
from typing import Any

from devstack.template import template_document


def function_environment(logical_id: str) -> dict[str, str]:
    """The environment the template gives a function (Globals, then its own), with stand-in values.

    A ``!Ref`` to a parameter takes the parameter's default; any other reference (a table,
    a topic) becomes a plain name: nothing is reached at import time.
    """
    template = template_document()
    global_variables = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    own = template["Resources"][logical_id]["Properties"].get("Environment", {})
    variables = {**global_variables.get("Variables", {}), **own.get("Variables", {})}
    parameters: dict[str, Any] = template.get("Parameters", {})
    return {name: _stand_in(name, value, parameters) for name, value in variables.items()}


def _stand_in(name: str, value: Any, parameters: dict[str, Any]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value and value["Ref"] in parameters:
        return str(parameters[value["Ref"]].get("Default", f"bench-{name.lower()}"))
    if name.endswith("_ARN"):
        return f"arn:aws:sns:us-east-1:000000000000:bench-{name.lower()}"
    return f"bench-{name.lower().replace('_', '-')}"


def handler_of(logical_id: str) -> str:
    handler: str = template_document()["Resources"][logical_id]["Properties"]["Handler"]
    return handler


def built(build_dir: Path, logical_id: str) -> Path:
    """Where ``sam build --build-dir build_dir`` put a function's or a layer's files."""
    return build_dir / logical_id


def layer_python_dir(build_dir: Path, logical_id: str) -> Path:
    """A Python layer's folder that Lambda puts on ``sys.path`` (as ``/opt/python``)."""
    return build_dir / logical_id / "python"
