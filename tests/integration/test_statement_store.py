"""Statement entries on both engines: written once per transaction, read back with the
profiles a notification needs in one request."""

from datetime import UTC, datetime

from tests.integration.conftest import Stores
from wallet.adapters.statement_store import StatementStore
from wallet.domain.customers import Customer
from wallet.domain.ledger import TransactionKind
from wallet.domain.statements import StatementEntry, statement_entries

WHEN = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def _store(stores: Stores) -> StatementStore:
    return StatementStore(stores.tables.customers, host=stores.tables.endpoint)


def _transfer(transaction_id: str, payer: Customer, payee: Customer, amount: int) -> list[StatementEntry]:
    """The payer's debit and the payee's credit."""
    return statement_entries(
        transaction_id=transaction_id,
        kind=TransactionKind.TRANSFER,
        payer_id=payer.id,
        payee_id=payee.id,
        amount=amount,
        occurred_at=WHEN,
    )


def test_writing_the_entries_of_a_transaction_again_changes_neither_statement(stores: Stores) -> None:
    payer, payee = stores.register(), stores.register()
    [debit, credit] = _transfer("t-1", payer, payee, 1_000)
    statements = _store(stores)

    statements.record([debit, credit], WHEN)
    statements.record([debit, credit], WHEN)

    assert statements.page(payer.id, limit=10, cursor=None).entries == [debit]
    assert statements.page(payee.id, limit=10, cursor=None).entries == [credit]


def test_an_entry_and_its_profiles_come_back_in_one_read(stores: Stores) -> None:
    payer, payee = stores.register(), stores.register()
    [debit, credit] = _transfer("t-2", payer, payee, 2_550)
    statements = _store(stores)
    statements.record([debit, credit], WHEN)

    entry, profiles = statements.entry_with_profiles(
        payee.id, WHEN, "t-2", [payee.id, payer.id, payee.id, "no-such-customer"]
    )

    assert entry == credit
    assert profiles == {payer.id: stores.customers.get(payer.id), payee.id: stores.customers.get(payee.id)}


def test_an_entry_never_written_reads_as_none(stores: Stores) -> None:
    payee = stores.register()

    entry, profiles = _store(stores).entry_with_profiles(payee.id, WHEN, "never-written", [payee.id])

    assert entry is None
    assert set(profiles) == {payee.id}
