"""Move money: transfers between customers and deposits into an account.

In this order: the rules that need no data (same account), the external authorizer BEFORE
anything is written, then ONE conditional write (``LedgerRecords.record``) that debits,
credits and records the transaction with its event. Its conditions are the checks
(the payer is an individual with enough money, both accounts exist, the transaction is new):
a committed transfer costs two round trips, and only a refused one reads more, to tell its
error apart.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from wallet.domain.errors import (
    CustomerNotActive,
    CustomerNotFound,
    Forbidden,
    IdempotencyKeyReused,
    WalletError,
)
from wallet.domain.ledger import (
    Transaction,
    TransactionKind,
    check_parties,
    new_transaction,
    transaction_id_for,
)
from wallet.events import TransactionCreated
from wallet.observability import MetricUnit, logger, metrics
from wallet.service.clock import utc_now
from wallet.service.ports import Authorizer, DuplicateTransaction, LedgerRecords, NoAccount, Profiles

# How long a client should wait for the sync to open a new customer's account.
ACCOUNT_OPENING_RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class Instruction:
    """What a caller asked to move; the caller scopes its Idempotency-Key."""

    kind: TransactionKind
    caller: str
    payer_id: str | None
    payee_id: str
    amount: int
    idempotency_key: str | None


@dataclass(frozen=True)
class Movement:
    transaction: Transaction
    replayed: bool


class MoneyMovement:
    def __init__(
        self,
        ledger: LedgerRecords,
        customers: Profiles,
        authorizer: Authorizer,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._ledger = ledger
        self._customers = customers
        self._authorizer = authorizer
        self._now = now

    def transfer(
        self,
        caller: str,
        payee_id: str,
        amount: int,
        idempotency_key: str | None,
        *,
        payer_id: str | None = None,
    ) -> Movement:
        """Send the caller's money: a ``payer_id`` other than the caller is refused (403)."""
        payer = caller if payer_id is None else payer_id
        return self._move_and_report(
            Instruction(TransactionKind.TRANSFER, caller, payer, payee_id, amount, idempotency_key)
        )

    def deposit(self, rail: str, customer_id: str, amount: int, reference: str) -> Movement:
        """Money received from outside; ``reference`` is the rail's own, its Idempotency-Key."""
        return self._move_and_report(
            Instruction(TransactionKind.DEPOSIT, rail, None, customer_id, amount, reference)
        )

    def _move_and_report(self, instruction: Instruction) -> Movement:
        """Move, then count and log what came of it: committed, replayed or rejected (by code)."""
        kind = instruction.kind
        try:
            movement = self._move(instruction)
        except WalletError as rejection:
            metrics.add_metric(
                name=f"{kind.title()}Rejected_{rejection.code}", unit=MetricUnit.Count, value=1
            )
            raise
        if not movement.replayed:
            metrics.add_metric(name=f"{kind.title()}Committed", unit=MetricUnit.Count, value=1)
        logger.info(
            f"{kind} committed",
            extra={"transaction_id": movement.transaction.id, "replayed": movement.replayed},
        )
        return movement

    def _move(self, instruction: Instruction) -> Movement:
        kind, caller, key = instruction.kind, instruction.caller, instruction.idempotency_key
        if kind is TransactionKind.TRANSFER and instruction.payer_id != caller:
            raise Forbidden("you can only send money from your own account")
        candidate = new_transaction(
            id=transaction_id_for(kind, caller, key),
            kind=kind,
            payer_id=instruction.payer_id,
            payee_id=instruction.payee_id,
            amount=instruction.amount,
            now=self._now(),
        )
        if candidate.payer_id is not None:
            check_parties(candidate.payer_id, candidate.payee_id)
        try:
            # The authorizer answers before anything is written (a transfer it refuses leaves
            # no trace, and one it allows is never undone). Then ONE
            # conditional write, whose conditions are the checks: nothing is read first.
            if candidate.payer_id is not None:
                self._authorizer.authorize()
            self._ledger.record(candidate, _created_event(candidate))
        except DuplicateTransaction:
            # Without a key the id is fresh and random: the transaction is this request's own
            # write whose answer was lost and retried. With one, it is a replay (or a twin
            # that won the race).
            original = self._ledger.transaction(candidate.id)
            if original is None:
                raise
            return _replay(original, candidate) if key is not None else Movement(original, replayed=False)
        except WalletError as refusal:
            # A retry of a committed request answers as the original did, whatever the
            # authorizer or the balance say today. Only refused requests pay these reads.
            original = self._ledger.transaction(candidate.id) if key is not None else None
            if original is not None:
                return _replay(original, candidate)
            if isinstance(refusal, NoAccount):
                raise self._missing(refusal.customer_id) from refusal
            raise
        return Movement(candidate, replayed=False)

    def _missing(self, customer_id: str) -> WalletError:
        """No account: not a customer (404), or one whose account is still being opened (409)."""
        if self._customers.get(customer_id) is None:
            return CustomerNotFound(f"customer {customer_id} does not exist")
        return CustomerNotActive(
            f"customer {customer_id} is still being activated",
            retry_after_seconds=ACCOUNT_OPENING_RETRY_AFTER_SECONDS,
        )


def _replay(original: Transaction, candidate: Transaction) -> Movement:
    if not original.same_request_as(candidate):
        raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request")
    return Movement(original, replayed=True)


def _created_event(transaction: Transaction) -> TransactionCreated:
    return TransactionCreated(
        # Derived from the transaction id, so the event of a transaction is unique by construction.
        event_id=str(uuid.uuid5(uuid.UUID(transaction.id), "TransactionCreated")),
        occurred_at=transaction.created_at,
        transaction_id=transaction.id,
        kind=transaction.kind,
        payer_id=transaction.payer_id,
        payee_id=transaction.payee_id,
        amount=transaction.amount,
    )
