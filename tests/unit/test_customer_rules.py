"""Customers: who they are (normalised e-mail, name, document) and what they may do."""

from datetime import UTC, datetime

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.domain.customers import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    Customer,
    CustomerStatus,
    CustomerType,
    InvalidEmail,
    InvalidName,
    normalize_email,
    normalize_name,
)
from wallet.domain.documents import InvalidDocument
from wallet.domain.errors import MerchantCannotSend
from wallet.domain.ledger import Account, debit_refusal

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        ("ana@example.com", "ana@example.com"),
        ("Ana.Souza@Example.COM", "ana.souza@example.com"),
        ("  ana@example.com\n", "ana@example.com"),
        ("ana+wallet@mail.example.com.br", "ana+wallet@mail.example.com.br"),
    ],
)
def test_an_email_is_normalised_to_lower_case_without_surrounding_space(raw: str, email: str) -> None:
    assert normalize_email(raw) == email


def test_two_spellings_of_one_email_are_the_same_customer() -> None:
    assert normalize_email("ANA@EXAMPLE.COM") == normalize_email("ana@example.com")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("ana.example.com", id="no @"),
        pytest.param("ana@", id="no domain"),
        pytest.param("@example.com", id="no local part"),
        pytest.param("ana@example", id="domain without a dot"),
        pytest.param("ana@@example.com", id="two @"),
        pytest.param("ana@exa@mple.com", id="@ in the domain"),
        pytest.param("ana souza@example.com", id="space in the local part"),
        pytest.param("jos\u00e9@exemplo.com", id="non-ASCII local part (SES refuses it)"),
        pytest.param("ana@exempl\u00f3.com", id="non-ASCII domain (SES wants its xn-- form)"),
        pytest.param("a\u0000b@example.com", id="control character"),
        pytest.param("ana@exam ple.com", id="space in the domain"),
        pytest.param("ana@example.com\nBcc: x@y.z", id="header injection"),
        pytest.param("a" * 65 + "@example.com", id="local part over 64"),
        pytest.param("a@" + "b" * (MAX_EMAIL_LENGTH - 5) + ".com", id="over 254 characters"),
    ],
)
def test_an_invalid_email_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_an_email_of_exactly_the_maximum_length_is_accepted() -> None:
    email = "a@" + "b" * (MAX_EMAIL_LENGTH - 6) + ".com"
    assert len(email) == MAX_EMAIL_LENGTH
    assert normalize_email(email) == email


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Ana Souza", "Ana Souza"),
        ("  Ana   Souza  ", "Ana Souza"),
        ("Ana\tSouza", "Ana Souza"),
        ("José Ávila", "José Ávila"),
        ("A" * MAX_NAME_LENGTH, "A" * MAX_NAME_LENGTH),
        (" " * (MAX_NAME_LENGTH - 1) + "A", "A"),
        ("A", "A"),
        ("Ana\u3000\u00a0Lima\n", "Ana Lima"),
        ("Zoë 李 \U0001f600", "Zoë 李 \U0001f600"),
        ("O'Brien-Smith, Jr.", "O'Brien-Smith, Jr."),
    ],
)
def test_a_name_is_kept_with_its_whitespace_collapsed(raw: str, name: str) -> None:
    assert normalize_name(raw) == name


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param(" \t\n ", id="only whitespace"),
        pytest.param("A" * (MAX_NAME_LENGTH + 1), id="too long"),
        pytest.param("A" + " " * MAX_NAME_LENGTH, id="too long as sent, however short once collapsed"),
        pytest.param("\u3000\u00a0", id="only Unicode spaces"),
        pytest.param("Ana\x7fSouza", id="DEL"),
        pytest.param("Ana\x85Souza", id="C1 control"),
        pytest.param("Ana\u202eSouza", id="right-to-left override"),
        pytest.param("Ana\u00adSouza", id="soft hyphen"),
        pytest.param("\ufeffAna", id="byte order mark"),
        pytest.param("Ana\ud800", id="lone surrogate"),
        pytest.param("Ana\x00Souza", id="NUL"),
        pytest.param("Ana\x1bSouza", id="escape character"),
        pytest.param("Ana\u200bSouza", id="zero-width space"),
    ],
)
def test_an_invalid_name_is_refused(raw: str) -> None:
    with pytest.raises(InvalidName):
        normalize_name(raw)


# The name's schema as the spec publishes it, judged by the validator schemathesis uses.
NAME_SCHEMA = jsonschema_rs.validator_for(
    {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN}
)


@given(
    st.text(
        alphabet=st.sampled_from("Aé \t\n\x00\x1f\x85\xa0\u200b\u2028\u3000\ufeff\U0001f600"), max_size=125
    )
)
def test_a_name_is_taken_exactly_when_it_fits_the_published_schema(raw: str) -> None:
    try:
        normalize_name(raw)
    except InvalidName:
        assert not NAME_SCHEMA.is_valid(raw)
    else:
        assert NAME_SCHEMA.is_valid(raw)


@given(st.text(max_size=130))
def test_any_text_is_a_name_exactly_when_it_fits_the_published_schema(raw: str) -> None:
    try:
        name = normalize_name(raw)
    except InvalidName:
        assert not NAME_SCHEMA.is_valid(raw)
    else:
        assert NAME_SCHEMA.is_valid(raw)
        assert 1 <= len(name) <= MAX_NAME_LENGTH
        assert name == name.strip()


def test_a_registered_customer_starts_pending_with_normalised_fields() -> None:
    customer = Customer.register(
        id="c-1",
        name="  Ana   Souza ",
        email="Ana@Example.com",
        document="529.982.247-25",
        type=CustomerType.INDIVIDUAL,
        now=NOW,
    )

    assert customer == Customer(
        id="c-1",
        name="Ana Souza",
        email="ana@example.com",
        document="52998224725",
        type=CustomerType.INDIVIDUAL,
        status=CustomerStatus.PENDING,
        created_at=NOW,
    )


def test_registration_refuses_an_invalid_document() -> None:
    with pytest.raises(InvalidDocument):
        Customer.register(
            id="c-1",
            name="Ana",
            email="ana@example.com",
            document="123",
            type=CustomerType.INDIVIDUAL,
            now=NOW,
        )


def test_activating_a_customer_changes_only_its_status() -> None:
    pending = Customer.register(
        id="c-1",
        name="Ana",
        email="ana@example.com",
        document="52998224725",
        type=CustomerType.INDIVIDUAL,
        now=NOW,
    )

    active = pending.activated()

    assert active.status is CustomerStatus.ACTIVE
    assert pending.status is CustomerStatus.PENDING
    assert active == Customer(**{**vars(pending), "status": CustomerStatus.ACTIVE})


def test_a_merchant_cannot_send_even_with_the_money() -> None:
    merchant = Account(customer_id="shop", customer_type=CustomerType.MERCHANT, balance=1_000_000)

    refusal = debit_refusal(merchant, 100)

    assert isinstance(refusal, MerchantCannotSend)
    assert refusal.code == "merchant_cannot_send"


def test_an_individual_may_send_its_whole_balance_to_anyone() -> None:
    payer = Account(customer_id="ana", customer_type=CustomerType.INDIVIDUAL, balance=500)

    assert debit_refusal(payer, 500) is None
