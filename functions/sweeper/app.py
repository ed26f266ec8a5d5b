"""The safety net, on a schedule: finish outbox events still pending (their notifications included).

Covers stream retries exhausted, a crash between two steps, and records older than the
stream's 24 h retention. Publishes OldestPendingOutboxAgeSeconds for the alarm.
"""

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from wallet import bootstrap
from wallet.observability import logger, metrics, tracer
from wallet.settings import SweeperSettings

# A sweep starts no new page with less than this left of its timeout: a page takes seconds.
RESERVE_MS = 15_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    grace = timedelta(seconds=SweeperSettings.from_environment().grace_seconds)
    report = bootstrap.outbox_sweeper().sweep(
        grace, has_time=lambda: context.get_remaining_time_in_millis() > RESERVE_MS
    )
    logger.info("sweep done", extra=asdict(report))
    return asdict(report)
