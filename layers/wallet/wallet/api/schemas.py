"""Request and response bodies of the HTTP API (what each route answers: README.md's table).

The spec says exactly what the API takes: every request field's schema is written from the
same constants and patterns the domain checks it with (``NAME_PATTERN``, ``DOCUMENT_PATTERN``,
``AMOUNT_PATTERN``, ...), so a value fits the schema if and only if the API takes it. The one
rule no JSON Schema can hold, a CPF's or CNPJ's check digits, is said in the field's
description and answered 422 like the rest.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from wallet.domain.customers import (
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    Customer,
    CustomerStatus,
    CustomerType,
    normalize_name,
)
from wallet.domain.documents import DOCUMENT_PATTERN, MAX_DOCUMENT_LENGTH, normalize_document
from wallet.domain.ledger import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from wallet.domain.money import (
    AMOUNT_PATTERN,
    CURRENCY,
    MAX_AMOUNT,
    SMALLEST_AMOUNT,
    format_amount,
    parse_amount,
)

ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
# An id in a route's path: anything else cannot name a customer or a transaction.
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
# Numeric ids in a body: whole numbers every JSON reader holds exactly (up to 2**53 - 1).
MAX_NUMERIC_ID = 2**53 - 1


def _integer_id_as_text(value: object) -> object:
    """The PicPay challenge's clients send numeric ids; ids are text here (7 and 7.0 are "7")."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return value
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        return value  # not a whole number: refused as not text
    number = int(value)
    if not 0 <= number <= MAX_NUMERIC_ID:
        raise ValueError(f"a numeric id must be a whole number from 0 to {MAX_NUMERIC_ID}")
    return str(number)


CustomerId = Annotated[
    str,
    BeforeValidator(_integer_id_as_text),
    Field(pattern=ID_PATTERN),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": ID_PATTERN},
                {"type": "integer", "minimum": 0, "maximum": MAX_NUMERIC_ID},
            ],
            "description": "A customer's id (a whole number is read as its text).",
            "examples": ["6f1c2a4e-9d1b-4c57-8e0a-2b9f3d4c5e6f"],
        }
    ),
]
Amount = Annotated[
    int,
    BeforeValidator(parse_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": AMOUNT_PATTERN},
                {
                    "type": "number",
                    "minimum": float(SMALLEST_AMOUNT),
                    "maximum": float(MAX_AMOUNT),
                    "multipleOf": float(SMALLEST_AMOUNT),
                },
            ],
            "description": f"Reais, {SMALLEST_AMOUNT} to {MAX_AMOUNT}, with at most two decimals: a string "
            "(preferred; no leading zero) or a JSON number (not in exponent form).",
            "examples": ["10.50"],
        }
    ),
]
Name = Annotated[
    str,
    AfterValidator(normalize_name),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_LENGTH,
            "pattern": NAME_PATTERN,
            "description": "Not only whitespace, which is collapsed to one space; no control or "
            "invisible characters.",
            "examples": ["Ana Lima"],
        }
    ),
]
Document = Annotated[
    str,
    AfterValidator(normalize_document),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_DOCUMENT_LENGTH,
            "pattern": DOCUMENT_PATTERN,
            "description": "CPF (11 digits) or CNPJ (14 digits), with or without . - / and spaces. "
            "Its check digits must be right, which no pattern can say: a wrong one is 422 "
            "validation_error.",
            "examples": ["529.982.247-25"],
        }
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=512)


class RegisterCustomerRequest(_Request):
    """The e-mail is the caller's verified one, from the token: never one the body claims."""

    name: Name
    document: Document
    type: CustomerType = CustomerType.INDIVIDUAL


class TransferRequest(_Request):
    payer: CustomerId | None = Field(default=None, description="the caller; may be left out")
    payee: CustomerId
    value: Amount


class DepositRequest(_Request):
    amount: Amount


class CustomerResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    email: str
    document: str
    type: CustomerType
    status: CustomerStatus
    created_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> Self:
        return cls.model_validate(customer)


class TransactionResponse(BaseModel):
    id: str
    kind: TransactionKind
    payer: str | None
    payee: str
    value: str = Field(examples=["10.50"])
    status: TransactionStatus
    created_at: datetime

    @classmethod
    def of(cls, transaction: Transaction) -> Self:
        return cls(
            id=transaction.id,
            kind=transaction.kind,
            payer=transaction.payer_id,
            payee=transaction.payee_id,
            value=format_amount(transaction.amount),
            status=transaction.status,
            created_at=transaction.created_at,
        )


class BalanceResponse(BaseModel):
    customer_id: str
    balance: str = Field(examples=["100.00"])
    currency: Literal["BRL"] = CURRENCY


class ErrorDetail(BaseModel):
    location: list[str | int]
    message: str


class ErrorResponse(BaseModel):
    error: str = Field(examples=["insufficient_funds"])
    message: str
    details: list[ErrorDetail] | None = None


class AccessRefusal(BaseModel):
    """A 401 or 403: the contract's error, or API Gateway's own ``{"message": ...}``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"message": "Unauthorized"},
                {"error": "forbidden", "message": "you can only send money from your own account"},
            ]
        }
    )

    error: str | None = None
    message: str


IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="A retry with the same key and body returns the original result; no money moves again.",
    ),
]

RailReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="The rail's own reference of the money received: a retry never deposits twice.",
    ),
]
