"""POST /customers/{id}/deposits and POST /transfers through the functions' real handlers.

Every rejection is checked three ways: the status and error code of the contract, the
``{"error", "message"}`` shape, and that neither table changed (no balance moved, no
transaction or outbox item appeared). The authorizer is the local stub over real HTTP.
"""

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import Api, assert_error, assert_retry_after, log_records, registration_body
from tests.support.identities import Person

TRANSACTION_KEYS = {"id", "kind", "payer", "payee", "value", "status", "created_at"}
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def assert_transaction(body: dict[str, Any], *, kind: str, payer: str | None, payee: str, value: str) -> None:
    assert set(body) == TRANSACTION_KEYS
    assert body["kind"] == kind
    assert body["payer"] == payer
    assert body["payee"] == payee
    assert body["value"] == value
    assert isinstance(body["value"], str)
    assert body["status"] == "completed"
    uuid.UUID(body["id"])


def transfer_body(payee: object, value: object, **payer: object) -> dict[str, object]:
    """The payer is the caller: left out, unless given as ``payer=...``."""
    return {"payee": payee, "value": value, **payer}


# ==================================================================== deposits


def test_a_deposit_answers_201_with_the_transaction_and_credits_the_account(api: Api) -> None:
    customer = api.active_customer()

    response = api.rail.deposit(customer, {"amount": "10.50"})

    assert response.status == 201, response.body
    body = response.json()
    assert_transaction(body, kind="deposit", payer=None, payee=customer, value="10.50")
    assert response.header("location") == f"/transfers/{body['id']}"
    assert api.balance_of(customer) == "10.50"
    transaction = api.item(api.tables.ledger, f"TRANSACTION#{body['id']}")
    assert transaction is not None
    assert transaction["amount"] == 1050
    [event] = [e for e in api.outbox_payloads(api.tables.ledger) if e["transaction_id"] == body["id"]]
    assert (event["event_type"], event["kind"], event["payer_id"], event["amount"]) == (
        "TransactionCreated",
        "deposit",
        None,
        1050,
    )


def test_a_deposit_for_an_unknown_customer_is_404_and_writes_nothing(api: Api) -> None:
    api.active_customer(balance="5.00")
    before = api.snapshot()

    response = api.rail.deposit(UNKNOWN_ID, {"amount": "10.00"})

    assert_error(response, 404, "customer_not_found")
    assert api.snapshot() == before


def test_a_deposit_for_a_customer_still_pending_is_409_with_retry_after_and_writes_nothing(api: Api) -> None:
    customer = api.pending_customer()["id"]
    before = api.snapshot()

    response = api.rail.deposit(customer, {"amount": "10.00"})

    assert_error(response, 409, "customer_not_active")
    assert_retry_after(response)
    assert api.snapshot() == before


# Bodies sent as written: JSON numbers must reach the API as JSON numbers, not strings.
INVALID_AMOUNTS: dict[str, str] = {
    'string "0"': '{"amount": "0"}',
    'string "0.00"': '{"amount": "0.00"}',
    "negative string": '{"amount": "-1"}',
    "three decimals": '{"amount": "1.234"}',
    "exponent string": '{"amount": "1e2"}',
    "NaN string": '{"amount": "NaN"}',
    "Infinity string": '{"amount": "Infinity"}',
    "leading space": '{"amount": " 1"}',
    "decimal comma": '{"amount": "1,00"}',
    "empty string": '{"amount": ""}',
    "more than a billion reais": '{"amount": "1000000000.01"}',
    "one billion reais": '{"amount": "1000000000.00"}',
    "one billion reais as a number": '{"amount": 1000000000}',
    "leading zero": '{"amount": "01.00"}',
    "string with three decimals, zeros": '{"amount": "1.500"}',
    "thirteen integer digits": '{"amount": "1000000000000"}',
    "number zero": '{"amount": 0}',
    "number 0.00": '{"amount": 0.00}',
    "negative number": '{"amount": -5}',
    "number with three decimals": '{"amount": 1.234}',
    "number 0.001": '{"amount": 0.001}',
    "number with exponent": '{"amount": 1e2}',
    "number with capital exponent": '{"amount": 1.5E+3}',
    "NaN literal": '{"amount": NaN}',
    "Infinity literal": '{"amount": Infinity}',
    "-Infinity literal": '{"amount": -Infinity}',
    "huge number": '{"amount": 1e400}',
    "huge integer": '{"amount": 100000000000000000000}',
    "true": '{"amount": true}',
    "false": '{"amount": false}',
    "null": '{"amount": null}',
    "object": '{"amount": {"value": "1.00"}}',
    "missing amount": "{}",
    "unknown extra field": '{"amount": "1.00", "currency": "USD"}',
}

