"""Customers: who they are and what they may do."""

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from wallet.domain.documents import normalize_document

# Printable ASCII without spaces (SES refuses the rest; an international domain is written
# in its xn-- form): "!" to "?" and "A" to "~", which leaves out "@".
_EMAIL = re.compile(r"[!-?A-~]{1,64}@[!-?A-~]+\.[!-?A-~]+")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 120
# Customer ids are derived from the identity that registered them, so that every request can
# tell whether an id is the caller's own without reading anything.
_IDENTITY_NAMESPACE = uuid.UUID("8e5b0d2c-1f47-4a63-9c2e-7d41b6a0f3e9")


class CustomerType(StrEnum):
    INDIVIDUAL = "individual"
    MERCHANT = "merchant"


class CustomerStatus(StrEnum):
    """``pending`` until the sync has opened the customer's ledger account."""

    PENDING = "pending"
    ACTIVE = "active"


class InvalidEmail(ValueError):
    """Not an address mail can be sent to."""


class InvalidName(ValueError):
    """Empty, too long, or made of control characters."""


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str
    document: str
    type: CustomerType
    status: CustomerStatus
    created_at: datetime

    @classmethod
    def register(
        cls, *, id: str, name: str, email: str, document: str, type: CustomerType, now: datetime
    ) -> "Customer":
        return cls(
            id=id,
            name=normalize_name(name),
            email=normalize_email(email),
            document=normalize_document(document),
            type=type,
            status=CustomerStatus.PENDING,
            created_at=now,
        )

    def activated(self) -> "Customer":
        return replace(self, status=CustomerStatus.ACTIVE)


def customer_id_for(issuer: str, subject: str) -> str:
    """The id of the customer an identity (token issuer and subject) registers, or owns."""
    return str(uuid.uuid5(_IDENTITY_NAMESPACE, f"{issuer}#{subject}"))


def normalize_email(raw: str) -> str:
    """Lower-cased, so that uniqueness does not depend on how the customer typed it."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise InvalidEmail("email must be a valid e-mail address")
    return email


def normalize_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidName(f"name must have 1 to {MAX_NAME_LENGTH} printable characters")
    return name
