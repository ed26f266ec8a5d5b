"""Configuration from the environment, validated once at cold start.

The template sets these variables; endpoints are never configured here: boto3 and
PynamoDB read the standard ``AWS_ENDPOINT_URL*`` variables themselves.
"""

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field


class _FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def from_environment(cls) -> Self:
        return cls.model_validate(dict(os.environ))


class TableSettings(_FromEnvironment):
    customers_table: str = Field(alias="CUSTOMERS_TABLE", min_length=3)
    ledger_table: str = Field(alias="LEDGER_TABLE", min_length=3)


# template.yaml's AuthorizerUrl AllowedPattern, the same expression: https:// to any host
# (no user or password in the URL), plain http:// only to the loopback or host.docker.internal
# (the local stacks' stub), which nothing answers on AWS.
AUTHORIZER_URL_PATTERN = (
    r"^(https://[A-Za-z0-9.-]+|http://(127\.0\.0\.1|localhost|\[::1\]|host\.docker\.internal))"
    r"(:[0-9]{1,5})?(/[^\s]*)?$"
)


class AuthorizerSettings(_FromEnvironment):
    authorizer_url: str = Field(alias="AUTHORIZER_URL", pattern=AUTHORIZER_URL_PATTERN)
    timeout_seconds: float = Field(alias="AUTHORIZER_TIMEOUT_SECONDS", default=2.0, gt=0)


class EmailBusSettings(_FromEnvironment):
    email_topic_arn: str = Field(alias="EMAIL_TOPIC_ARN", min_length=3)


class SenderSettings(_FromEnvironment):
    sender_email: str = Field(alias="SENDER_EMAIL", min_length=3)


class IdempotencySettings(_FromEnvironment):
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=3)


class SweeperSettings(_FromEnvironment):
    grace_seconds: int = Field(alias="SWEEP_GRACE_SECONDS", default=120, ge=0)
