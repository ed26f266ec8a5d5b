"""What the routes need, built once per Lambda container from the validated environment.

Each factory is cached: the first request of a container builds it, the rest reuse it.
Powertools' ``Depends`` injects them into the route handlers.
"""

from functools import cache

from wallet.adapters.authorizer import HttpAuthorizer
from wallet.adapters.circuit_breaker import CircuitBreaker
from wallet.adapters.customers_store import CustomersStore
from wallet.adapters.ledger_store import LedgerStore
from wallet.observability import MetricUnit, metrics
from wallet.service.money_movement import MoneyMovement
from wallet.service.queries import Queries
from wallet.settings import AuthorizerSettings, TableSettings


@cache
def customers_store() -> CustomersStore:
    return CustomersStore(TableSettings.from_environment().customers_table)


@cache
def ledger_store() -> LedgerStore:
    return LedgerStore(TableSettings.from_environment().ledger_table)


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


def forget_all() -> None:
    """Drop every cached dependency, so the next request reads the environment again."""
    for factory in (customers_store, ledger_store, authorizer, money_movement, queries):
        factory.cache_clear()
