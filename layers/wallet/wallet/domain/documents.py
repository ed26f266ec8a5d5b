"""Brazilian tax documents: CPF (people, 11 digits) and CNPJ (companies, 14 digits)."""

import re

_PUNCTUATION = re.compile(r"[.\-/\s]")
_CNPJ_FIRST_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_SECOND_WEIGHTS = (6, *_CNPJ_FIRST_WEIGHTS)


class InvalidDocument(ValueError):
    """Not a CPF or CNPJ with valid check digits."""


def normalize_document(raw: str) -> str:
    """Strip the usual punctuation and check the digits; return the bare digits."""
    digits = _PUNCTUATION.sub("", raw)
    if not digits.isascii() or not digits.isdigit():
        raise InvalidDocument("document must hold only digits and . - / punctuation")
    if len(digits) == 11 and _is_valid_cpf(digits):
        return digits
    if len(digits) == 14 and _is_valid_cnpj(digits):
        return digits
    raise InvalidDocument("document must be a valid CPF (11 digits) or CNPJ (14 digits)")


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
