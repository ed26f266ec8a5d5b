"""Money: integer centavos inside, decimal strings at the edges, never a float."""

import re
from decimal import Decimal

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.domain.money import (
    AMOUNT_PATTERN,
    CURRENCY,
    MAX_AMOUNT,
    MAX_AMOUNT_CENTAVOS,
    SMALLEST_AMOUNT,
    InvalidAmount,
    format_amount,
    format_brl,
    parse_amount,
)

# A string amount as the spec has it, judged by the JSON Schema validator schemathesis uses.
AMOUNT_STRING = jsonschema_rs.validator_for({"type": "string", "pattern": AMOUNT_PATTERN})


@pytest.mark.parametrize(
    ("raw", "centavos"),
    [
        ("10.50", 1050),
        ("10.5", 1050),
        ("10", 1000),
        ("0.01", 1),
        ("0.1", 10),
        ("1", 100),
        ("999999999.99", MAX_AMOUNT_CENTAVOS),
        ("999999999", 99_999_999_900),
        ("0.10", 10),
        ("0.05", 5),
        (Decimal("999999999.99"), MAX_AMOUNT_CENTAVOS),
        (999_999_999, 99_999_999_900),
        (Decimal("10.500"), 1050),
        (Decimal("7.000000000000000000000000000000000"), 700),
        (1, 100),
        (100, 10_000),
        (Decimal("0.1"), 10),
        (Decimal("0.01"), 1),
        (Decimal("100.0"), 10_000),
        (Decimal("100.00"), 10_000),
        (Decimal("10.50"), 1050),
        (Decimal(7), 700),
    ],
)
def test_a_valid_amount_becomes_exact_centavos(raw: object, centavos: int) -> None:
    assert parse_amount(raw) == centavos


