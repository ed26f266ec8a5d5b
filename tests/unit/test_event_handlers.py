"""Where each event goes, on in-memory ports: replays, crashes half-way and the sweeper, in milliseconds.

Every handler must tolerate a duplicate delivery (the stream retries, the sweeper re-drives)
and a crash between any two of its steps (the event stays pending, and the retry starts over).
The same cases run on ministack's real stream in tests/pipeline/test_sync.py.
"""

import json
from datetime import timedelta
from typing import get_args, get_type_hints

import pytest

from tests.support.fakes import (
    NOW,
    FakeAuthorizer,
    FakeCustomers,
    FakeEmailBus,
    FakeLedger,
    FakePendingEvent,
    FakeStatements,
)
from wallet.domain.customers import CustomerStatus, CustomerType
from wallet.domain.errors import StoreBusy
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import Direction
from wallet.events import CustomerRegistered, CustomerRegisteredV1, Event, TransactionCreated, parse_event
from wallet.service.event_dispatcher import (
    EVENT_HANDLERS,
    EventDispatcher,
    EventLeftPending,
    EventPorts,
    UnhandledEvent,
)
from wallet.service.money_movement import MoneyMovement
from wallet.service.sweeper import OutboxSweeper

ANA, BIA = "ana", "bia"


class EventSide:
    """The ports every handler writes to, the dispatcher over them and a sweeper of both backlogs."""

    def __init__(self) -> None:
        self.ledger = FakeLedger()
        self.customers = FakeCustomers()
        self.statements = FakeStatements(self.customers)
        self.bus = FakeEmailBus()
        ports = EventPorts(self.ledger, self.customers, self.statements, self.bus, now=lambda: NOW)
        self.dispatcher = EventDispatcher(ports)

    def sweeper(self, page_size: int = 100) -> OutboxSweeper:
        return OutboxSweeper(
            self.dispatcher,
            (self.customers, self.ledger),
            now=lambda: NOW + timedelta(hours=1),
            page_size=page_size,
        )

    def registered(self, customer_id: str) -> CustomerRegistered:
        self.customers.register(customer_id)
        event = self.customers.outbox[f"event-{customer_id}"].event()
        assert isinstance(event, CustomerRegistered)
        return event

    def transfer_event(self, amount: int = 250) -> TransactionCreated:
        """ANA's transfer to BIA, committed in the ledger with its event pending."""
        for customer_id in (ANA, BIA):
            if self.ledger.account(customer_id) is None:
                self.ledger.open(customer_id, 1_000)
        money = MoneyMovement(self.ledger, self.customers, FakeAuthorizer(), now=lambda: NOW)
        movement = money.transfer(ANA, BIA, amount, None)
        event = self.ledger.pending[movement.transaction.id].event()
        assert isinstance(event, TransactionCreated)
        return event

    def published_roles(self) -> list[tuple[str, str]]:
        return [(attributes["kind"], attributes["role"]) for _, attributes in self.bus.published]


@pytest.fixture
def side() -> EventSide:
    return EventSide()


# ------------------------------------------------------------------ the table


def test_every_event_a_payload_can_hold_has_its_handler() -> None:
    # Read from parse_event's own signature: an event type added there without a handler fails here.
    assert set(get_args(get_type_hints(parse_event)["return"])) == set(EVENT_HANDLERS)
    payloads = {
        "CustomerRegistered/v2": CustomerRegistered(
            event_id="e", occurred_at=NOW, customer_id=ANA, type=CustomerType.INDIVIDUAL
        ),
        "TransactionCreated/v1": TransactionCreated(
            event_id="e",
            occurred_at=NOW,
            transaction_id="t",
            kind=TransactionKind.DEPOSIT,
            payer_id=None,
            payee_id=ANA,
            amount=1,
        ),
    }
    assert {type(parse_event(event.model_dump_json())) for event in payloads.values()} == set(EVENT_HANDLERS)
    v1 = CustomerRegisteredV1(
        version=1,
        event_type="CustomerRegistered",
        event_id="e",
        occurred_at=NOW,
        customer_id=ANA,
        name="Ana",
        email="ana@example.com",
        document="52998224725",
        type=CustomerType.INDIVIDUAL,
    )
    assert type(parse_event(v1.model_dump_json())) in EVENT_HANDLERS  # read as the current version


def test_an_event_no_handler_takes_is_refused_not_dropped(side: EventSide) -> None:
    class Unknown(Event):
        version: int = 1

    with pytest.raises(UnhandledEvent):
        side.dispatcher.apply(Unknown(event_id="e", occurred_at=NOW))


# ------------------------------------------------------------ CustomerRegistered