# Refused by parse_json itself: exponent forms (1e-2 would otherwise arrive as Decimal("0.01"))
# and integers beyond Python's digit limit.
UNREADABLE_AMOUNTS = {
    "number with negative exponent": '{"amount": 1e-2}',
    "integer of 5000 digits": '{"amount": 1' + "0" * 5000 + "}",
}
INVALID_AMOUNT_CASES = [
    pytest.param(body, id=name) for name, body in (INVALID_AMOUNTS | UNREADABLE_AMOUNTS).items()
]


@pytest.mark.parametrize("body", INVALID_AMOUNT_CASES)
def test_an_invalid_deposit_amount_is_422_validation_error_and_moves_nothing(api: Api, body: str) -> None:
    customer = api.active_customer(balance="1.00")
    before = api.snapshot()

    response = api.rail.deposit(customer, body)

    assert_error(response, 422, "validation_error")
    assert api.snapshot() == before


def test_a_deposit_to_a_malformed_customer_id_is_422(api: Api) -> None:
    before = api.snapshot()

    response = api.rail.deposit("not_an_id!", {"amount": "1.00"})

    assert_error(response, 422, "validation_error")
    assert api.snapshot() == before


@pytest.mark.parametrize(
    ("body", "moved", "shown"),
    [
        pytest.param('{"amount": 0.1}', "0.10", "0.10", id="number 0.1"),
        pytest.param('{"amount": 100.0}', "100.00", "100.00", id="number 100.0"),
        pytest.param('{"amount": 100}', "100.00", "100.00", id="integer 100"),
        pytest.param('{"amount": "0.01"}', "0.01", "0.01", id="one centavo"),
        pytest.param('{"amount": "999999999.99"}', "999999999.99", "999999999.99", id="the maximum"),
        pytest.param(
            '{"amount": 999999999.99}', "999999999.99", "999999999.99", id="the maximum as a number"
        ),
        pytest.param('{"amount": 1.500}', "1.50", "1.50", id="number with trailing zeros"),
        pytest.param('{"amount": "0.10"}', "0.10", "0.10", id="ten centavos"),
    ],
)
def test_json_numbers_and_decimal_strings_move_the_exact_amount(
    api: Api, body: str, moved: str, shown: str
) -> None:
    customer = api.active_customer()

    response = api.rail.deposit(customer, body)

    assert response.status == 201, response.body
    assert response.json()["value"] == shown
    assert api.balance_of(customer) == moved


def test_a_deposit_replayed_with_its_idempotency_key_answers_the_same_and_credits_once(api: Api) -> None:
    customer = api.active_customer()
    key = str(uuid.uuid4())

    first = api.rail.deposit(customer, {"amount": "25.00"}, idempotency_key=key)
    second = api.rail.deposit(customer, {"amount": "25.00"}, idempotency_key=key)

    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.header("idempotent-replayed") == "true"
    assert api.balance_of(customer) == "25.00"
    deposits = [e for e in api.outbox_payloads(api.tables.ledger) if e["payee_id"] == customer]
    assert [e["transaction_id"] for e in deposits] == [first.json()["id"]]


def test_a_deposit_idempotency_key_reused_with_another_amount_is_409_and_moves_nothing(api: Api) -> None:
    customer = api.active_customer()
    key = str(uuid.uuid4())
    assert api.rail.deposit(customer, {"amount": "25.00"}, idempotency_key=key).status == 201
    before = api.snapshot()

    response = api.rail.deposit(customer, {"amount": "26.00"}, idempotency_key=key)

    assert_error(response, 409, "idempotency_key_reused")
    assert api.snapshot() == before


# =================================================================== transfers


