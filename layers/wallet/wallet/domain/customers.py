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
# A name: at most MAX_NAME_LENGTH characters as sent, at least one of them visible. Its
# whitespace (tab to carriage return, the Unicode space separators, line and paragraph
# separators) is collapsed to one space and trimmed; the other control characters and the
# invisible ones (soft hyphen, zero-width and bidirectional marks and overrides, word joiners,
# the byte order mark) are refused. The OpenAPI spec publishes this very pattern.
_NAME_SPACE = r"\x09-\x0d \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NAME_INVISIBLE = r"\x00-\x08\x0e-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
NAME_PATTERN = rf"^[{_NAME_SPACE}]*[^{_NAME_SPACE}{_NAME_INVISIBLE}][^{_NAME_INVISIBLE}]*$"
_NAME = re.compile(NAME_PATTERN)
_NAME_SPACES = re.compile(rf"[{_NAME_SPACE}]+")
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
    """``NAME_PATTERN``, at most MAX_NAME_LENGTH characters; its whitespace collapsed to one space."""
    if len(raw) > MAX_NAME_LENGTH or not _NAME.fullmatch(raw) or not _is_unicode_text(raw):
        raise InvalidName(
            f"name must have 1 to {MAX_NAME_LENGTH} characters, visible ones or spaces, not only spaces"
        )
    return _NAME_SPACES.sub(" ", raw).strip(" ")


def _is_unicode_text(text: str) -> bool:
    """False for a lone surrogate (a JSON ``\\ud800`` escape): not a character, and no store takes it."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
