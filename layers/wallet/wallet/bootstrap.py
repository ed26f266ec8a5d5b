"""The composition root: every adapter and use case, built from the validated environment.

Each factory is cached, so a Lambda container builds what it uses once, on its first
request, and reuses it while warm. Powertools' ``Depends`` injects them into the routes;
the stream, queue and schedule handlers call them directly.

Each factory imports what it builds: every function imports this module, and a module-level
import here would make each one load every store and use case at cold start whatever it
serves (register_customer the ledger and the authorizer client, send_money the statements
and, through the notifier, Powertools idempotency and boto3).
"""

# Imports inside the factories are the point of this module (see above).
# ruff: noqa: PLC0415

from functools import cache
from typing import TYPE_CHECKING

from wallet.observability import MetricUnit, metrics
from wallet.settings import (
    AuthorizerSettings,
    EmailBusSettings,
    IdempotencySettings,
    SenderSettings,
    TableSettings,
)

if TYPE_CHECKING:
    from wallet.adapters.authorizer import HttpAuthorizer
    from wallet.adapters.customers_store import CustomersStore
    from wallet.adapters.ledger_store import LedgerStore
    from wallet.adapters.statement_store import StatementStore
    from wallet.service.event_dispatcher import EventDispatcher
    from wallet.service.idempotent_sender import IdempotentNotificationSender
    from wallet.service.money_movement import MoneyMovement
    from wallet.service.queries import Queries
    from wallet.service.statements import StatementQueries
    from wallet.service.sweeper import OutboxSweeper


@cache
def customers_store() -> "CustomersStore":
    from wallet.adapters.customers_store import CustomersStore

    return CustomersStore(TableSettings.from_environment().customers_table)


@cache
def ledger_store() -> "LedgerStore":
    from wallet.adapters.ledger_store import LedgerStore

    return LedgerStore(TableSettings.from_environment().ledger_table)


@cache
def statement_store() -> "StatementStore":
    from wallet.adapters.statement_store import StatementStore

    return StatementStore(TableSettings.from_environment().customers_table)


def _record_authorizer_latency(milliseconds: float) -> None:
    metrics.add_metric(name="AuthorizerLatency", unit=MetricUnit.Milliseconds, value=milliseconds)


@cache
def authorizer() -> "HttpAuthorizer":
    from wallet.adapters.authorizer import HttpAuthorizer
    from wallet.adapters.circuit_breaker import CircuitBreaker

    settings = AuthorizerSettings.from_environment()
    return HttpAuthorizer(
        settings.authorizer_url,
        timeout_seconds=settings.timeout_seconds,
        breaker=CircuitBreaker(),
        observe_latency=_record_authorizer_latency,
    )


@cache
def money_movement() -> "MoneyMovement":
    from wallet.service.money_movement import MoneyMovement

    return MoneyMovement(ledger_store(), customers_store(), authorizer())


@cache
def queries() -> "Queries":
    from wallet.service.queries import Queries

    return Queries(customers_store(), ledger_store())


@cache
def statement_queries() -> "StatementQueries":
    from wallet.service.statements import StatementQueries

    return StatementQueries(customers_store(), statement_store())


@cache
def event_dispatcher() -> "EventDispatcher":
    from wallet.adapters.email_bus import SnsEmailBus
    from wallet.service.event_dispatcher import EventDispatcher, EventPorts

    email_bus = SnsEmailBus(EmailBusSettings.from_environment().email_topic_arn)
    return EventDispatcher(EventPorts(ledger_store(), customers_store(), statement_store(), email_bus))


@cache
def outbox_sweeper() -> "OutboxSweeper":
    from wallet.service.sweeper import OutboxSweeper

    return OutboxSweeper(event_dispatcher(), (customers_store(), ledger_store()))


@cache
def notification_sender() -> "IdempotentNotificationSender":
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from wallet.adapters.email_bus import SesMailer
    from wallet.service.idempotent_sender import IdempotentNotificationSender
    from wallet.service.notifications import NotificationSender

    mailer = SesMailer(SenderSettings.from_environment().sender_email)
    persistence = DynamoDBPersistenceLayer(
        table_name=IdempotencySettings.from_environment().idempotency_table
    )
    sender = NotificationSender(statement_store(), mailer)
    return IdempotentNotificationSender(sender, persistence)


_FACTORIES = (
    customers_store,
    ledger_store,
    statement_store,
    authorizer,
    money_movement,
    queries,
    statement_queries,
    event_dispatcher,
    outbox_sweeper,
    notification_sender,
)


def forget_all() -> None:
    """Drop everything built, so the next request reads the environment again."""
    from wallet.adapters.dynamodb import connection_for

    for factory in _FACTORIES:
        factory.cache_clear()
    connection_for.cache_clear()