def test_a_registration_opens_the_account_then_activates_the_customer(side: EventSide) -> None:
    event = side.registered(ANA)

    side.dispatcher.apply(event)

    account = side.ledger.account(ANA)
    assert account is not None and account.balance == 0
    profile = side.customers.get(ANA)
    assert profile is not None and profile.status is CustomerStatus.ACTIVE
    assert side.customers.outbox == {}


def test_a_registration_delivered_twice_changes_nothing_the_second_time(side: EventSide) -> None:
    event = side.registered(ANA)
    side.dispatcher.apply(event)
    side.ledger.open(ANA, 700)  # money arrived meanwhile

    side.dispatcher.apply(event)

    assert side.ledger.balance(ANA) == 700
    assert side.customers.processed == {event.event_id}


def test_a_crash_between_opening_and_activating_is_finished_by_the_retry(side: EventSide) -> None:
    event = side.registered(ANA)
    side.customers.activation_failures.append(StoreBusy("throttled"))

    with pytest.raises(EventLeftPending):  # the StoreBusy is logged
        side.dispatcher.apply(event)
    assert side.ledger.account(ANA) is not None
    profile = side.customers.get(ANA)
    assert profile is not None and profile.status is CustomerStatus.PENDING  # never active without it
    assert event.event_id in side.customers.outbox

    side.dispatcher.apply(event)

    profile = side.customers.get(ANA)
    assert profile is not None and profile.status is CustomerStatus.ACTIVE
    assert side.customers.outbox == {}


def test_a_registration_that_fails_in_a_batch_is_left_pending_alone(side: EventSide) -> None:
    failing, *others = (side.registered(name) for name in ("carla", "davi", "eva"))
    side.customers.activation_failures.append(StoreBusy("throttled"))  # the first activation asked

    assert side.dispatcher.apply_all([failing, *others]) == [failing]

    assert list(side.customers.outbox) == [failing.event_id]
    for name in ("davi", "eva"):
        profile = side.customers.get(name)
        assert profile is not None and profile.status is CustomerStatus.ACTIVE


# ------------------------------------------------------------ TransactionCreated


def test_a_transfer_reaches_both_statements_then_both_notifications_then_is_processed(
    side: EventSide,
) -> None:
    event = side.transfer_event()

    side.dispatcher.apply(event)

    [debit] = side.statements.of(ANA)
    [credit] = side.statements.of(BIA)
    assert (debit.direction, debit.counterparty_id, credit.direction, credit.counterparty_id) == (
        Direction.DEBIT,
        BIA,
        Direction.CREDIT,
        ANA,
    )
    assert side.statements.writes == 1  # both entries in one request
    assert sorted(side.published_roles()) == [("transfer", "payee"), ("transfer", "payer")]
    assert side.ledger.pending == {}


def test_a_transfer_delivered_twice_writes_the_same_entries_and_publishes_again(side: EventSide) -> None:
    event = side.transfer_event()
    side.dispatcher.apply(event)
    first = list(side.bus.published)

    side.dispatcher.apply(event)

    assert len(side.statements.entries) == 2
    # At-least-once: the same notifications again, the same ids, which notify sends once.
    assert side.bus.published == first + first
    ids = {json.loads(body)["notification_id"] for body, _ in side.bus.published}
    assert len(ids) == 2


def test_a_crash_before_publishing_leaves_the_event_pending_and_the_retry_finishes(side: EventSide) -> None:
    event = side.transfer_event()
    side.bus.failures.append(RuntimeError("SNS unavailable"))

    with pytest.raises(RuntimeError):
        side.dispatcher.apply(event)
    assert len(side.statements.entries) == 2
    assert side.bus.published == []
    assert event.transaction_id in side.ledger.pending  # the outbox says what is unfinished

    side.dispatcher.apply(event)

    assert len(side.bus.published) == 2
    assert side.ledger.pending == {}


def test_a_batch_of_events_shares_one_statement_write_and_one_publish(side: EventSide) -> None:
    transfers = [side.transfer_event(amount) for amount in (100, 200, 300)]
    registration = side.registered("carla")

    assert side.dispatcher.apply_all([transfers[0], registration, *transfers[1:]]) == []

    assert (side.statements.writes, side.bus.requests) == (1, 1)
    assert len(side.bus.published) == 6
    assert side.ledger.pending == {} and side.customers.outbox == {}
    assert side.customers.get("carla") is not None
    assert len(side.statements.of(ANA)) == 3