def test_decimal_point_one_is_exactly_ten_centavos_where_a_float_would_not_be() -> None:
    assert parse_amount(Decimal("0.1")) * 3 == parse_amount(Decimal("0.3"))
    assert 0.1 * 3 != 0.3  # the reason floats are refused


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("0", id="zero"),
        pytest.param("0.00", id="zero with decimals"),
        pytest.param("0.0", id="zero with a decimal"),
        pytest.param("00.50", id="two leading zeros"),
        pytest.param("01.00", id="leading zero"),
        pytest.param("010", id="leading zero of a whole number"),
        pytest.param("10.500", id="a string with three decimals, zeros"),
        pytest.param("1000000000", id="one billion"),
        pytest.param("1000000000.00", id="one billion with decimals"),
        pytest.param("-1", id="negative"),
        pytest.param("-0.01", id="negative centavo"),
        pytest.param("1.234", id="three decimals"),
        pytest.param("0.001", id="a tenth of a centavo"),
        pytest.param("1e2", id="exponent"),
        pytest.param("1E2", id="capital exponent"),
        pytest.param("NaN", id="NaN"),
        pytest.param("Infinity", id="Infinity"),
        pytest.param("inf", id="inf"),
        pytest.param(" 1", id="leading space"),
        pytest.param("1 ", id="trailing space"),
        pytest.param("1,00", id="decimal comma"),
        pytest.param("1.000,00", id="brazilian grouping"),
        pytest.param("", id="empty"),
        pytest.param(".50", id="no integer part"),
        pytest.param("1.", id="dangling point"),
        pytest.param("+1", id="explicit plus"),
        pytest.param("0x10", id="hex"),
        pytest.param("\u0661\u0660", id="arabic-indic digits"),
        pytest.param("\uff11\uff10.50", id="full-width digits"),
        pytest.param("1000000000.01", id="above the maximum"),
        pytest.param("9" * 12 + ".99", id="twelve nines"),
        pytest.param("1" + "0" * 12, id="thirteen digits"),
        pytest.param("1" * 5000, id="absurdly long"),
        pytest.param(0, id="int zero"),
        pytest.param(-5, id="negative int"),
        pytest.param(10**12, id="huge int"),
        pytest.param(10**100, id="absurd int"),
        pytest.param(True, id="True"),
        pytest.param(False, id="False"),
        pytest.param(0.1, id="float 0.1"),
        pytest.param(100.0, id="float 100.0"),
        pytest.param(None, id="None"),
        pytest.param([1], id="list"),
        pytest.param({"amount": 1}, id="dict"),
        pytest.param(b"1.00", id="bytes"),
        pytest.param(Decimal("1E+2"), id="Decimal with exponent"),
        pytest.param(Decimal("1.0E+3"), id="Decimal with exponent and point"),
        pytest.param(Decimal("1.234"), id="Decimal with three decimals"),
        pytest.param(Decimal("0.001"), id="Decimal tenth of a centavo"),
        pytest.param(
            Decimal("123.4500000000000000000000000000001"), id="Decimal beyond the context's precision"
        ),
        pytest.param(Decimal("999999999.991"), id="Decimal a tenth of a centavo above the maximum"),
        pytest.param(Decimal("1000000000"), id="Decimal one billion"),
        pytest.param(1_000_000_000, id="int one billion"),
        pytest.param(Decimal("0"), id="Decimal zero"),
        pytest.param(Decimal("-0"), id="Decimal negative zero"),
        pytest.param(Decimal("-1.00"), id="Decimal negative"),
        pytest.param(Decimal("NaN"), id="Decimal NaN"),
        pytest.param(Decimal("sNaN"), id="Decimal signalling NaN"),
        pytest.param(Decimal("Infinity"), id="Decimal Infinity"),
        pytest.param(Decimal("-Infinity"), id="Decimal -Infinity"),
        pytest.param(Decimal("1e400"), id="Decimal 1e400"),
        pytest.param(Decimal("1" + "0" * 40), id="Decimal forty digits"),
    ],
)
def test_an_invalid_amount_is_refused(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(raw)


def test_invalid_amount_is_a_value_error_so_pydantic_reports_it_as_validation() -> None:
    assert issubclass(InvalidAmount, ValueError)


@pytest.mark.parametrize(
    ("centavos", "text"),
    [
        (1050, "10.50"),
        (1, "0.01"),
        (100, "1.00"),
        (0, "0.00"),
        (-250, "-2.50"),
        (MAX_AMOUNT_CENTAVOS, "999999999.99"),
    ],
)
def test_format_amount_writes_the_apis_decimal_string(centavos: int, text: str) -> None:
    assert format_amount(centavos) == text


@pytest.mark.parametrize(
    ("centavos", "text"),
    [
        (123_456, "R$ 1.234,56"),
        (1, "R$ 0,01"),
        (100, "R$ 1,00"),
        (99_999, "R$ 999,99"),
        (123_456_789, "R$ 1.234.567,89"),
        (100_000_000_00, "R$ 100.000.000,00"),
        (0, "R$ 0,00"),
        (-123_456, "-R$ 1.234,56"),
    ],
)
def test_format_brl_writes_what_a_brazilian_reader_expects(centavos: int, text: str) -> None:
    assert format_brl(centavos) == text


def test_there_is_one_currency() -> None:
    assert CURRENCY == "BRL"


valid_centavos = st.integers(min_value=1, max_value=MAX_AMOUNT_CENTAVOS)


def test_the_maximum_is_nine_digits_of_reais_and_the_pattern_says_so() -> None:
    assert MAX_AMOUNT == Decimal("999999999.99") == Decimal(MAX_AMOUNT_CENTAVOS) / 100
    assert Decimal("0.01") == SMALLEST_AMOUNT
    assert re.fullmatch(AMOUNT_PATTERN, "999999999.99")
    assert not re.fullmatch(AMOUNT_PATTERN, "1000000000")


@given(st.text(alphabet="0123456789.", max_size=14))
def test_a_string_is_an_amount_exactly_when_it_fits_the_published_pattern(text: str) -> None:
    """The spec's pattern, read by the validator schemathesis judges with, says what parse_amount takes."""
    fits = AMOUNT_STRING.is_valid(text)
    try:
        parse_amount(text)
    except InvalidAmount:
        assert not fits
    else:
        assert fits


@given(st.from_regex(AMOUNT_PATTERN, fullmatch=True))
def test_every_string_the_pattern_generates_is_taken(text: str) -> None:
    assert 1 <= parse_amount(text) <= MAX_AMOUNT_CENTAVOS


@st.composite
def valid_amount_strings(draw: st.DrawFn) -> str:
    """Every way the API accepts a string: "10", "10.5", "10.50"."""
    centavos = draw(valid_centavos)
    reais, cents = divmod(centavos, 100)
    if cents == 0:
        return draw(st.sampled_from([f"{reais}", f"{reais}.0", f"{reais}.00"]))
    if cents % 10 == 0:
        return draw(st.sampled_from([f"{reais}.{cents // 10}", f"{reais}.{cents:02d}"]))
    return f"{reais}.{cents:02d}"


@given(valid_amount_strings())
def test_format_amount_round_trips_every_valid_string(text: str) -> None:
    assert format_amount(parse_amount(text)) == str(Decimal(text).quantize(Decimal("0.01")))
    assert parse_amount(format_amount(parse_amount(text))) == parse_amount(text)


@given(valid_centavos)
def test_a_two_decimal_decimal_parses_to_its_centavos(centavos: int) -> None:
    assert parse_amount(Decimal(centavos).scaleb(-2)) == centavos
    assert parse_amount(Decimal(format_amount(centavos))) == centavos


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_CENTAVOS // 100))
def test_a_whole_number_of_reais_parses_as_int_string_and_decimal_alike(reais: int) -> None:
    assert parse_amount(reais) == parse_amount(str(reais)) == parse_amount(Decimal(reais)) == reais * 100


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_brl_and_format_amount_agree_on_the_digits(centavos: int) -> None:
    plain = format_amount(centavos).replace("-", "").replace(".", "")
    brazilian = format_brl(centavos).replace("-", "").removeprefix("R$ ").replace(".", "").replace(",", "")
    assert plain == brazilian
