"""Read resources out of template.yaml, the single source of truth, for tests that need them."""

from typing import Any

from devstack.template import template_document

# create_table accepts only these; TTL and PITR are table settings made by other calls.
_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


def resources() -> dict[str, Any]:
    return dict(template_document()["Resources"])


def create_table_request(logical_id: str, table_name: str) -> dict[str, Any]:
    """The template's table definition as a DynamoDB CreateTable request."""
    properties = resources()[logical_id]["Properties"]
    request = {key: properties[key] for key in _CREATE_TABLE_KEYS if key in properties}
    if "StreamSpecification" in request:
        request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
    return {"TableName": table_name, **request}


def template_parameters() -> dict[str, Any]:
    return dict(template_document()["Parameters"])
