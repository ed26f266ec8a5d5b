"""The ledger: accounts, and the transactions that move money between them."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from wallet.domain.customers import CustomerType
from wallet.domain.errors import InsufficientFunds, MerchantCannotSend, SameAccount, WalletError

# Transaction ids derived from an Idempotency-Key live in their own namespace, so that the
# key, not the request, decides which transaction a retry maps to.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0c3f7e-4a39-4d8e-9f51-0c1d2e3f4a5b")
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# An Idempotency-Key: visible ASCII, no spaces (HTTP trims a header's ends, and a key is a
# token, as a UUID or the rail's reference is). The OpenAPI spec publishes this very pattern.
IDEMPOTENCY_KEY_PATTERN = rf"^[!-~]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}$"


class TransactionKind(StrEnum):
    TRANSFER = "transfer"
    DEPOSIT = "deposit"


class TransactionStatus(StrEnum):
    COMPLETED = "completed"


@dataclass(frozen=True)
class Account:
    customer_id: str
    customer_type: CustomerType
    balance: int


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: TransactionKind
    payer_id: str | None
    payee_id: str
    amount: int
    status: TransactionStatus
    created_at: datetime
    request_fingerprint: str

    def same_request_as(self, other: "Transaction") -> bool:
        return self.request_fingerprint == other.request_fingerprint


def transaction_id_for(kind: TransactionKind, caller: str, idempotency_key: str | None) -> str:
    """A fresh id, or the one an Idempotency-Key always maps to for this caller.

    Keys are scoped by the caller: the same key from two callers names two unrelated
    transactions, so no key can reveal, replay or block another caller's.
    """
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{kind}:{caller}:{idempotency_key}"))


def request_fingerprint(kind: TransactionKind, payer_id: str | None, payee_id: str, amount: int) -> str:
    """What makes two requests "the same body" for idempotency."""
    canonical = json.dumps([kind.value, payer_id, payee_id, amount], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_transaction(
    *,
    id: str,
    kind: TransactionKind,
    payer_id: str | None,
    payee_id: str,
    amount: int,
    now: datetime,
) -> Transaction:
    return Transaction(
        id=id,
        kind=kind,
        payer_id=payer_id,
        payee_id=payee_id,
        amount=amount,
        status=TransactionStatus.COMPLETED,
        created_at=now,
        request_fingerprint=request_fingerprint(kind, payer_id, payee_id, amount),
    )


def check_parties(payer_id: str, payee_id: str) -> None:
    """The one rule of a transfer that needs no account: it is checked before anything else."""
    if payer_id == payee_id:
        raise SameAccount("payer and payee must be different customers")


def debit_refusal(payer: Account, amount: int) -> WalletError | None:
    """Why the payer's account refuses this debit, or None if it allows it: only individuals
    send, and never more than they have.

    The ledger's conditional write enforces these rules atomically with the debit (its
    condition is their translation); when it refuses, this names the rule that failed, from
    the account as the write saw it.
    """
    if payer.customer_type is not CustomerType.INDIVIDUAL:
        return MerchantCannotSend("merchants can receive money but not send it")
    if payer.balance < amount:
        return InsufficientFunds("the payer's balance is lower than the value")
    return None
