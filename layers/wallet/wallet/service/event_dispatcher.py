"""Where an event goes: ``EVENT_HANDLERS``, one handler per event type, each in a module
named after its event (``on_customer_registered``, ``on_transaction_created``).

The stream consumer (``functions/sync``) applies each event as it is written, and the
sweeper (``wallet.service.sweeper``) whatever is still pending, both through
``EventDispatcher.apply``. Every handler is idempotent: a duplicate delivery, a retry or a
re-drive of the same event changes nothing the second time.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wallet.events import CustomerRegistered, Event, TransactionCreated
from wallet.service.clock import utc_now
from wallet.service.on_customer_registered import apply_customer_registered
from wallet.service.on_transaction_created import apply_transaction_created
from wallet.service.ports import Activations, EmailBus, LedgerOfEvents, StatementWriter


@dataclass(frozen=True)
class EventPorts:
    """Everything any event handler writes to."""

    ledger: LedgerOfEvents
    customers: Activations
    statements: StatementWriter
    bus: EmailBus
    now: Callable[[], datetime] = utc_now


def _customer_registered(event: CustomerRegistered, ports: EventPorts) -> None:
    apply_customer_registered(event, ports.ledger, ports.customers, ports.now)


def _transaction_created(event: TransactionCreated, ports: EventPorts) -> None:
    apply_transaction_created(event, ports.ledger, ports.statements, ports.bus, ports.now)


EventHandler = Callable[[Any, EventPorts], None]

EVENT_HANDLERS: Mapping[type[Event], EventHandler] = {
    CustomerRegistered: _customer_registered,
    TransactionCreated: _transaction_created,
}


class UnhandledEvent(LookupError):
    """An event type no handler takes."""


class EventDispatcher:
    def __init__(
        self, ports: EventPorts, handlers: Mapping[type[Event], EventHandler] = EVENT_HANDLERS
    ) -> None:
        self._ports = ports
        self._handlers = handlers

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            raise UnhandledEvent(f"no handler for {type(event).__name__}")
        handler(event, self._ports)
