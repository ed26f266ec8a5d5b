"""The ledger table: accounts, and transactions that carry their own event.

It is the only source of truth for balances. Every money movement is ONE
TransactWriteItems whose conditions are a "lock, check balance, commit" made atomic:
the debit holds only while ``balance >= amount``, the credit only on an existing account,
and the transaction only if that transaction id is new, which is what makes an
Idempotency-Key safe.

The transaction item is the ledger's outbox: it carries its ``TransactionCreated`` and sits
in the sparse ``pending`` index until the sync has applied it. A separate outbox item would
be one more write per transfer, of data the transaction already holds.
"""

from datetime import datetime
from typing import Self

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from wallet.adapters.dynamodb import AtomicWrite, TransactionCancelled, bind_models, commit_with_retry
from wallet.adapters.outbox import OUTBOX_ENTITY, left_pending, pending_items
from wallet.adapters.stored_item import StoredItem
from wallet.domain.customers import CustomerType
from wallet.domain.errors import InsufficientFunds, WalletError
from wallet.domain.ledger import Account, Transaction, TransactionKind, TransactionStatus, debit_refusal
from wallet.events import TransactionCreated
from wallet.service.ports import DuplicateTransaction, NoAccount


class AccountItem(StoredItem):
    customer_type = UnicodeAttribute()
    balance = NumberAttribute()
    opened_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, customer_id: str) -> Self:
        return cls(pk=f"ACCOUNT#{customer_id}", sk="ACCOUNT")

    def to_domain(self) -> Account:
        return Account(
            customer_id=self.pk.removeprefix("ACCOUNT#"),
            customer_type=CustomerType(self.customer_type),
            balance=int(self.balance),
        )


class TransactionItem(StoredItem):
    kind = UnicodeAttribute()
    payer_id = UnicodeAttribute(null=True)
    payee_id = UnicodeAttribute()
    amount = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    request_fingerprint = UnicodeAttribute()
    # Its TransactionCreated (the event contract, as a consumer reads it), and when it was applied.
    event_id = UnicodeAttribute()
    payload = UnicodeAttribute()
    event_processed_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, transaction_id: str) -> Self:
        return cls(pk=f"TRANSACTION#{transaction_id}", sk="TRANSACTION")

    @classmethod
    def announced(cls, transaction: Transaction, event: TransactionCreated) -> Self:
        """The transaction with its event, pending until a consumer has applied it."""
        item = cls.key(transaction.id)
        item.entity = "transaction"
        item.kind = transaction.kind.value
        item.payer_id = transaction.payer_id
        item.payee_id = transaction.payee_id
        item.amount = transaction.amount
        item.status = transaction.status.value
        item.created_at = transaction.created_at
        item.request_fingerprint = transaction.request_fingerprint
        item.event_id = event.event_id
        item.payload = event.model_dump_json()
        item.mark_pending(OUTBOX_ENTITY, event.event_id, event.occurred_at)
        return item

    def to_domain(self) -> Transaction:
        return Transaction(
            id=self.pk.removeprefix("TRANSACTION#"),
            kind=TransactionKind(self.kind),
            payer_id=self.payer_id,
            payee_id=self.payee_id,
            amount=int(self.amount),
            status=TransactionStatus(self.status),
            created_at=self.created_at,
            request_fingerprint=self.request_fingerprint,
        )

    def event(self) -> TransactionCreated:
        return TransactionCreated.model_validate_json(self.payload)


def _debit_refusal(payer_id: str, amount: int, cancelled: TransactionCancelled) -> WalletError:
    old = cancelled.old_items.get("debit")
    if old is None:
        return NoAccount(payer_id)
    refusal = debit_refusal(AccountItem.from_raw_data(old).to_domain(), amount)
    # DynamoDB returns the very item whose condition failed, so it does break a rule.
    return refusal or InsufficientFunds("the payer's balance is lower than the value")


LEDGER_MODELS = (AccountItem, TransactionItem)


class LedgerStore:
    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._connection = bind_models(LEDGER_MODELS, table_name, host)

    def account(self, customer_id: str) -> Account | None:
        try:
            key = AccountItem.key(customer_id)
            return AccountItem.get(key.pk, key.sk, consistent_read=True).to_domain()
        except AccountItem.DoesNotExist:
            return None

    def transaction(self, transaction_id: str) -> Transaction | None:
        try:
            key = TransactionItem.key(transaction_id)
            item = TransactionItem.get(key.pk, key.sk, consistent_read=True)
        except TransactionItem.DoesNotExist:
            return None
        return item.to_domain()

    def open_account(self, customer_id: str, customer_type: CustomerType, now: datetime) -> bool:
        """Open the account with a zero balance; False if it was already open (a replay)."""
        item = AccountItem.key(customer_id)
        item.entity = "account"
        item.customer_type = customer_type.value
        item.balance = 0
        item.opened_at = now
        try:
            item.save(condition=AccountItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record(self, transaction: Transaction, event: TransactionCreated) -> None:
        """Move the money, record the transaction and its event: all or nothing, in ONE request.

        The conditions are the checks: nothing is read first. Raises DuplicateTransaction for
        a replay, NoAccount, or the rule the payer's account broke (InsufficientFunds,
        MerchantCannotSend), named from the account as the write saw it.
        """
        try:
            commit_with_retry(self._movement(transaction, event), self._connection)
        except TransactionCancelled as cancelled:
            if "transaction" in cancelled.failed:
                raise DuplicateTransaction(transaction.id) from cancelled
            if "debit" in cancelled.failed and transaction.payer_id is not None:
                raise _debit_refusal(transaction.payer_id, transaction.amount, cancelled) from cancelled
            raise NoAccount(transaction.payee_id) from cancelled

    def _movement(self, transaction: Transaction, event: TransactionCreated) -> AtomicWrite:
        amount = transaction.amount
        movement = AtomicWrite()
        if transaction.payer_id is not None:
            # domain.ledger.debit_refusal's rules, enforced atomically with the debit.
            movement.update(
                "debit",
                AccountItem.key(transaction.payer_id),
                [AccountItem.balance.add(-amount)],
                condition=AccountItem.pk.exists()
                & (AccountItem.customer_type == CustomerType.INDIVIDUAL.value)
                & (AccountItem.balance >= amount),
                old_item_on_failure=True,
            )
        movement.update(
            "credit",
            AccountItem.key(transaction.payee_id),
            [AccountItem.balance.add(amount)],
            condition=AccountItem.pk.exists(),
        )
        movement.put(
            "transaction", TransactionItem.announced(transaction, event), TransactionItem.pk.does_not_exist()
        )
        return movement

    def pending_events(
        self, older_than: datetime, limit: int = 100, since: str | None = None
    ) -> list[TransactionItem]:
        return pending_items(TransactionItem, OUTBOX_ENTITY, older_than, limit, since)

    def mark_event_processed(self, event: TransactionCreated, now: datetime) -> None:
        """Idempotent: marking an already processed event again changes nothing that matters."""
        TransactionItem.key(event.transaction_id).update(
            actions=[TransactionItem.event_processed_at.set(now), *left_pending(TransactionItem)],
            condition=TransactionItem.pk.exists(),
        )
