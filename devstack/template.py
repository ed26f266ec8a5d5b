"""template.yaml, the single source of truth for resources, read as plain data (by devstack,
the tests and the benchmarks)."""

from functools import cache
from typing import Any

import yaml

from devstack.config import ROOT

TEMPLATE = ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Accepts CloudFormation's short tags (!Ref, !Sub, !GetAtt...) as ``{tag: value}``."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


@cache
def template_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    return loaded


# create_table accepts only these; TTL and PITR are table settings made by other calls.
_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"


def resources() -> dict[str, Any]:
    return dict(template_document()["Resources"])


def logical_ids(resource_type: str) -> list[str]:
    """The logical ids of the template's resources of one type, sorted."""
    return sorted(name for name, resource in resources().items() if resource["Type"] == resource_type)


def create_table_request(logical_id: str, table_name: str) -> dict[str, Any]:
    """The template's table definition as a DynamoDB CreateTable request."""
    properties = resources()[logical_id]["Properties"]
    request = {key: properties[key] for key in _CREATE_TABLE_KEYS if key in properties}
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    return {"TableName": table_name, **request}


def template_parameters() -> dict[str, Any]:
    return dict(template_document()["Parameters"])
