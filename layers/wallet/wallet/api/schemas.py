"""Request and response bodies of the HTTP API (the contract in DESIGN.md)."""

from datetime import datetime
from typing import Annotated, Literal, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from wallet.domain.customers import Customer, CustomerStatus, CustomerType, normalize_name
from wallet.domain.documents import normalize_document
from wallet.domain.ledger import Transaction, TransactionKind, TransactionStatus
from wallet.domain.money import CURRENCY, format_amount, parse_amount

ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
# An id in a route's path: anything else cannot name a customer or a transaction.
PathId = Annotated[str, Path(pattern=ID_PATTERN)]


def _integer_id_as_text(value: object) -> object:
    # The PicPay challenge's clients send numeric ids; ids are text here.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


CustomerId = Annotated[
    str,
    BeforeValidator(_integer_id_as_text),
    Field(pattern=ID_PATTERN, examples=["6f1c2a4e-9d1b-4c57-8e0a-2b9f3d4c5e6f"]),
]
Amount = Annotated[
    int,
    BeforeValidator(parse_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$"},
                {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01},
            ],
            "description": "Reais with at most two decimals, as a string (preferred) or a JSON number.",
            "examples": ["10.50"],
        }
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=512)


class RegisterCustomerRequest(_Request):
    """The e-mail is the caller's verified one, from the token: never one the body claims."""

    name: Annotated[str, AfterValidator(normalize_name)]
    document: Annotated[str, AfterValidator(normalize_document)] = Field(
        description="CPF (11 digits) or CNPJ (14 digits), punctuation allowed", examples=["529.982.247-25"]
    )
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
        max_length=255,
        description="A retry with the same key and body returns the original result; no money moves again.",
    ),
]

RailReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="The rail's own reference of the money received: a retry never deposits twice.",
    ),
]