@dataclass(frozen=True)
class Parties:
    payer: str  # individual, active, R$ 100,00
    payee: str  # individual, active, R$ 0,00
    merchant: str  # merchant, active, R$ 50,00
    pending: str  # individual, registered, account not open yet
    stranger: str  # signed in, never registered


@pytest.fixture
def parties(api: Api) -> Parties:
    return Parties(
        payer=api.active_customer(balance="100.00"),
        payee=api.active_customer(),
        merchant=api.active_customer(merchant=True, balance="50.00"),
        pending=api.pending_customer()["id"],
        stranger=api.signed_in(),
    )


def test_a_transfer_answers_201_with_the_transaction_and_moves_the_money(api: Api, parties: Parties) -> None:
    calls = api.stub.calls

    response = api.of(parties.payer).transfer(transfer_body(parties.payee, "30.25"))

    assert response.status == 201, response.body
    body = response.json()
    assert_transaction(body, kind="transfer", payer=parties.payer, payee=parties.payee, value="30.25")
    assert response.header("location") == f"/transfers/{body['id']}"
    assert api.balance_of(parties.payer) == "69.75"
    assert api.balance_of(parties.payee) == "30.25"
    assert api.stub.calls == calls + 1
    [event] = [e for e in api.outbox_payloads(api.tables.ledger) if e["transaction_id"] == body["id"]]
    assert (event["event_type"], event["kind"], event["payer_id"], event["payee_id"], event["amount"]) == (
        "TransactionCreated",
        "transfer",
        parties.payer,
        parties.payee,
        3025,
    )


def test_a_payer_can_send_its_whole_balance_to_a_merchant(api: Api, parties: Parties) -> None:
    response = api.of(parties.payer).transfer(transfer_body(parties.merchant, "100.00"))

    assert response.status == 201, response.body
    assert api.balance_of(parties.payer) == "0.00"
    assert api.balance_of(parties.merchant) == "150.00"


@pytest.mark.parametrize(
    ("value", "moved"),
    [
        pytest.param("0.1", "0.10", id="number 0.1"),
        pytest.param("100.0", "100.00", id="number 100.0"),
        pytest.param("7", "7.00", id="integer 7"),
    ],
)
def test_a_json_number_value_moves_exactly_that_many_centavos(
    api: Api, parties: Parties, value: str, moved: str
) -> None:
    raw = f'{{"payee": "{parties.payee}", "value": {value}}}'

    response = api.of(parties.payer).transfer(raw)

    assert response.status == 201, response.body
    assert response.json()["value"] == moved
    assert api.balance_of(parties.payee) == moved
    remaining = 10_000 - int(moved.replace(".", ""))
    assert api.balance_of(parties.payer) == f"{remaining // 100}.{remaining % 100:02d}"


@dataclass(frozen=True)
class Rejection:
    status: int
    code: str
    body: Callable[[Parties], object]
    caller: Callable[[Parties], str] = lambda p: p.payer
    stub_mode: str = "allow"
    retry_after: bool = False
    # How many times the authorizer is asked: never for what is refused without reading
    # anything (the caller, the same account); once before the one conditional write, whose
    # conditions refuse the rest (unknown or pending parties, a merchant, too little money);
    # more than once when it is unavailable (bounded retries).
    authorizer_calls: str = "once"


def _one_real(p: Parties) -> object:
    return transfer_body(p.payee, "1.00")


