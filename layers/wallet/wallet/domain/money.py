"""Money: integer centavos inside, decimal strings at the edges.

Amounts never pass through a float: a JSON number reaches this module as a ``Decimal``
(see ``wallet.api.http.parse_json``), so ``0.1`` moves exactly 10 centavos.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Final

CURRENCY: Final = "BRL"
CENTAVOS_PER_REAL = 100
# R$ 999,999,999.99, nine digits of reais: anything larger is a client bug, not a payment.
MAX_AMOUNT_CENTAVOS = 99_999_999_999
MAX_AMOUNT = Decimal(MAX_AMOUNT_CENTAVOS) / CENTAVOS_PER_REAL
SMALLEST_AMOUNT = Decimal(1) / CENTAVOS_PER_REAL

# An amount as a decimal string, exactly: ASCII digits (Decimal() would read Arabic-Indic or
# full-width digits too), no leading zero, at most two decimals, greater than zero (0.01 up),
# at most MAX_AMOUNT. The OpenAPI spec publishes this very pattern.
AMOUNT_PATTERN = r"^(?:[1-9][0-9]{0,8}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9]))$"
_DECIMAL_STRING = re.compile(AMOUNT_PATTERN)


class InvalidAmount(ValueError):
    """The value is not a positive amount of reais with at most two decimals."""


def parse_amount(raw: object) -> int:
    """Turn a decimal string ("10.50"), an int or a ``Decimal`` into centavos.

    A string must match ``AMOUNT_PATTERN``; a number must be a multiple of 0.01 in
    (0, MAX_AMOUNT], written without an exponent (``10.500`` is 10.50).
    """
    if isinstance(raw, str):
        if not _DECIMAL_STRING.fullmatch(raw):
            raise InvalidAmount(
                f'amount must look like "10.50": digits without a leading zero, at most two decimals, '
                f"from {SMALLEST_AMOUNT} to {MAX_AMOUNT}"
            )
        return int(Decimal(raw) * CENTAVOS_PER_REAL)
    value = _to_decimal(raw)
    if value <= 0:
        raise InvalidAmount("amount must be greater than zero")
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"amount must be at most {MAX_AMOUNT}")
    if not _has_at_most_two_decimals(value):
        raise InvalidAmount("amount must have at most two decimals")
    return int(value * CENTAVOS_PER_REAL)


def _has_at_most_two_decimals(value: Decimal) -> bool:
    """Exactly, without the context's rounding: 10.500 has two, 1.2340000000000000000000000000001 more."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked before
    significant = "".join(map(str, digits)).rstrip("0")
    return exponent + (len(digits) - len(significant)) >= -2


def _to_decimal(raw: object) -> Decimal:
    # bool is an int subclass: True must not become R$ 1,00.
    if isinstance(raw, bool) or not isinstance(raw, (int, Decimal)):
        raise InvalidAmount('amount must be a decimal string such as "10.50" or a JSON number')
    try:
        value = Decimal(raw)
    except InvalidOperation as error:  # pragma: no cover - Decimal(int) never fails
        raise InvalidAmount("amount is not a number") from error
    if not value.is_finite():
        raise InvalidAmount("amount must be a finite number")
    # The API's JSON reader refuses numbers in exponent form; a Decimal written so is refused alike.
    if "E" in str(value):
        raise InvalidAmount("amount must be written without an exponent")
    return value


def format_amount(centavos: int) -> str:
    """Centavos as the API's decimal string: 1050 -> "10.50"."""
    sign = "-" if centavos < 0 else ""
    reais, cents = divmod(abs(centavos), CENTAVOS_PER_REAL)
    return f"{sign}{reais}.{cents:02d}"


def format_brl(centavos: int) -> str:
    """Centavos as a Brazilian reader expects them: 123456 -> "R$ 1.234,56"."""
    sign = "-" if centavos < 0 else ""
    reais, cents = divmod(abs(centavos), CENTAVOS_PER_REAL)
    grouped = f"{reais:,}".replace(",", ".")
    return f"{sign}R$ {grouped},{cents:02d}"
