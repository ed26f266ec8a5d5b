"""CPF (people, 11 digits) and CNPJ (companies, 14 digits): punctuation allowed, check digits checked."""

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.domain.documents import (
    DOCUMENT_PATTERN,
    MAX_DOCUMENT_LENGTH,
    InvalidDocument,
    normalize_document,
)

# Published examples with valid check digits.
VALID_CPFS = ["52998224725", "11144477735", "12345678909", "39053344705", "93541134780"]
VALID_CNPJS = ["11222333000181", "04252011000110", "33000167000101"]


@pytest.mark.parametrize("digits", VALID_CPFS + VALID_CNPJS)
def test_a_valid_document_normalises_to_its_bare_digits(digits: str) -> None:
    assert normalize_document(digits) == digits


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("529.982.247-25", "52998224725"),
        ("111.444.777-35", "11144477735"),
        ("529 982 247 25", "52998224725"),
        (" 52998224725 ", "52998224725"),
        ("11.222.333/0001-81", "11222333000181"),
        ("04.252.011/0001-10", "04252011000110"),
        ("529-982-247/25", "52998224725"),
        (" 11 222 333 0001 81 ", "11222333000181"),
        ("52998224725.", "52998224725"),
    ],
)
def test_the_usual_punctuation_is_allowed(raw: str, digits: str) -> None:
    assert normalize_document(raw) == digits


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("52998224726", id="CPF second check digit wrong"),
        pytest.param("52998224715", id="CPF first check digit wrong"),
        pytest.param("529.982.247-52", id="CPF check digits swapped"),
        pytest.param("11222333000182", id="CNPJ second check digit wrong"),
        pytest.param("11222333000191", id="CNPJ first check digit wrong"),
        pytest.param("5299822472", id="10 digits"),
        pytest.param("529982247250", id="12 digits"),
        pytest.param("1122233300018", id="13 digits"),
        pytest.param("112223330001810", id="15 digits"),
        pytest.param("", id="empty"),
        pytest.param("...-", id="only punctuation"),
        pytest.param("529.982.247-2A", id="a letter"),
        pytest.param("ABC.DEF.GHI-JK", id="letters"),
        pytest.param("12.ABC.345/01DE-35", id="alphanumeric CNPJ"),
        pytest.param("529_982_247_25", id="underscores"),
        pytest.param("529\t982\t247\t25", id="tabs"),
        pytest.param("52998224725\n", id="a trailing newline"),
        pytest.param("  52998224725", id="two leading spaces"),
        pytest.param("529..982.247-25", id="two marks in a row"),
        pytest.param("-52998224725", id="a leading mark"),
        pytest.param("529,982,247-25", id="commas"),
        pytest.param("+52998224725", id="plus sign"),
        pytest.param(
            "\u0665\u0662\u0669\u0669\u0668\u0662\u0662\u0664\u0667\u0662\u0665", id="non-ascii digits"
        ),
        *(pytest.param(str(d) * 11, id=f"CPF of eleven {d}s") for d in range(10)),
        *(pytest.param(str(d) * 14, id=f"CNPJ of fourteen {d}s") for d in range(10)),
    ],
)
def test_an_invalid_document_is_refused(raw: str) -> None:
    with pytest.raises(InvalidDocument):
        normalize_document(raw)


def test_invalid_document_is_a_value_error_so_pydantic_reports_it_as_validation() -> None:
    assert issubclass(InvalidDocument, ValueError)


@given(st.sampled_from(VALID_CPFS + VALID_CNPJS), st.data())
def test_changing_either_check_digit_of_a_valid_document_makes_it_invalid(
    digits: str, data: st.DataObject
) -> None:
    # Only the check digits: a change in the body can (rarely) be absorbed, as in 22345678909.
    position = data.draw(st.sampled_from([len(digits) - 2, len(digits) - 1]))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != digits[position]]))
    changed = digits[:position] + replacement + digits[position + 1 :]

    with pytest.raises(InvalidDocument):
        normalize_document(changed)


# The document's schema as the spec publishes it, judged by the validator schemathesis uses.
DOCUMENT_SCHEMA = jsonschema_rs.validator_for(
    {"type": "string", "maxLength": MAX_DOCUMENT_LENGTH, "pattern": DOCUMENT_PATTERN}
)


def refusal_of(raw: str) -> str | None:
    try:
        normalize_document(raw)
    except InvalidDocument as refusal:
        return str(refusal)
    return None


@given(st.text(alphabet="0123456789./- \tA", max_size=34))
def test_a_document_the_schema_refuses_is_refused_and_one_it_takes_fails_only_on_its_check_digits(
    raw: str,
) -> None:
    """The pattern says all but the check digits: past it, only "check digits" refusals remain."""
    refusal = refusal_of(raw)
    if DOCUMENT_SCHEMA.is_valid(raw):
        assert refusal is None or "check digits" in refusal
    else:
        assert refusal is not None


@given(st.from_regex(DOCUMENT_PATTERN, fullmatch=True))
def test_a_document_that_fits_the_pattern_is_refused_only_for_its_check_digits(raw: str) -> None:
    refusal = refusal_of(raw)
    if len(raw) <= MAX_DOCUMENT_LENGTH:
        assert refusal is None or "check digits" in refusal
    else:
        assert refusal is not None
