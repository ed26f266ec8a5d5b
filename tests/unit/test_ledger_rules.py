"""The ledger's rules: transaction ids for idempotency, request fingerprints, transfer checks."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.domain.customers import CustomerType
from wallet.domain.errors import InsufficientFunds, MerchantCannotSend, SameAccount, WalletError
from wallet.domain.ledger import (
    Account,
    TransactionKind,
    TransactionStatus,
    check_parties,
    debit_refusal,
    new_transaction,
    request_fingerprint,
    transaction_id_for,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TRANSFER, DEPOSIT = TransactionKind.TRANSFER, TransactionKind.DEPOSIT


def individual(balance: int, customer_id: str = "payer") -> Account:
    return Account(customer_id=customer_id, customer_type=CustomerType.INDIVIDUAL, balance=balance)


# ---------------------------------------------------------------- transaction ids


CALLERS = st.text(min_size=1, max_size=64)


@given(st.text(min_size=1, max_size=255), st.sampled_from(TransactionKind), CALLERS)
def test_an_idempotency_key_always_maps_to_the_same_transaction_id(
    key: str, kind: TransactionKind, caller: str
) -> None:
    first = transaction_id_for(kind, caller, key)

    assert transaction_id_for(kind, caller, key) == first
    assert uuid.UUID(first).version == 5


@given(st.text(min_size=1, max_size=255), CALLERS)
def test_the_same_key_on_a_deposit_and_a_transfer_names_two_transactions(key: str, caller: str) -> None:
    assert transaction_id_for(TRANSFER, caller, key) != transaction_id_for(DEPOSIT, caller, key)


@given(st.lists(st.text(min_size=1, max_size=64), min_size=2, max_size=10, unique=True), CALLERS)
def test_different_keys_name_different_transactions(keys: list[str], caller: str) -> None:
    assert len({transaction_id_for(TRANSFER, caller, key) for key in keys}) == len(keys)


@given(
    st.text(min_size=1, max_size=255),
    st.sampled_from(TransactionKind),
    st.lists(CALLERS, min_size=2, max_size=10, unique=True),
)
def test_the_same_key_from_different_callers_names_unrelated_transactions(
    key: str, kind: TransactionKind, callers: list[str]
) -> None:
    """No caller can replay, reveal or block another's transaction by guessing its key."""
    assert len({transaction_id_for(kind, caller, key) for caller in callers}) == len(callers)


def test_without_a_key_every_request_is_a_new_transaction() -> None:
    ids = {transaction_id_for(TRANSFER, "caller", None) for _ in range(100)}

    assert len(ids) == 100
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_the_key_to_id_mapping_is_stable_across_releases() -> None:
    # A retry that spans a deploy must find the transaction its first attempt recorded.
    assert transaction_id_for(TRANSFER, "caller-7", "order-42") == str(
        uuid.uuid5(uuid.UUID("5b0c3f7e-4a39-4d8e-9f51-0c1d2e3f4a5b"), "transfer:caller-7:order-42")
    )


# ------------------------------------------------------------------ fingerprints


def test_the_same_request_has_the_same_fingerprint() -> None:
    assert request_fingerprint(TRANSFER, "a", "b", 100) == request_fingerprint(TRANSFER, "a", "b", 100)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param((TRANSFER, "a", "b", 101), id="amount"),
        pytest.param((TRANSFER, "a", "c", 100), id="payee"),
        pytest.param((TRANSFER, "c", "b", 100), id="payer"),
        pytest.param((TRANSFER, "b", "a", 100), id="payer and payee swapped"),
        pytest.param((DEPOSIT, None, "b", 100), id="kind and no payer"),
        pytest.param((TRANSFER, "a,b", "", 100), id="ids that concatenate alike"),
    ],
)
def test_a_different_body_has_a_different_fingerprint(
    other: tuple[TransactionKind, str | None, str, int],
) -> None:
    assert request_fingerprint(*other) != request_fingerprint(TRANSFER, "a", "b", 100)


def test_a_retry_at_another_moment_is_still_the_same_request() -> None:
    first = new_transaction(id="t", kind=TRANSFER, payer_id="a", payee_id="b", amount=100, now=NOW)
    retry = new_transaction(
        id="t", kind=TRANSFER, payer_id="a", payee_id="b", amount=100, now=datetime.now(UTC)
    )
    changed = new_transaction(id="t", kind=TRANSFER, payer_id="a", payee_id="b", amount=200, now=NOW)

    assert first.same_request_as(retry)
    assert not first.same_request_as(changed)


def test_a_new_transaction_is_completed_and_carries_its_fingerprint() -> None:
    transaction = new_transaction(id="t", kind=DEPOSIT, payer_id=None, payee_id="b", amount=5, now=NOW)

    assert transaction.status is TransactionStatus.COMPLETED
    assert transaction.created_at == NOW
    assert transaction.request_fingerprint == request_fingerprint(DEPOSIT, None, "b", 5)


# ---------------------------------------------------------------- transfer checks


def test_a_transfer_within_the_balance_passes() -> None:
    assert debit_refusal(individual(1000), 999) is None


def test_a_payer_may_send_exactly_its_whole_balance() -> None:
    assert debit_refusal(individual(1000), 1000) is None


def test_one_centavo_over_the_balance_is_insufficient_funds() -> None:
    assert isinstance(debit_refusal(individual(1000), 1001), InsufficientFunds)


def test_sending_to_oneself_is_same_account_whatever_the_balance() -> None:
    with pytest.raises(SameAccount):
        check_parties("ana", "ana")


def test_two_customers_are_two_parties() -> None:
    check_parties("ana", "bia")


def test_a_merchant_cannot_send_whatever_its_balance() -> None:
    merchant = Account(customer_id="shop", customer_type=CustomerType.MERCHANT, balance=1000)

    assert isinstance(debit_refusal(merchant, 1), MerchantCannotSend)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InsufficientFunds, "insufficient_funds"),
        (SameAccount, "same_account"),
        (MerchantCannotSend, "merchant_cannot_send"),
    ],
)
def test_each_rule_carries_the_contracts_error_code(error: type[WalletError], code: str) -> None:
    assert error.code == code
    assert issubclass(error, WalletError)
