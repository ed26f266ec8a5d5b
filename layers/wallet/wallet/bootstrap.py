"""The composition root: every adapter and use case, built from the validated environment.

Each factory is cached, so a Lambda container builds what it uses once, on its first
request, and reuses it while warm. Powertools' ``Depends`` injects them into the routes;
the stream, queue and schedule handlers call them directly.
"""

from functools import cache
from typing import TYPE_CHECKING

from wallet.adapters.authorizer import HttpAuthorizer
from wallet.adapters.circuit_breaker import CircuitBreaker
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.dynamodb import connection_for
from wallet.adapters.ledger_store import LedgerStore
from wallet.adapters.statement_store import StatementStore
from wallet.observability import MetricUnit, metrics
from wallet.service.money_movement import MoneyMovement
from wallet.service.queries import Queries
from wallet.service.statements import StatementQueries

if TYPE_CHECKING:
    from wallet.service.notifications import OncePerNotification
    from wallet.service.pipeline import Pipeline

from wallet.settings import (
    AuthorizerSettings,
    EmailBusSettings,
    IdempotencySettings,
    SenderSettings,
    TableSettings,
)


@cache
def customers_store() -> CustomersStore:
    return CustomersStore(TableSettings.from_environment().customers_table)


@cache
def ledger_store() -> LedgerStore:
    return LedgerStore(TableSettings.from_environment().ledger_table)


@cache
def statement_store() -> StatementStore:
    return StatementStore(TableSettings.from_environment().customers_table)


def _record_authorizer_latency(milliseconds: float) -> None:
    metrics.add_metric(name="AuthorizerLatency", unit=MetricUnit.Milliseconds, value=milliseconds)


@cache
def authorizer() -> HttpAuthorizer:
    settings = AuthorizerSettings.from_environment()
    return HttpAuthorizer(
        settings.authorizer_url,
        timeout_seconds=settings.timeout_seconds,
        breaker=CircuitBreaker(),
        observe_latency=_record_authorizer_latency,
    )


@cache
def money_movement() -> MoneyMovement:
    return MoneyMovement(ledger_store(), customers_store(), authorizer())


@cache
def queries() -> Queries:
    return Queries(customers_store(), ledger_store())


@cache
def statement_queries() -> StatementQueries:
    return StatementQueries(customers_store(), statement_store())


# The pipeline's modules are imported on first use: they bring boto3's SNS/SES clients and
# Powertools idempotency, which the API functions would otherwise pay for at cold start.


@cache
def pipeline() -> "Pipeline":
    from wallet.adapters.email_bus import SnsEmailBus  # noqa: PLC0415
    from wallet.service.pipeline import Pipeline  # noqa: PLC0415

    email_bus = SnsEmailBus(EmailBusSettings.from_environment().email_topic_arn)
    return Pipeline(ledger_store(), customers_store(), statement_store(), email_bus)


@cache
def notification_sender() -> "OncePerNotification":
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415

    from wallet.adapters.email_bus import SesMailer  # noqa: PLC0415
    from wallet.service.notifications import NotificationSender, OncePerNotification  # noqa: PLC0415

    mailer = SesMailer(SenderSettings.from_environment().sender_email)
    persistence = DynamoDBPersistenceLayer(
        table_name=IdempotencySettings.from_environment().idempotency_table
    )
    sender = NotificationSender(statement_store(), customers_store(), mailer)
    return OncePerNotification(sender, persistence)


_FACTORIES = (
    customers_store,
    ledger_store,
    statement_store,
    authorizer,
    money_movement,
    queries,
    statement_queries,
    pipeline,
    notification_sender,
)


def forget_all() -> None:
    """Drop everything built, so the next request reads the environment again."""
    for factory in _FACTORIES:
        factory.cache_clear()
    connection_for.cache_clear()
