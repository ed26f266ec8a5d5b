"""The whole flow over HTTP: register, activation by the sync, deposit, transfer, statements, e-mail."""

import uuid

import pytest

from devstack.wallet_client import Customer, Reply, wait_until_active
from tests.e2e.conftest import Api, eventually
from tests.e2e.test_api_over_http import new_customer


def active_customer(api: Api, customer_type: str = "individual") -> Customer:
    """Signed in and registered first; then only reads are polled (as long as ``eventually``)."""
    customer = new_customer(api, customer_type)
    wait_until_active(api.http, [customer], 30, pause_seconds=0.2)
    return customer


def funded(api: Api, amount: str) -> Customer:
    customer = active_customer(api)
    answer = api.deposit(customer.id, amount)
    assert answer.status == 201, answer
    return customer


def balance(api: Api, customer: Customer) -> str:
    answer = api.get(f"/customers/{customer.id}/balance", customer.token)
    assert answer.status == 200
    value: str = answer.body["balance"]
    return value


def statement(api: Api, customer: Customer) -> list[dict[str, str]]:
    """The customer's statement, once the sync has written anything to it."""

    def written() -> list[dict[str, str]] | None:
        answer = api.get(f"/customers/{customer.id}/transactions", customer.token)
        items: list[dict[str, str]] = answer.body["items"]
        return items or None

    return eventually(written)


def transfer(api: Api, payer: Customer, payee: Customer, value: str, key: str | None = None) -> Reply:
    """The payer sends its own money, with its token."""
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/transfers", {"payee": payee.id, "value": value}, headers, payer.token)


def test_a_transfer_moves_money_writes_both_statements_and_emails_the_payee(api: Api) -> None:
    payer, payee = funded(api, "100.00"), active_customer(api)

    sent = api.post("/transfers", {"payer": payer.id, "payee": payee.id, "value": "12.34"}, token=payer.token)

    assert sent.status == 201, sent
    assert sent.body["value"] == "12.34"
    assert (balance(api, payer), balance(api, payee)) == ("87.66", "12.34")
    for party in (payer, payee):
        assert api.get(f"/transfers/{sent.body['id']}", party.token).body == sent.body
        assert statement(api, party)[0]["transaction_id"] == sent.body["id"]
    emails = eventually(lambda: api.emails_to(payee.email) or None)
    assert len(emails) == 1
    assert "R$ 12,34" in emails[0]["BodyText"]


def test_a_pending_customer_cannot_receive_yet_and_is_told_when_to_retry(api: Api) -> None:
    customer = new_customer(api)
    if customer.registered["status"] == "active":
        pytest.skip("the sync activated the customer before the deposit could be tried")

    answer = api.deposit(customer.id, "1.00")

    assert answer.status in {201, 409}
    if answer.status == 409:
        assert answer.body["error"] == "customer_not_active"
        assert answer.headers["retry-after"]


def test_an_idempotent_retry_returns_the_original_and_moves_money_once(api: Api) -> None:
    payer, payee = funded(api, "10.00"), active_customer(api)
    key = str(uuid.uuid4())

    first, again = transfer(api, payer, payee, "3.00", key), transfer(api, payer, payee, "3.00", key)
    reused = transfer(api, payer, payee, "4.00", key)

    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert balance(api, payer) == "7.00"
    assert reused.status == 409
    assert reused.body["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("deny", 403, "transfer_not_authorized"),
        ("error", 503, "authorizer_unavailable"),
        ("garbage", 503, "authorizer_unavailable"),
    ],
)
def test_the_authorizer_decides_before_anything_is_written(
    api: Api, mode: str, status: int, code: str
) -> None:
    payer, payee = funded(api, "10.00"), active_customer(api)
    api.authorizer(mode)

    answer = transfer(api, payer, payee, "1.00")

    assert answer.status == status
    assert answer.body["error"] == code
    assert (balance(api, payer), balance(api, payee)) == ("10.00", "0.00")


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [("10.01", 422, "insufficient_funds"), ("0.50", 422, "same_account")],
)
def test_rules_of_the_ledger_over_http(api: Api, value: str, status: int, code: str) -> None:
    payer = funded(api, "10.00")
    payee = payer if code == "same_account" else active_customer(api)

    answer = transfer(api, payer, payee, value)

    assert (answer.status, answer.body["error"]) == (status, code)
    assert balance(api, payer) == "10.00"


def test_a_merchant_cannot_send(api: Api) -> None:
    merchant, other = active_customer(api, "merchant"), active_customer(api)
    assert api.deposit(merchant.id, "5.00").status == 201

    answer = transfer(api, merchant, other, "1.00")

    assert (answer.status, answer.body["error"]) == (403, "merchant_cannot_send")
