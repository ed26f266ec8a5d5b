"""Money: integer centavos inside, decimal strings at the edges.

Amounts never pass through a float: a JSON number reaches this module as a ``Decimal``
(see ``wallet.api.http.parse_json``), so ``0.1`` moves exactly 10 centavos.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Final

CURRENCY: Final = "BRL"
CENTAVOS_PER_REAL = 100
# One billion reais: anything larger is a client bug, not a payment.
MAX_AMOUNT_CENTAVOS = 1_000_000_000 * CENTAVOS_PER_REAL

# ASCII digits only: Decimal() would read Arabic-Indic or full-width digits too.
_DECIMAL_STRING = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


class InvalidAmount(ValueError):
    """The value is not a positive amount of reais with at most two decimals."""


def parse_amount(raw: object) -> int:
    """Turn a decimal string ("10.50"), an int or a ``Decimal`` into centavos."""
    value = _to_decimal(raw)
    centavos = int(value * CENTAVOS_PER_REAL)
    if centavos <= 0:
        raise InvalidAmount("amount must be greater than zero")
    if centavos > MAX_AMOUNT_CENTAVOS:
        raise InvalidAmount("amount is larger than the maximum allowed")
    return centavos


def _to_decimal(raw: object) -> Decimal:
    # bool is an int subclass: True must not become R$ 1,00.
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise InvalidAmount('amount must be a decimal string such as "10.50" or a JSON number')
    if isinstance(raw, str):
        if not _DECIMAL_STRING.fullmatch(raw):
            raise InvalidAmount('amount must look like "10.50": digits, at most two decimals')
        return Decimal(raw)
    try:
        value = Decimal(raw)
    except InvalidOperation as error:  # pragma: no cover - Decimal(int) never fails
        raise InvalidAmount("amount is not a number") from error
    if not value.is_finite():
        raise InvalidAmount("amount must be a finite number")
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2 or "E" in str(value):
        raise InvalidAmount("amount must have at most two decimals and no exponent")
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
