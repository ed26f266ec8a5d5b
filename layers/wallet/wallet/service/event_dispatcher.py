"""Where an event goes: ``EVENT_HANDLERS``, one handler per event type, each in a module
named after its event (``on_customer_registered``, ``on_transaction_created``).

The stream consumer (``functions/sync``) applies each batch of events as it is written, and
the sweeper (``wallet.service.sweeper``) whatever is still pending, a page at a time, both
through ``EventDispatcher.apply_all``. A handler takes every event of its type in the batch
at once, so that the events can share a request where nothing in it is conditional on one
of them (the statement entries, the notifications). Every handler is
idempotent: a duplicate delivery, a retry or a re-drive of the same event changes nothing
the second time.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wallet.domain.errors import StoreBusy
from wallet.events import CustomerRegistered, Event, TransactionCreated
from wallet.observability import logger
from wallet.service.clock import utc_now
from wallet.service.on_customer_registered import apply_customer_registered
from wallet.service.on_transaction_created import apply_transactions_created
from wallet.service.ports import Activations, EmailBus, LedgerOfEvents, StatementWriter


@dataclass(frozen=True)
class EventPorts:
    """Everything any event handler writes to."""

    ledger: LedgerOfEvents
    customers: Activations
    statements: StatementWriter
    bus: EmailBus
    now: Callable[[], datetime] = utc_now


def _customers_registered(events: Sequence[CustomerRegistered], ports: EventPorts) -> list[Event]:
    """Each on its own: registrations share no request."""
    left: list[Event] = []
    for event in events:
        try:
            apply_customer_registered(event, ports.ledger, ports.customers, ports.now)
        except Exception:
            logger.exception("registration event failed", extra={"event_id": event.event_id})
            left.append(event)
    return left


def _transactions_created(events: Sequence[TransactionCreated], ports: EventPorts) -> list[Event]:
    # A new list: a list of TransactionCreated is not a list of Event to the type checker.
    return list(apply_transactions_created(events, ports.ledger, ports.statements, ports.bus, ports.now))


# Applies events of one type together: returns those it left pending, and raises when a
# request they share fails (which leaves them all pending).
EventHandler = Callable[[Sequence[Any], EventPorts], list[Event]]

EVENT_HANDLERS: Mapping[type[Event], EventHandler] = {
    CustomerRegistered: _customers_registered,
    TransactionCreated: _transactions_created,
}


class UnhandledEvent(LookupError):
    """An event type no handler takes."""


class EventLeftPending(Exception):
    """Its handler left the event pending (the reason is logged)."""


class EventDispatcher:
    def __init__(
        self, ports: EventPorts, handlers: Mapping[type[Event], EventHandler] = EVENT_HANDLERS
    ) -> None:
        self._ports = ports
        self._handlers = handlers

    def apply(self, event: Event) -> None:
        """One event; raises what kept it from being applied (``EventLeftPending`` when its
        handler logged the reason itself: a mark or a registration that failed)."""
        if self._handler(type(event))([event], self._ports):
            raise EventLeftPending(event.event_id)

    def apply_all(self, events: Sequence[Event]) -> list[Event]:
        """Every event, each type's together; the events left pending, each failure logged.

        When a request the events of a type share fails, each is applied again alone, so that
        only the one at fault is left pending: a poison event never fails its neighbours. Not
        when the store is busy (throttled): one request each would only add to its load."""
        left: list[Event] = []
        for event_type, group in _distinct_by_type(events).items():
            try:
                left += self._handler(event_type)(group, self._ports)
            except StoreBusy:
                logger.warning("store busy: the events stay pending", extra={"event_ids": _ids(group)})
                left += group
            except Exception:
                logger.exception(
                    "events failed together",
                    extra={"event_type": event_type.__name__, "event_ids": _ids(group)},
                )
                left += self._each_alone(group)
        return left

    def _each_alone(self, group: list[Event]) -> list[Event]:
        """The events left pending when each is applied on its own (a group of one just was)."""
        if len(group) == 1:
            return group
        return [event for event in group if not self._applied_alone(event)]

    def _applied_alone(self, event: Event) -> bool:
        try:
            self.apply(event)
        except EventLeftPending:
            return False  # its handler logged why
        except Exception:
            logger.exception("event failed alone", extra={"event_id": event.event_id})
            return False
        return True

    def _handler(self, event_type: type[Event]) -> EventHandler:
        handler = self._handlers.get(event_type)
        if handler is None:
            raise UnhandledEvent(f"no handler for {event_type.__name__}")
        return handler


def _ids(events: Sequence[Event]) -> list[str]:
    return [event.event_id for event in events]


def _distinct_by_type(events: Sequence[Event]) -> dict[type[Event], list[Event]]:
    """The events by type, each once (by event id: a batch never writes one item twice), in
    their order."""
    groups: dict[type[Event], dict[str, Event]] = {}
    for event in events:
        groups.setdefault(type(event), {}).setdefault(event.event_id, event)
    return {event_type: list(unique.values()) for event_type, unique in groups.items()}