REJECTIONS: dict[str, Rejection] = {
    "payer unknown (signed in, never registered)": Rejection(
        404, "customer_not_found", _one_real, caller=lambda p: p.stranger
    ),
    "payee unknown": Rejection(404, "customer_not_found", lambda p: transfer_body(UNKNOWN_ID, "1.00")),
    "payer still pending": Rejection(
        409, "customer_not_active", _one_real, caller=lambda p: p.pending, retry_after=True
    ),
    "payee still pending": Rejection(
        409, "customer_not_active", lambda p: transfer_body(p.pending, "1.00"), retry_after=True
    ),
    "merchant as payer": Rejection(403, "merchant_cannot_send", _one_real, caller=lambda p: p.merchant),
    "another customer as payer": Rejection(
        403, "forbidden", lambda p: transfer_body(p.payee, "1.00", payer=p.merchant), authorizer_calls="none"
    ),
    "the payee as payer, to the caller": Rejection(
        403, "forbidden", lambda p: transfer_body(p.payer, "1.00", payer=p.payee), authorizer_calls="none"
    ),
    "an unknown payer": Rejection(
        403, "forbidden", lambda p: transfer_body(p.payee, "1.00", payer=UNKNOWN_ID), authorizer_calls="none"
    ),
    "a customer as payer, by a stranger": Rejection(
        403,
        "forbidden",
        lambda p: transfer_body(p.payee, "1.00", payer=p.payer),
        caller=lambda p: p.stranger,
        authorizer_calls="none",
    ),
    "authorizer denies with 403": Rejection(403, "transfer_not_authorized", _one_real, stub_mode="deny"),
    "authorizer denies with 200 false": Rejection(
        403, "transfer_not_authorized", _one_real, stub_mode="deny_200"
    ),
    "more than the balance": Rejection(422, "insufficient_funds", lambda p: transfer_body(p.payee, "100.01")),
    "payer is the payee": Rejection(
        422, "same_account", lambda p: transfer_body(p.payer, "1.00"), authorizer_calls="none"
    ),
    "authorizer errors": Rejection(
        503, "authorizer_unavailable", _one_real, stub_mode="error", authorizer_calls="retried"
    ),
    "authorizer times out": Rejection(
        503, "authorizer_unavailable", _one_real, stub_mode="timeout", authorizer_calls="retried"
    ),
    "authorizer answers garbage": Rejection(
        503, "authorizer_unavailable", _one_real, stub_mode="garbage", authorizer_calls="retried"
    ),
}


