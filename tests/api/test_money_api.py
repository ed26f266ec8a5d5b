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

from tests.api.conftest import Api, assert_error, assert_retry_after, log_records, new_email
from tests.support.documents import new_cpf

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


def transfer_body(payer: object, payee: object, value: object) -> dict[str, object]:
    return {"payer": payer, "payee": payee, "value": value}


# ==================================================================== deposits


def test_a_deposit_answers_201_with_the_transaction_and_credits_the_account(api: Api) -> None:
    customer = api.active_customer()

    response = api.deposit(customer, {"amount": "10.50"})

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

    response = api.deposit(UNKNOWN_ID, {"amount": "10.00"})

    assert_error(response, 404, "customer_not_found")
    assert api.snapshot() == before


def test_a_deposit_for_a_customer_still_pending_is_409_with_retry_after_and_writes_nothing(api: Api) -> None:
    customer = api.pending_customer()["id"]
    before = api.snapshot()

    response = api.deposit(customer, {"amount": "10.00"})

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

    response = api.deposit(customer, body)

    assert_error(response, 422, "validation_error")
    assert api.snapshot() == before


def test_a_deposit_to_a_malformed_customer_id_is_422(api: Api) -> None:
    before = api.snapshot()

    response = api.deposit("not_an_id!", {"amount": "1.00"})

    assert_error(response, 422, "validation_error")
    assert api.snapshot() == before


@pytest.mark.parametrize(
    ("body", "moved", "shown"),
    [
        pytest.param('{"amount": 0.1}', "0.10", "0.10", id="number 0.1"),
        pytest.param('{"amount": 100.0}', "100.00", "100.00", id="number 100.0"),
        pytest.param('{"amount": 100}', "100.00", "100.00", id="integer 100"),
        pytest.param('{"amount": "0.01"}', "0.01", "0.01", id="one centavo"),
        pytest.param('{"amount": "1000000000.00"}', "1000000000.00", "1000000000.00", id="the maximum"),
    ],
)
def test_json_numbers_and_decimal_strings_move_the_exact_amount(
    api: Api, body: str, moved: str, shown: str
) -> None:
    customer = api.active_customer()

    response = api.deposit(customer, body)

    assert response.status == 201, response.body
    assert response.json()["value"] == shown
    assert api.balance_of(customer) == moved


def test_a_deposit_replayed_with_its_idempotency_key_answers_the_same_and_credits_once(api: Api) -> None:
    customer = api.active_customer()
    key = str(uuid.uuid4())

    first = api.deposit(customer, {"amount": "25.00"}, idempotency_key=key)
    second = api.deposit(customer, {"amount": "25.00"}, idempotency_key=key)

    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.header("idempotent-replayed") == "true"
    assert api.balance_of(customer) == "25.00"
    deposits = [e for e in api.outbox_payloads(api.tables.ledger) if e["payee_id"] == customer]
    assert [e["transaction_id"] for e in deposits] == [first.json()["id"]]


def test_a_deposit_idempotency_key_reused_with_another_amount_is_409_and_moves_nothing(api: Api) -> None:
    customer = api.active_customer()
    key = str(uuid.uuid4())
    assert api.deposit(customer, {"amount": "25.00"}, idempotency_key=key).status == 201
    before = api.snapshot()

    response = api.deposit(customer, {"amount": "26.00"}, idempotency_key=key)

    assert_error(response, 409, "idempotency_key_reused")
    assert api.snapshot() == before


# =================================================================== transfers


@dataclass(frozen=True)
class Parties:
    payer: str  # individual, active, R$ 100,00
    payee: str  # individual, active, R$ 0,00
    merchant: str  # merchant, active, R$ 50,00
    pending: str  # individual, registered, account not open yet


@pytest.fixture
def parties(api: Api) -> Parties:
    return Parties(
        payer=api.active_customer(balance="100.00"),
        payee=api.active_customer(),
        merchant=api.active_customer(merchant=True, balance="50.00"),
        pending=api.pending_customer()["id"],
    )


def test_a_transfer_answers_201_with_the_transaction_and_moves_the_money(api: Api, parties: Parties) -> None:
    calls = api.stub.calls

    response = api.transfer(transfer_body(parties.payer, parties.payee, "30.25"))

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
    response = api.transfer(transfer_body(parties.payer, parties.merchant, "100.00"))

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
    raw = f'{{"payer": "{parties.payer}", "payee": "{parties.payee}", "value": {value}}}'

    response = api.transfer(raw)

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
    stub_mode: str = "allow"
    retry_after: bool = False
    # How many times the authorizer is asked: never before the rules pass; once for an answer;
    # more than once when it is unavailable (bounded retries).
    authorizer_calls: str = "none"


