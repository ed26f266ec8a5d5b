"""The safety net, on a schedule: finish outbox events and notifications still pending.

Covers stream retries exhausted, a crash between two steps, and records older than the
stream's 24 h retention. Publishes OldestPendingOutboxAgeSeconds for the alarm.
"""

import os
from dataclasses import asdict
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.email_bus import SnsEmailBus
from wallet.adapters.ledger_store import LedgerStore
from wallet.adapters.statement_store import StatementStore
from wallet.observability import logger, metrics, tracer
from wallet.service.pipeline import DEFAULT_GRACE, Pipeline
from wallet.settings import NotificationSettings, TableSettings


class SweeperSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    grace_seconds: int = Field(alias="SWEEP_GRACE_SECONDS", default=int(DEFAULT_GRACE.total_seconds()), ge=0)


@cache
def pipeline() -> Pipeline:
    tables = TableSettings.from_environment()
    return Pipeline(
        LedgerStore(tables.ledger_table),
        CustomersStore(tables.customers_table),
        StatementStore(tables.customers_table),
        SnsEmailBus(NotificationSettings.from_environment().email_topic_arn),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    grace = timedelta(seconds=SweeperSettings.model_validate(os.environ).grace_seconds)
    report = pipeline().sweep(grace)
    logger.info("sweep done", extra=asdict(report))
    return asdict(report)