@pytest.mark.parametrize("rejection", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_a_rejected_transfer_answers_its_contract_error_and_moves_nothing(
    api: Api, parties: Parties, rejection: Rejection
) -> None:
    api.stub.set_mode(rejection.stub_mode)
    before, calls = api.snapshot(), api.stub.calls

    response = api.of(rejection.caller(parties)).transfer(
        rejection.body(parties), idempotency_key=str(uuid.uuid4())
    )

    assert_error(response, rejection.status, rejection.code)
    if rejection.retry_after:
        assert_retry_after(response)
    asked = api.stub.calls - calls
    match rejection.authorizer_calls:
        case "none":
            assert asked == 0
        case "once":
            assert asked == 1
        case _:
            assert asked > 1
    assert api.snapshot() == before


def test_the_callers_own_id_as_payer_is_the_same_as_leaving_it_out(api: Api, parties: Parties) -> None:
    payer = api.of(parties.payer)

    named = payer.transfer(transfer_body(parties.payee, "1.00", payer=parties.payer))
    left_out = payer.transfer(transfer_body(parties.payee, "2.00"))

    assert (named.status, left_out.status) == (201, 201)
    for response, value in ((named, "1.00"), (left_out, "2.00")):
        assert_transaction(
            response.json(), kind="transfer", payer=parties.payer, payee=parties.payee, value=value
        )
    assert api.balance_of(parties.payer) == "97.00"


INVALID_TRANSFERS: dict[str, Callable[[Parties], object]] = {
    "missing payee": lambda p: {"value": "1.00"},
    "missing value": lambda p: {"payee": p.payee},
    "zero value": lambda p: transfer_body(p.payee, "0.00"),
    "negative value": lambda p: transfer_body(p.payee, "-5.00"),
    "three decimals": lambda p: transfer_body(p.payee, "1.001"),
    "exponent string": lambda p: transfer_body(p.payee, "1e2"),
    "boolean value": lambda p: transfer_body(p.payee, True),
    "null value": lambda p: transfer_body(p.payee, None),
    "NaN literal": lambda p: f'{{"payee": "{p.payee}", "value": NaN}}',
    "exponent number": lambda p: f'{{"payee": "{p.payee}", "value": 1E+2}}',
    "huge value": lambda p: transfer_body(p.payee, "999999999999.99"),
    "empty payer id": lambda p: transfer_body(p.payee, "1.00", payer=""),
    "payer id with a path": lambda p: transfer_body(p.payee, "1.00", payer="../etc/passwd"),
    "payer id too long": lambda p: transfer_body(p.payee, "1.00", payer="a" * 65),
    "boolean payer": lambda p: transfer_body(p.payee, "1.00", payer=True),
    "unknown extra field": lambda p: {**transfer_body(p.payee, "1.00"), "fee": "0.00"},
    "not JSON": lambda p: "payee=2&value=1",
    "empty body": lambda p: None,
}


INVALID_TRANSFER_CASES = [
    *(pytest.param(make, id=name) for name, make in INVALID_TRANSFERS.items()),
    # Powertools would read an array body as its first element; parse_json refuses it.
    pytest.param(
        lambda p: [transfer_body(p.payee, "1.00"), transfer_body(p.payee, "2.00")],
        id="JSON array of two transfers",
    ),
]


@pytest.mark.parametrize("make_body", INVALID_TRANSFER_CASES)
def test_an_invalid_transfer_is_422_validation_error_and_neither_asks_nor_moves(
    api: Api, parties: Parties, make_body: Callable[[Parties], object]
) -> None:
    before, calls = api.snapshot(), api.stub.calls

    response = api.of(parties.payer).transfer(make_body(parties))

    body = assert_error(response, 422, "validation_error")
    assert body["details"]
    assert api.stub.calls == calls
    assert api.snapshot() == before


MALFORMED_KEYS = {"empty": "", "longer than 255": "k" * 256}
MALFORMED_KEY_CASES = [
    *(pytest.param("transfer", key, id=f"transfer, {name}") for name, key in MALFORMED_KEYS.items()),
    *(pytest.param("deposit", key, id=f"deposit, {name}") for name, key in MALFORMED_KEYS.items()),
    # The rail's reference is what makes a deposit's retry safe: it may not be left out.
    pytest.param("deposit", None, id="deposit, missing"),
]


@pytest.mark.parametrize(("route", "key"), MALFORMED_KEY_CASES)
def test_a_malformed_idempotency_key_is_422_and_moves_nothing(
    api: Api, parties: Parties, route: str, key: str | None
) -> None:
    before = api.snapshot()

    if route == "deposit":
        response = api.rail.deposit(parties.payee, {"amount": "1.00"}, idempotency_key=key)
    else:
        response = api.of(parties.payer).transfer(transfer_body(parties.payee, "1.00"), idempotency_key=key)

    assert_error(response, 422, "validation_error")
    assert api.snapshot() == before


def test_a_transfer_replayed_with_its_idempotency_key_answers_byte_identically_and_moves_once(
    api: Api, parties: Parties
) -> None:
    key = str(uuid.uuid4())
    body = transfer_body(parties.payee, "40.00")
    payer = api.of(parties.payer)

    first = payer.transfer(body, idempotency_key=key)
    calls = api.stub.calls
    second = payer.transfer(body, idempotency_key=key)

    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.header("idempotent-replayed") == "true"
    assert first.header("idempotent-replayed") is None
    # Nothing is read before the write: the replay is asked about like any request, and the
    # write's own conditions recognise it.
    assert api.stub.calls == calls + 1
    assert api.balance_of(parties.payer) == "60.00"
    assert api.balance_of(parties.payee) == "40.00"


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        pytest.param("100.00", "allow", id="the balance is now spent"),
        pytest.param("40.00", "deny", id="the authorizer now denies"),
        pytest.param("40.00", "error", id="the authorizer is now down"),
    ],
)
def test_a_replay_answers_the_original_whatever_has_changed_since(
    api: Api, parties: Parties, value: str, mode: str
) -> None:
    key = str(uuid.uuid4())
    body = transfer_body(parties.payee, value)
    payer = api.of(parties.payer)
    first = payer.transfer(body, idempotency_key=key)
    assert first.status == 201, first.body
    before = api.snapshot()
    api.stub.set_mode(mode)

    replay = payer.transfer(body, idempotency_key=key)

    assert (replay.status, replay.body) == (201, first.body)
    assert replay.header("idempotent-replayed") == "true"
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(lambda p: transfer_body(p.payee, "40.01"), id="other value"),
        pytest.param(lambda p: transfer_body(p.merchant, "40.00"), id="other payee"),
    ],
)
def test_an_idempotency_key_reused_with_another_body_is_409_and_moves_nothing(
    api: Api, parties: Parties, changed: Callable[[Parties], object]
) -> None:
    key = str(uuid.uuid4())
    payer = api.of(parties.payer)
    assert payer.transfer(transfer_body(parties.payee, "40.00"), idempotency_key=key).status == 201
    before, calls = api.snapshot(), api.stub.calls

    response = payer.transfer(changed(parties), idempotency_key=key)

    assert_error(response, 409, "idempotency_key_reused")
    assert api.stub.calls == calls + 1
    assert api.snapshot() == before