def test_a_poison_event_is_left_pending_alone_and_its_batch_applied(side: EventSide) -> None:
    first, poison, last = (side.transfer_event(amount) for amount in (100, 200, 300))
    side.statements.refused.add(poison.transaction_id)  # no write holding its entries succeeds

    assert side.dispatcher.apply_all([first, poison, last]) == [poison]

    # The batch's write failed whole, so each event was applied again on its own.
    assert side.statements.writes == 1 + 3
    assert list(side.ledger.pending) == [poison.transaction_id]
    assert {entry.transaction_id for entry in side.statements.of(ANA)} == {
        first.transaction_id,
        last.transaction_id,
    }
    assert len(side.bus.published) == 4


def test_an_event_that_cannot_be_marked_stays_pending_alone_and_is_published_again(side: EventSide) -> None:
    first, unmarkable, last = (side.transfer_event(amount) for amount in (100, 200, 300))
    side.ledger.unmarkable.add(unmarkable.transaction_id)

    assert side.dispatcher.apply_all([first, unmarkable, last]) == [unmarkable]
    assert list(side.ledger.pending) == [unmarkable.transaction_id]
    assert (side.statements.writes, side.bus.requests) == (1, 1)

    side.ledger.unmarkable.clear()
    assert side.dispatcher.apply_all([unmarkable]) == []
    # At-least-once: its notifications went out twice, with the same ids (notify sends once).
    assert len(side.bus.published) == 6 + 2
    assert side.ledger.pending == {}


def test_a_busy_store_leaves_the_whole_batch_pending_without_a_request_per_event(side: EventSide) -> None:
    transfers = [side.transfer_event(amount) for amount in (100, 200)]
    side.statements.write_failures.append(StoreBusy("throttled"))

    assert side.dispatcher.apply_all(transfers) == transfers

    assert (side.statements.writes, side.bus.requests) == (1, 0)
    assert len(side.ledger.pending) == 2


def test_a_batch_whose_publish_fails_is_applied_event_by_event(side: EventSide) -> None:
    transfers = [side.transfer_event(amount) for amount in (100, 200)]
    side.bus.failures.append(RuntimeError("SNS unavailable"))

    assert side.dispatcher.apply_all(transfers) == []

    assert (side.statements.writes, side.bus.requests) == (1 + 2, 1 + 2)
    assert side.ledger.pending == {}


# ------------------------------------------------------------------ the sweeper


def test_the_sweeper_finishes_both_backlogs_page_after_page(side: EventSide) -> None:
    side.registered("carla")
    for amount in (100, 200, 300):
        side.transfer_event(amount)

    report = side.sweeper(page_size=2).sweep(timedelta(minutes=2))

    assert (report.events_applied, report.events_failed) == (4, 0)
    assert report.oldest_pending_outbox_age_seconds == 0
    assert side.ledger.pending == {} and side.customers.outbox == {}
    assert len(side.statements.of(ANA)) == 3


def test_the_sweeper_applies_a_page_s_events_together(side: EventSide) -> None:
    for amount in (100, 200, 300):
        side.transfer_event(amount)

    report = side.sweeper().sweep(timedelta(minutes=2))

    assert (report.events_applied, report.events_failed) == (3, 0)
    assert (side.statements.writes, side.bus.requests) == (1, 1)


def test_events_that_keep_failing_are_read_past_and_reported(side: EventSide) -> None:
    for n in range(3):  # more than a page, older than anything else
        orphan = TransactionCreated(
            event_id=f"orphan-{n}",
            occurred_at=NOW - timedelta(days=1, seconds=-n),
            transaction_id=f"orphan-{n}",
            kind=TransactionKind.DEPOSIT,
            payer_id=None,
            payee_id="nobody",
            amount=1,
        )
        # No transaction behind it: marking it processed fails every time.
        side.ledger.pending[orphan.transaction_id] = FakePendingEvent(
            orphan.event_id, orphan.occurred_at.isoformat(), orphan
        )
    side.transfer_event()

    report = side.sweeper(page_size=2).sweep(timedelta(minutes=2))

    assert (report.events_applied, report.events_failed) == (1, 3)
    assert report.oldest_pending_outbox_age_seconds == timedelta(days=1, hours=1).total_seconds()
    assert len(side.statements.of(ANA)) == 1


def test_a_sweep_out_of_time_leaves_the_rest_to_the_next_one(side: EventSide) -> None:
    for amount in (100, 200, 300, 400):
        side.transfer_event(amount)
    sweeper = side.sweeper(page_size=2)

    assert sweeper.sweep(timedelta(minutes=2), has_time=lambda: False).events_applied == 2
    assert sweeper.sweep(timedelta(minutes=2)).events_applied == 2
    assert side.ledger.pending == {}