REJECTIONS: dict[str, Rejection] = {
    "payer unknown": Rejection(
        404, "customer_not_found", lambda p: transfer_body(UNKNOWN_ID, p.payee, "1.00")
    ),
    "payee unknown": Rejection(
        404, "customer_not_found", lambda p: transfer_body(p.payer, UNKNOWN_ID, "1.00")
    ),
    "payer still pending": Rejection(
        409, "customer_not_active", lambda p: transfer_body(p.pending, p.payee, "1.00"), retry_after=True
    ),
    "payee still pending": Rejection(
        409, "customer_not_active", lambda p: transfer_body(p.payer, p.pending, "1.00"), retry_after=True
    ),
    "merchant as payer": Rejection(
        403, "merchant_cannot_send", lambda p: transfer_body(p.merchant, p.payee, "1.00")
    ),
    "authorizer denies with 403": Rejection(
        403,
        "transfer_not_authorized",
        lambda p: transfer_body(p.payer, p.payee, "1.00"),
        stub_mode="deny",
        authorizer_calls="once",
    ),
    "authorizer denies with 200 false": Rejection(
        403,
        "transfer_not_authorized",
        lambda p: transfer_body(p.payer, p.payee, "1.00"),
        stub_mode="deny_200",
        authorizer_calls="once",
    ),
    "more than the balance": Rejection(
        422, "insufficient_funds", lambda p: transfer_body(p.payer, p.payee, "100.01")
    ),
    "payer is the payee": Rejection(422, "same_account", lambda p: transfer_body(p.payer, p.payer, "1.00")),
    "authorizer errors": Rejection(
        503,
        "authorizer_unavailable",
        lambda p: transfer_body(p.payer, p.payee, "1.00"),
        stub_mode="error",
        authorizer_calls="retried",
    ),
    "authorizer times out": Rejection(
        503,
        "authorizer_unavailable",
        lambda p: transfer_body(p.payer, p.payee, "1.00"),
        stub_mode="timeout",
        authorizer_calls="retried",
    ),
    "authorizer answers garbage": Rejection(
        503,
        "authorizer_unavailable",
        lambda p: transfer_body(p.payer, p.payee, "1.00"),
        stub_mode="garbage",
        authorizer_calls="retried",
    ),
}


