"""Brazilian tax documents: CPF (people, 11 digits) and CNPJ (companies, 14 digits)."""

import re

CPF_DIGITS, CNPJ_DIGITS = 11, 14
# 11 (CPF) or 14 (CNPJ) ASCII digits, each followed by at most one of ". - /" or a space, after
# at most one space (as 529.982.247-25, 11.222.333/0001-81, 529 982 247 25, 52998224725): at
# most 30 characters. The check digits are a computation no pattern can express: a document
# that fits the pattern with a wrong one is refused too. The OpenAPI spec publishes this very
# pattern.
_MARK = "./ -"
DOCUMENT_PATTERN = rf"^ ?(?:(?:[0-9][{_MARK}]?){{{CPF_DIGITS}}}|(?:[0-9][{_MARK}]?){{{CNPJ_DIGITS}}}) ?$"
MAX_DOCUMENT_LENGTH = 1 + 2 * CNPJ_DIGITS + 1
_DOCUMENT = re.compile(DOCUMENT_PATTERN)
_PUNCTUATION = re.compile(rf"[{_MARK}]")
_CNPJ_FIRST_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_SECOND_WEIGHTS = (6, *_CNPJ_FIRST_WEIGHTS)


class InvalidDocument(ValueError):
    """Not a CPF or CNPJ with valid check digits."""


def normalize_document(raw: str) -> str:
    """``DOCUMENT_PATTERN`` with valid check digits; return the bare digits."""
    if len(raw) > MAX_DOCUMENT_LENGTH or not _DOCUMENT.fullmatch(raw):
        raise InvalidDocument(
            f"document must be {CPF_DIGITS} (CPF) or {CNPJ_DIGITS} (CNPJ) digits, "
            "each followed by at most one of . - / or a space"
        )
    digits = _PUNCTUATION.sub("", raw)
    if (len(digits) == CPF_DIGITS and _is_valid_cpf(digits)) or (
        len(digits) == CNPJ_DIGITS and _is_valid_cnpj(digits)
    ):
        return digits
    raise InvalidDocument("document's check digits are wrong: not a valid CPF or CNPJ")


def _is_valid_cpf(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for size in (9, 10):
        total = sum(n * w for n, w in zip(numbers[:size], range(size + 1, 1, -1), strict=True))
        check = total * 10 % 11 % 10
        if check != numbers[size]:
            return False
    return True


def _is_valid_cnpj(digits: str) -> bool:
    if len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for weights in (_CNPJ_FIRST_WEIGHTS, _CNPJ_SECOND_WEIGHTS):
        size = len(weights)
        remainder = sum(n * w for n, w in zip(numbers[:size], weights, strict=True)) % 11
        check = 0 if remainder < 2 else 11 - remainder
        if check != numbers[size]:
            return False
    return True