def test_the_same_key_on_a_deposit_and_a_transfer_names_two_transactions(api: Api, parties: Parties) -> None:
    key = str(uuid.uuid4())

    deposit = api.rail.deposit(parties.payee, {"amount": "5.00"}, idempotency_key=key)
    transfer = api.of(parties.payer).transfer(transfer_body(parties.payee, "5.00"), idempotency_key=key)

    assert (deposit.status, transfer.status) == (201, 201)
    assert deposit.json()["id"] != transfer.json()["id"]
    assert api.balance_of(parties.payee) == "10.00"


def test_one_key_from_two_customers_names_two_unrelated_transfers(api: Api, parties: Parties) -> None:
    """A sends with key K; B then sends another body with K: B is neither refused (409) nor
    answered A's transfer, and A's replay is still A's own."""
    key = str(uuid.uuid4())
    ana_id, bruno_id = parties.payer, api.active_customer(balance="10.00")
    ana, bruno = api.of(ana_id), api.of(bruno_id)
    anas_body = transfer_body(parties.payee, "40.00")

    anas = ana.transfer(anas_body, idempotency_key=key)
    brunos = bruno.transfer(transfer_body(parties.payee, "2.50"), idempotency_key=key)
    anas_replay = ana.transfer(anas_body, idempotency_key=key)
    brunos_replay = bruno.transfer(transfer_body(parties.payee, "2.50"), idempotency_key=key)

    assert (anas.status, brunos.status, anas_replay.status, brunos_replay.status) == (201, 201, 201, 201)
    assert_transaction(brunos.json(), kind="transfer", payer=bruno_id, payee=parties.payee, value="2.50")
    assert brunos.json()["id"] != anas.json()["id"]
    assert brunos.header("idempotent-replayed") is None
    assert (anas_replay.body, anas_replay.header("idempotent-replayed")) == (anas.body, "true")
    assert (brunos_replay.body, brunos_replay.header("idempotent-replayed")) == (brunos.body, "true")
    assert [api.balance_of(c) for c in (ana_id, bruno_id, parties.payee)] == ["60.00", "7.50", "42.50"]
    assert_error(bruno.get_transfer(anas.json()["id"]), 404, "transaction_not_found")


# ======================================================================== logs


def test_transfer_logs_carry_neither_emails_nor_documents(
    api: Api, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    people = [Person.new(), Person.new()]
    bodies = [registration_body(), registration_body()]
    payer, payee = (api.as_(p).register(body).json()["id"] for p, body in zip(people, bodies, strict=True))
    for customer in (payer, payee):
        api.activate(customer)
    assert api.rail.deposit(payer, {"amount": "50.00"}).status == 201
    sender = api.as_(people[0])

    sent = sender.transfer(transfer_body(payee, "10.00"))
    too_much = sender.transfer(transfer_body(payee, "1000.00"))
    api.stub.set_mode("error")
    unavailable = sender.transfer(transfer_body(payee, "1.00"))

    assert (sent.status, too_much.status, unavailable.status) == (201, 422, 503)
    records = log_records(log_output.getvalue())
    assert records, "the handlers logged nothing: the capture is not working"
    secrets = [person.email for person in people] + [body["document"] for body in bodies]
    for line in records:
        assert not any(secret in line for secret in secrets), line
    printed = capsys.readouterr()
    assert not any(secret in printed.out + printed.err for secret in secrets)


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded"])
def test_a_transfer_of_a_content_type_the_spec_does_not_declare_is_415_and_moves_nothing(
    api: Api, parties: Parties, content_type: str
) -> None:
    before = api.snapshot()

    response = api.of(parties.payer).transfer(
        transfer_body(parties.payee, "1.00"), headers={"content-type": content_type}
    )

    assert_error(response, 415, "unsupported_media_type")
    assert api.snapshot() == before