@pytest.mark.parametrize("rejection", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_a_rejected_transfer_answers_its_contract_error_and_moves_nothing(
    api: Api, parties: Parties, rejection: Rejection
) -> None:
    api.stub.set_mode(rejection.stub_mode)
    before, calls = api.snapshot(), api.stub.calls

    response = api.transfer(rejection.body(parties), idempotency_key=str(uuid.uuid4()))

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


INVALID_TRANSFERS: dict[str, Callable[[Parties], object]] = {
    "missing payer": lambda p: {"payee": p.payee, "value": "1.00"},
    "missing payee": lambda p: {"payer": p.payer, "value": "1.00"},
    "missing value": lambda p: {"payer": p.payer, "payee": p.payee},
    "zero value": lambda p: transfer_body(p.payer, p.payee, "0.00"),
    "negative value": lambda p: transfer_body(p.payer, p.payee, "-5.00"),
    "three decimals": lambda p: transfer_body(p.payer, p.payee, "1.001"),
    "exponent string": lambda p: transfer_body(p.payer, p.payee, "1e2"),
    "boolean value": lambda p: transfer_body(p.payer, p.payee, True),
    "null value": lambda p: transfer_body(p.payer, p.payee, None),
    "NaN literal": lambda p: f'{{"payer": "{p.payer}", "payee": "{p.payee}", "value": NaN}}',
    "exponent number": lambda p: f'{{"payer": "{p.payer}", "payee": "{p.payee}", "value": 1E+2}}',
    "huge value": lambda p: transfer_body(p.payer, p.payee, "999999999999.99"),
    "empty payer id": lambda p: transfer_body("", p.payee, "1.00"),
    "payer id with a path": lambda p: transfer_body("../etc/passwd", p.payee, "1.00"),
    "payer id too long": lambda p: transfer_body("a" * 65, p.payee, "1.00"),
    "boolean payer": lambda p: transfer_body(True, p.payee, "1.00"),
    "unknown extra field": lambda p: {**transfer_body(p.payer, p.payee, "1.00"), "fee": "0.00"},
    "not JSON": lambda p: "payer=1&payee=2&value=1",
    "empty body": lambda p: None,
}


INVALID_TRANSFER_CASES = [
    *(pytest.param(make, id=name) for name, make in INVALID_TRANSFERS.items()),
    # Powertools would read an array body as its first element; parse_json refuses it.
    pytest.param(
        lambda p: [transfer_body(p.payer, p.payee, "1.00"), transfer_body(p.payer, p.payee, "2.00")],
        id="JSON array of two transfers",
    ),
]


@pytest.mark.parametrize("make_body", INVALID_TRANSFER_CASES)
def test_an_invalid_transfer_is_422_validation_error_and_neither_asks_nor_moves(
    api: Api, parties: Parties, make_body: Callable[[Parties], object]
) -> None:
    before, calls = api.snapshot(), api.stub.calls

    response = api.transfer(make_body(parties))

    body = assert_error(response, 422, "validation_error")
    assert body["details"]
    assert api.stub.calls == calls
    assert api.snapshot() == before


@pytest.mark.parametrize("key", ["", "k" * 256], ids=["empty", "longer than 255"])
def test_a_malformed_idempotency_key_is_422_and_moves_nothing(api: Api, parties: Parties, key: str) -> None:
    before = api.snapshot()

    response = api.transfer(transfer_body(parties.payer, parties.payee, "1.00"), idempotency_key=key)

    assert_error(response, 422, "validation_error")
    assert api.snapshot() == before


def test_a_transfer_replayed_with_its_idempotency_key_answers_byte_identically_and_moves_once(
    api: Api, parties: Parties
) -> None:
    key = str(uuid.uuid4())
    body = transfer_body(parties.payer, parties.payee, "40.00")

    first = api.transfer(body, idempotency_key=key)
    calls = api.stub.calls
    second = api.transfer(body, idempotency_key=key)

    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.header("idempotent-replayed") == "true"
    assert first.header("idempotent-replayed") is None
    assert api.stub.calls == calls, "a replay must not ask the authorizer again"
    assert api.balance_of(parties.payer) == "60.00"
    assert api.balance_of(parties.payee) == "40.00"


def test_a_replay_answers_the_original_even_after_the_balance_is_spent(api: Api, parties: Parties) -> None:
    key = str(uuid.uuid4())
    body = transfer_body(parties.payer, parties.payee, "100.00")
    first = api.transfer(body, idempotency_key=key)
    assert first.status == 201, first.body
    before = api.snapshot()

    replay = api.transfer(body, idempotency_key=key)

    assert (replay.status, replay.body) == (201, first.body)
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(lambda p: transfer_body(p.payer, p.payee, "40.01"), id="other value"),
        pytest.param(lambda p: transfer_body(p.payer, p.merchant, "40.00"), id="other payee"),
    ],
)
def test_an_idempotency_key_reused_with_another_body_is_409_and_moves_nothing(
    api: Api, parties: Parties, changed: Callable[[Parties], object]
) -> None:
    key = str(uuid.uuid4())
    assert (
        api.transfer(transfer_body(parties.payer, parties.payee, "40.00"), idempotency_key=key).status == 201
    )
    before, calls = api.snapshot(), api.stub.calls

    response = api.transfer(changed(parties), idempotency_key=key)

    assert_error(response, 409, "idempotency_key_reused")
    assert api.stub.calls == calls
    assert api.snapshot() == before


def test_the_same_key_on_a_deposit_and_a_transfer_names_two_transactions(api: Api, parties: Parties) -> None:
    key = str(uuid.uuid4())

    deposit = api.deposit(parties.payee, {"amount": "5.00"}, idempotency_key=key)
    transfer = api.transfer(transfer_body(parties.payer, parties.payee, "5.00"), idempotency_key=key)

    assert (deposit.status, transfer.status) == (201, 201)
    assert deposit.json()["id"] != transfer.json()["id"]
    assert api.balance_of(parties.payee) == "10.00"


# ======================================================================== logs


def test_transfer_logs_carry_neither_emails_nor_documents(
    api: Api, log_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    people = [
        {"name": "Payer Person", "email": new_email(), "document": new_cpf()},
        {"name": "Payee Person", "email": new_email(), "document": new_cpf()},
    ]
    payer, payee = (api.register(person).json()["id"] for person in people)
    for customer in (payer, payee):
        api.activate(customer)
    assert api.deposit(payer, {"amount": "50.00"}).status == 201

    sent = api.transfer(transfer_body(payer, payee, "10.00"))
    too_much = api.transfer(transfer_body(payer, payee, "1000.00"))
    api.stub.set_mode("error")
    unavailable = api.transfer(transfer_body(payer, payee, "1.00"))

    assert (sent.status, too_much.status, unavailable.status) == (201, 422, 503)
    records = log_records(log_output.getvalue())
    assert records, "the handlers logged nothing: the capture is not working"
    secrets = [person[field] for person in people for field in ("email", "document")]
    for line in records:
        assert not any(secret in line for secret in secrets), line
    printed = capsys.readouterr()
    assert not any(secret in printed.out + printed.err for secret in secrets)
