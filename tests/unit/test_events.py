"""Event contracts: what an outbox item's payload holds, that it reads back unchanged, and that
every version still stored reads back as the current one."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from wallet.domain.customers import CustomerType
from wallet.domain.ledger import TransactionKind
from wallet.events import CustomerRegistered, CustomerRegisteredV1, TransactionCreated, parse_event

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def registered() -> CustomerRegistered:
    return CustomerRegistered(
        event_id="e-1",
        occurred_at=NOW,
        customer_id="c-1",
        type=CustomerType.MERCHANT,
    )


# A CustomerRegistered as v1 wrote it (before v2 left out what no consumer reads); outbox
# items keep such payloads up to 30 days after they were processed.
REGISTERED_V1 = (
    '{"version":1,"event_id":"e-1","occurred_at":"2026-01-02T03:04:05.678901Z",'
    '"event_type":"CustomerRegistered","customer_id":"c-1","name":"Ana Souza",'
    '"email":"ana@example.com","document":"52998224725","type":"merchant"}'
)


def created(
    kind: TransactionKind = TransactionKind.TRANSFER, payer_id: str | None = "c-1"
) -> TransactionCreated:
    return TransactionCreated(
        event_id="e-2",
        occurred_at=NOW,
        transaction_id="t-1",
        kind=kind,
        payer_id=payer_id,
        payee_id="c-2",
        amount=1050,
    )


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(registered(), id="CustomerRegistered"),
        pytest.param(created(), id="TransactionCreated transfer"),
        pytest.param(created(TransactionKind.DEPOSIT, None), id="TransactionCreated deposit"),
    ],
)
def test_an_event_round_trips_through_its_json_payload(
    event: CustomerRegistered | TransactionCreated,
) -> None:
    parsed = parse_event(event.model_dump_json())

    assert parsed == event
    assert type(parsed) is type(event)
    assert parsed.occurred_at == NOW


def test_events_name_their_type_and_the_version_of_its_contract() -> None:
    assert (registered().version, registered().event_type) == (2, "CustomerRegistered")
    assert (created().version, created().event_type) == (1, "TransactionCreated")


def test_customer_registered_carries_only_what_its_consumer_reads() -> None:
    """The sync opens an account of the customer's type and activates the customer: no name,
    e-mail or document, which would otherwise be kept in the outbox for 30 days."""
    payload = json.loads(registered().model_dump_json())

    assert set(payload) == {"version", "event_id", "occurred_at", "event_type", "customer_id", "type"}


def test_a_stored_v1_customer_registered_reads_back_as_v2_without_personal_data() -> None:
    parsed = parse_event(REGISTERED_V1)

    assert parsed == registered()
    assert type(parsed) is CustomerRegistered
    assert "email" not in parsed.model_dump()


def test_a_v1_customer_registered_is_read_by_its_own_contract() -> None:
    """v1 keeps its fields: a v1 payload without them is outside every contract."""
    without_document = json.dumps({k: v for k, v in json.loads(REGISTERED_V1).items() if k != "document"})

    CustomerRegisteredV1.model_validate_json(REGISTERED_V1)
    with pytest.raises(ValidationError):
        parse_event(without_document)


def test_an_event_is_immutable() -> None:
    event = created()

    with pytest.raises(ValidationError):
        event.amount = 1


@given(
    st.integers(min_value=1, max_value=10**11),
    st.sampled_from(TransactionKind),
    st.datetimes(timezones=st.just(UTC)),
)
def test_amounts_in_centavos_and_timestamps_survive_the_round_trip(
    amount: int, kind: TransactionKind, occurred_at: datetime
) -> None:
    event = TransactionCreated(
        event_id="e",
        occurred_at=occurred_at,
        transaction_id="t",
        kind=kind,
        payer_id=None,
        payee_id="p",
        amount=amount,
    )

    assert parse_event(event.model_dump_json()) == event


def altered(event: CustomerRegistered | TransactionCreated, **changes: object) -> str:
    """The event's payload with some fields changed, as a faulty producer might write it."""
    return json.dumps({**event.model_dump(mode="json"), **changes})


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(altered(created(), event_type="TransactionDeleted"), id="unknown event type"),
        pytest.param(altered(created(), version=2), id="TransactionCreated version 2"),
        pytest.param(altered(registered(), version=3), id="CustomerRegistered version 3"),
        pytest.param(altered(registered(), version=None), id="no version"),
        pytest.param(altered(registered(), email="ana@example.com"), id="v2 with a v1 field"),
        pytest.param(altered(created(), note="extra"), id="a field no contract names"),
        pytest.param(altered(created(), amount=0), id="zero amount"),
        pytest.param(altered(created(), amount=-5), id="negative amount"),
        pytest.param(altered(created(), kind="refund"), id="unknown kind"),
        pytest.param(altered(created(), transaction_id=None), id="no transaction id"),
        pytest.param(altered(registered(), type="admin"), id="unknown customer type"),
        pytest.param(altered(registered(), occurred_at="yesterday"), id="not a timestamp"),
        pytest.param('{"event_id": "e"}', id="no event type"),
        pytest.param("not json", id="not JSON"),
    ],
)
def test_a_payload_outside_the_contract_is_refused(payload: str) -> None:
    with pytest.raises(ValidationError):
        parse_event(payload)
